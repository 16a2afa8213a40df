// Output formats of the monitor: a live ANSI table for terminals, plain lines compatible
// with the old Rust job_monitor, and JSON lines (schema in docs/monitor.md).
import type { TrackedJob } from './types.js';

/** Colour only on a TTY, and never when NO_COLOR is set to a non-empty value (no-color.org). */
export function shouldUseColor(isTTY: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  return isTTY && !env.NO_COLOR;
}

/** Seconds → 'HH:MM:SS' (hours grow past 99); null → '--:--:--'. */
export function formatHms(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '--:--:--';
  const s = Math.max(0, Math.floor(seconds));
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${p(Math.floor(s / 3600))}:${p(Math.floor(s / 60) % 60)}:${p(s % 60)}`;
}

/** Server time without the fraction, as the old tool printed it ('%Y-%m-%d %H:%M:%S'). */
function seconds(t: string | null): string {
  return t ? t.replace(/\.\d+$/, '') : 'N/A';
}

// ---------------------------------------------------------------- plain lines

/** `--- Import Job Status Update (Ns remaining) ---`; without a duration the parenthesis is omitted. */
export function plainHeader(remainingSeconds: number | null): string {
  return remainingSeconds === null
    ? '--- Import Job Status Update ---'
    : `--- Import Job Status Update (${Math.max(0, Math.ceil(remainingSeconds))}s remaining) ---`;
}

/**
 * One job as the old tool printed it. Running/pending:
 * `Job_ID: 1 | Phase: importing | Start_Time: … | Source_File_Size: … | Imported_Rows: … | Time elapsed: HH:MM:SS`
 * Ended (with the real status, never "Completed" for a failed job):
 * `Job_ID: 1 | Status: failed | End_Time: … | Result_Message: …`
 */
export function plainJobLine(job: TrackedJob): string {
  if (job.ended) {
    return (
      `Job_ID: ${job.id} | Status: ${job.status} | End_Time: ${seconds(job.endTime)} | ` +
      `Result_Message: ${oneLine(job.resultMessage)}`
    );
  }
  return (
    `Job_ID: ${job.id} | Phase: ${job.phase || job.status} | Start_Time: ${seconds(job.startTime)} | ` +
    `Source_File_Size: ${job.sourceFileSize ?? 'N/A'} | Imported_Rows: ${job.importedRows ?? 0} | ` +
    `Time elapsed: ${formatHms(job.elapsedSeconds ?? 0)}`
  );
}

function oneLine(s: string): string {
  return s.replace(/\s*[\r\n]+\s*/g, ' ');
}

// ---------------------------------------------------------------- JSON lines

/** The `job` object of a JSON line (snake_case; see docs/monitor.md). */
export interface JsonJob {
  id: number;
  layout: string;
  group_key: string | null;
  data_source: string | null;
  target_table: string | null;
  table_id: number | null;
  phase: string;
  status: string;
  source_file_size: string | null;
  source_file_bytes: number | null;
  imported_rows: number | null;
  result_message: string;
  create_time: string | null;
  start_time: string | null;
  end_time: string | null;
  last_update_time: string | null;
  created_by: string | null;
  cur_step: string | null;
  progress_pct: number | null;
  rows_per_second: number | null;
  elapsed_seconds: number | null;
  eta_seconds: number | null;
  historical: boolean;
  extra: Record<string, unknown>;
}

const round = (n: number | null, digits = 3): number | null =>
  n === null ? null : Math.round(n * 10 ** digits) / 10 ** digits;

export function jobToJson(j: TrackedJob): JsonJob {
  return {
    id: j.id,
    layout: j.layout,
    group_key: j.groupKey,
    data_source: j.dataSource,
    target_table: j.targetTable,
    table_id: j.tableId,
    phase: j.phase,
    status: j.status,
    source_file_size: j.sourceFileSize,
    source_file_bytes: j.sourceFileBytes,
    imported_rows: j.importedRows,
    result_message: j.resultMessage,
    create_time: j.createTime,
    start_time: j.startTime,
    end_time: j.endTime,
    last_update_time: j.lastUpdateTime,
    created_by: j.createdBy,
    cur_step: j.curStep,
    progress_pct: round(j.progressPct, 2),
    rows_per_second: round(j.rowsPerSecond),
    elapsed_seconds: round(j.elapsedSeconds),
    eta_seconds: round(j.etaSeconds),
    historical: j.historical,
    extra: j.extra,
  };
}

export type JsonEventName =
  'start' | 'discovered' | 'phase' | 'progress' | 'finished' | 'failed' | 'cancelled' | 'error' | 'summary';

/** One JSON line: `{"event", "time", "server_time", …fields}` plus a newline. */
export function jsonLine(event: JsonEventName, serverTime: string, fields: Record<string, unknown>): string {
  return (
    JSON.stringify(
      { event, time: new Date().toISOString(), server_time: serverTime, ...fields },
      (_k, v: unknown) =>
        typeof v === 'bigint' ? v.toString() : Buffer.isBuffer(v) ? v.toString('utf8') : v,
    ) + '\n'
  );
}

// ---------------------------------------------------------------- live table

const ANSI = {
  reset: '\x1b[0m',
  bold: '\x1b[1m',
  dim: '\x1b[2m',
  red: '\x1b[31m',
  green: '\x1b[32m',
  yellow: '\x1b[33m',
  cyan: '\x1b[36m',
};

function statusColour(status: string): string {
  if (status === 'finished') return ANSI.green;
  if (status === 'failed') return ANSI.red;
  if (status === 'cancelled') return ANSI.yellow;
  if (status === 'running') return ANSI.cyan;
  return ANSI.dim;
}

export function progressBar(pct: number | null, width = 20): string {
  if (pct === null) return '·'.repeat(width);
  const filled = Math.round((Math.min(100, Math.max(0, pct)) / 100) * width);
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}

function compact(n: number | null): string {
  if (n === null) return '-';
  if (n >= 1e9) return `${(n / 1e9).toFixed(1)}G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}k`;
  return String(Math.round(n));
}

function cell(s: string, w: number): string {
  return s.length > w ? s.slice(0, w - 1) + '…' : s.padEnd(w);
}

const HEAD = ['ID', 'TABLE', 'PHASE', 'STATUS', 'PROGRESS', '', 'ROWS', 'ROWS/S', 'ELAPSED', 'ETA'];
const WIDTH = [6, 24, 12, 10, 20, 5, 9, 8, 9, 9];

/** The table's lines for a set of jobs (no cursor movement; LiveTable adds that). */
export function tableLines(jobs: Iterable<TrackedJob>, header: string, colour: boolean): string[] {
  const paint = (code: string, s: string): string => (colour ? code + s + ANSI.reset : s);
  const lines = [paint(ANSI.bold, header), paint(ANSI.bold, HEAD.map((h, i) => cell(h, WIDTH[i])).join(' '))];
  const messages: string[] = [];
  for (const j of jobs) {
    if (j.historical) continue;
    const pct = j.progressPct;
    const cells = [
      String(j.id),
      j.targetTable ?? '',
      j.phase || '-',
      j.status,
      progressBar(pct),
      pct === null ? '' : `${Math.floor(pct)}%`,
      compact(j.importedRows),
      compact(j.rowsPerSecond),
      formatHms(j.elapsedSeconds),
      j.ended ? '' : formatHms(j.etaSeconds),
    ].map((c, i) => cell(c, WIDTH[i]));
    cells[3] = paint(statusColour(j.status), cells[3]);
    lines.push(cells.join(' ').trimEnd());
    if (j.resultMessage && (j.status === 'failed' || j.status === 'cancelled')) {
      messages.push(paint(statusColour(j.status), `  job ${j.id} ${j.status}: ${oneLine(j.resultMessage)}`));
    }
  }
  return lines.concat(messages);
}

/** Redraws the table in place: moves the cursor up over the previous frame and overwrites it. */
export class LiveTable {
  private lastLines = 0;

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly colour: boolean,
  ) {}

  draw(jobs: Iterable<TrackedJob>, header: string): void {
    const lines = tableLines(jobs, header, this.colour);
    let s = this.lastLines > 0 ? `\x1b[${this.lastLines}F` : '';
    for (const l of lines) s += `\x1b[2K${l}\n`;
    s += '\x1b[J'; // clear anything left from a taller previous frame
    this.lastLines = lines.length;
    this.out.write(s);
  }
}
