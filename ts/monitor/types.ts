// Shared types of the import-job monitor.

/**
 * The minimal query interface the monitor needs. `ts/db/connection.ts`'s Connection
 * satisfies it; `fromMysql2()` adapts a raw mysql2/promise connection.
 * Times may come back as strings ('YYYY-MM-DD HH:MM:SS[.ffffff]', preferred) or as
 * mysql2-style Dates built in the client's local zone.
 */
export interface QueryRunner {
  query(sql: string): Promise<{ rows: Record<string, unknown>[] }>;
}

/**
 * Which SHOW IMPORT JOBS shape a row came from, told apart by its columns (parse.ts):
 * L1 status and phase only, L2 with Cur_Step, L3 with Cur_Step and Group_Key, RAW from
 * SHOW RAW IMPORT JOBS (Raw_Stats).
 */
export type ImportJobLayout = 'L1' | 'L2' | 'L3' | 'RAW' | 'unknown';

/** One row of SHOW [RAW] IMPORT JOB(S), parsed by column name. */
export interface ImportJobRow {
  id: number;
  layout: ImportJobLayout;
  groupKey: string | null;
  dataSource: string | null;
  targetTable: string | null;
  tableId: number | null;
  /** '' while pending and after the job ended. */
  phase: string;
  /** Lower-case; 'canceled' is normalised to 'cancelled'. */
  status: string;
  /** As the server printed it, e.g. '16B', '1.192KiB'. */
  sourceFileSize: string | null;
  sourceFileBytes: number | null;
  importedRows: number | null;
  resultMessage: string;
  /** Server times as 'YYYY-MM-DD HH:MM:SS[.ffffff]' in the session time zone. */
  createTime: string | null;
  startTime: string | null;
  endTime: string | null;
  lastUpdateTime: string | null;
  createdBy: string | null;
  curStep: string | null;
  curStepProcessedBytes: number | null;
  curStepTotalBytes: number | null;
  curStepProgressPct: number | null;
  curStepSpeedBytesPerSec: number | null;
  curStepEtaSeconds: number | null;
  /** Columns the parser does not know, kept verbatim under their own names. */
  extra: Record<string, unknown>;
}

export const TERMINAL_STATUSES: ReadonlySet<string> = new Set(['finished', 'failed', 'cancelled']);

/** A job the monitor tracks: the last row seen plus figures derived from server times. */
export interface TrackedJob extends ImportJobRow {
  /** Already ended when the monitor first looked (not counted for the exit code). */
  historical: boolean;
  ended: boolean;
  /** 0–100, or null when the layout gives no basis for it. */
  progressPct: number | null;
  rowsPerSecond: number | null;
  /** Server-side elapsed time: (server now or End_Time) − Start_Time. */
  elapsedSeconds: number | null;
  etaSeconds: number | null;
  /** Poll number on which the job was first seen. */
  firstSeenPoll: number;
}
