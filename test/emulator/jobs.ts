// The emulator's import jobs: state kept the way TiDB's mysql.tidb_import_jobs keeps it,
// a background loader that inserts the file into MariaDB chunk by chunk at a
// configurable speed, and rendering of a job as a SHOW IMPORT JOB(S) row in each layout.
import { readFile } from 'node:fs/promises';
import type mysql from 'mysql2/promise';
import { readRecords, type CsvOptions } from './csv.js';
import { bytesSize, hms, humanSize, timestampIn } from './format.js';
import { ColumnType, Flags, type ColumnDef } from './protocol.js';

export type Layout = 13 | 20 | 21;
export type JobStatus = 'pending' | 'running' | 'finished' | 'failed' | 'cancelled';
export type JobPhase = '' | 'importing' | 'validating';

/** Runtime-adjustable knobs (tests flip them between cases). */
export interface EmulatorSettings {
  version: string;
  layout: Layout;
  /** 0 = as fast as MariaDB takes it. */
  rowsPerSecond: number;
  chunkRows: number;
  /** Extra sleep after every chunk, on top of the rowsPerSecond pacing. */
  chunkDelayMs: number;
  /** Time a job sits in `pending` before it starts. */
  pendingMs: number;
  /** Time spent in the `validating` phase. */
  validatingMs: number;
  /** TiDB's DXF runs at most 16 import tasks at once; the rest stay pending. */
  maxRunning: number;
}

export interface JobParams {
  schema: string;
  table: string;
  tableId: number;
  columns: string[];
  file: string;
  fileSize: number;
  csv: CsvOptions;
  skipRows: number;
  createdBy: string;
  groupKey: string;
  timeZone: string;
}

export class ImportJob {
  phase: JobPhase = '';
  status: JobStatus = 'pending';
  importedRows: number | null = null;
  resultMessage = '';
  readonly createTime = Date.now();
  startTime: number | null = null;
  endTime: number | null = null;
  lastUpdateTime = this.createTime;
  curStep: string | null = null;
  stepStart = 0;
  processedBytes = 0;
  cancelRequested = false;
  /** Resolves when the job reaches a terminal status. */
  readonly done: Promise<void>;
  private resolveDone!: () => void;

  constructor(
    readonly id: number,
    readonly params: JobParams,
  ) {
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  get ended(): boolean {
    return this.status === 'finished' || this.status === 'failed' || this.status === 'cancelled';
  }

  end(status: 'finished' | 'failed' | 'cancelled', message = ''): void {
    if (this.ended) return;
    this.status = status;
    this.phase = '';
    this.curStep = null;
    this.resultMessage = message;
    this.endTime = this.lastUpdateTime = Date.now();
    this.resolveDone();
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export type BackendFactory = (database: string, timeZone: string) => Promise<mysql.Connection>;

/** Holds every job ever created, and runs them. */
export class JobRegistry {
  readonly jobs = new Map<number, ImportJob>();
  private nextId = 1;
  private running = 0;
  private waiters: (() => void)[] = [];
  private closed = false;

  constructor(
    readonly settings: EmulatorSettings,
    private readonly openBackend: BackendFactory,
  ) {}

  create(params: JobParams): ImportJob {
    const job = new ImportJob(this.nextId++, params);
    this.jobs.set(job.id, job);
    void this.run(job);
    return job;
  }

  /** Asks every live job to stop and waits for them (used on shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    for (const j of this.jobs.values()) if (!j.ended) j.cancelRequested = true;
    await Promise.all([...this.jobs.values()].map((j) => j.done));
  }

  private async acquire(job: ImportJob): Promise<boolean> {
    while (this.running >= this.settings.maxRunning) {
      await new Promise<void>((r) => this.waiters.push(r));
      if (job.cancelRequested || job.ended) return false;
    }
    this.running++;
    return true;
  }

  private release(): void {
    this.running--;
    this.waiters.shift()?.();
  }

  /** CANCEL IMPORT JOB: a pending job ends at once, a running one at its next chunk. */
  cancel(job: ImportJob): void {
    job.cancelRequested = true;
    if (job.status === 'pending') {
      job.end('cancelled', 'cancelled by user');
      // Wake queued jobs so a cancelled waiter leaves the queue.
      for (const w of this.waiters.splice(0)) w();
    }
  }

  private async run(job: ImportJob): Promise<void> {
    const s = this.settings;
    if (s.pendingMs > 0) await sleep(s.pendingMs);
    if (job.ended) return;
    if (job.cancelRequested || this.closed) return job.end('cancelled', 'cancelled by user');
    if (!(await this.acquire(job))) return job.end('cancelled', 'cancelled by user');
    let conn: mysql.Connection | null = null;
    try {
      job.status = 'running';
      job.phase = 'importing';
      job.curStep = 'import';
      job.startTime = job.stepStart = job.lastUpdateTime = Date.now();
      job.importedRows = 0;
      conn = await this.openBackend(job.params.schema, job.params.timeZone);
      const outcome = await this.load(job, conn);
      if (outcome === 'cancelled') return job.end('cancelled', 'cancelled by user');
      job.phase = 'validating';
      job.curStep = 'post-process';
      job.stepStart = job.lastUpdateTime = Date.now();
      if (s.validatingMs > 0) await sleep(s.validatingMs);
      if (job.cancelRequested) return job.end('cancelled', 'cancelled by user');
      const [rows] = await conn.query<mysql.RowDataPacket[]>(
        `SELECT COUNT(*) AS n FROM ${quoteId(job.params.schema)}.${quoteId(job.params.table)}`,
      );
      const n = Number(rows[0].n);
      if (n !== job.importedRows) {
        return job.end('failed', `checksum mismatch: imported ${job.importedRows} rows, table has ${n}`);
      }
      job.end('finished');
    } catch (e) {
      job.end('failed', (e as Error).message);
    } finally {
      this.release();
      if (conn) await conn.end().catch(() => conn?.destroy());
    }
  }

  /** Inserts the file in chunks, pacing to rowsPerSecond; throws a TiDB-style message on bad data. */
  private async load(job: ImportJob, conn: mysql.Connection): Promise<'done' | 'cancelled'> {
    const s = this.settings;
    const p = job.params;
    const text = await readFile(p.file, 'utf8');
    const base = p.file.split('/').pop();
    const insertHead = `INSERT INTO ${quoteId(p.schema)}.${quoteId(p.table)} (${p.columns.map(quoteId).join(', ')}) VALUES `;
    let chunk: (string | null)[][] = [];
    let skipped = 0;
    const t0 = Date.now();
    const flush = async (nextOffset: number): Promise<void> => {
      if (chunk.length === 0) return;
      const placeholders = chunk.map(() => `(${p.columns.map(() => '?').join(', ')})`).join(', ');
      try {
        await conn.query(insertHead + placeholders, chunk.flat());
      } catch (e) {
        throw new Error(
          `[Lightning:Restore:ErrEncodeKV]encode kv error in file ${base} at offset ${job.processedBytes}: ` +
            `${(e as Error).message}`,
        );
      }
      job.importedRows = (job.importedRows ?? 0) + chunk.length;
      job.processedBytes = Math.round((p.fileSize * nextOffset) / Math.max(1, text.length));
      job.lastUpdateTime = Date.now();
      chunk = [];
      // Pace: rowsPerSecond sets where we should be by now; chunkDelayMs adds a fixed pause.
      let wait = s.chunkDelayMs;
      if (s.rowsPerSecond > 0)
        wait += Math.max(0, t0 + (job.importedRows * 1000) / s.rowsPerSecond - Date.now());
      if (wait > 0) await sleep(wait);
    };
    for (const rec of readRecords(text, p.csv)) {
      if (job.cancelRequested) return 'cancelled';
      if (skipped < p.skipRows) {
        skipped++;
        continue;
      }
      if (rec.fields.length !== p.columns.length) {
        await flush(rec.offset);
        throw new Error(
          `[Lightning:Restore:ErrEncodeKV]encode kv error in file ${base} at offset ${rec.offset}: ` +
            `column count mismatch, expected ${p.columns.length}, got ${rec.fields.length} (line ${rec.line})`,
        );
      }
      chunk.push(rec.fields);
      if (chunk.length >= Math.max(1, s.chunkRows)) await flush(rec.offset + 1);
    }
    if (job.cancelRequested) return 'cancelled';
    await flush(text.length);
    job.processedBytes = p.fileSize;
    return 'done';
  }
}

export function quoteId(s: string): string {
  return '`' + s.replace(/`/g, '``') + '`';
}

const str = (name: string): ColumnDef => ({ name, columnType: ColumnType.VAR_STRING });
const ll = (name: string): ColumnDef => ({ name, columnType: ColumnType.LONGLONG, columnLength: 21 });
const ts = (name: string): ColumnDef => ({
  name,
  columnType: ColumnType.TIMESTAMP,
  columnLength: 26,
  decimals: 6,
  flags: Flags.BINARY_FLAG,
});

const L1: ColumnDef[] = [
  ll('Job_ID'),
  str('Data_Source'),
  str('Target_Table'),
  ll('Table_ID'),
  str('Phase'),
  str('Status'),
  str('Source_File_Size'),
  ll('Imported_Rows'),
  str('Result_Message'),
  ts('Create_Time'),
  ts('Start_Time'),
  ts('End_Time'),
  str('Created_By'),
];
const L2_EXTRA: ColumnDef[] = [
  ts('Last_Update_Time'),
  str('Cur_Step'),
  str('Cur_Step_Processed_Size'),
  str('Cur_Step_Total_Size'),
  str('Cur_Step_Progress_Pct'),
  str('Cur_Step_Speed'),
  str('Cur_Step_ETA'),
];

/** Column definitions per layout (peers.md §D.1). */
export const LAYOUT_COLUMNS: Record<Layout | 'raw', ColumnDef[]> = {
  13: L1,
  20: [...L1, ...L2_EXTRA],
  21: [L1[0], str('Group_Key'), ...L1.slice(1), ...L2_EXTRA],
  raw: [ll('Job_ID'), str('Group_Key'), str('Raw_Stats')],
};

type Cell = string | number | null;

function stepFigures(job: ImportJob, now: number) {
  if (job.status !== 'running' || job.curStep === null) return null;
  const total = job.params.fileSize;
  const processed = job.curStep === 'import' ? job.processedBytes : total;
  const secs = Math.max(0.001, (now - job.stepStart) / 1000);
  const speed = processed / secs;
  const pct = total > 0 ? Math.floor((processed * 100) / total) : 100;
  const eta = speed > 0 ? (total - processed) / speed : 0;
  return { total, processed, speed, pct, eta };
}

/** One SHOW IMPORT JOB(S) row, with times rendered `tzOffsetSeconds` east of UTC. */
export function jobRow(job: ImportJob, layout: Layout | 'raw', tzOffsetSeconds: number): Cell[] {
  const now = Date.now();
  const t = (ms: number | null): string | null => (ms === null ? null : timestampIn(ms, tzOffsetSeconds));
  const p = job.params;
  const fig = stepFigures(job, now);
  if (layout === 'raw') {
    const sec = (ms: number | null): number | null => (ms === null ? null : Math.floor(ms / 1000));
    const stats = {
      job_id: job.id,
      group_key: p.groupKey,
      data_source: p.file,
      target_table: `${quoteId(p.schema)}.${quoteId(p.table)}`,
      table_id: p.tableId,
      phase: job.phase,
      status: job.status,
      source_file_size_bytes: p.fileSize,
      imported_rows: job.importedRows,
      error_message: job.resultMessage,
      current_step: fig
        ? {
            name: job.curStep,
            processed_bytes: fig.processed,
            total_bytes: fig.total,
            speed_bytes_per_sec: Math.round(fig.speed),
            remaining_seconds: Math.round(fig.eta),
          }
        : null,
      create_time_unix: sec(job.createTime),
      start_time_unix: sec(job.startTime),
      end_time_unix: sec(job.endTime),
      update_time_unix: sec(job.lastUpdateTime),
      created_by: p.createdBy,
    };
    return [job.id, p.groupKey, JSON.stringify(stats)];
  }
  const l1: Cell[] = [
    job.id,
    p.file,
    `${quoteId(p.schema)}.${quoteId(p.table)}`,
    p.tableId,
    job.phase,
    job.status,
    bytesSize(p.fileSize),
    job.importedRows,
    job.resultMessage,
    t(job.createTime),
    t(job.startTime),
    t(job.endTime),
    p.createdBy,
  ];
  if (layout === 13) return l1;
  const extra: Cell[] = [
    t(job.lastUpdateTime),
    fig ? job.curStep : null,
    fig ? humanSize(fig.processed) : null,
    fig ? humanSize(fig.total) : null,
    fig ? String(fig.pct) : null,
    fig ? `${humanSize(fig.speed)}/s` : null,
    fig ? hms(fig.eta) : null,
  ];
  if (layout === 20) return [...l1, ...extra];
  return [l1[0], p.groupKey, ...l1.slice(1), ...extra];
}
