// Pure parsing of SHOW [RAW] IMPORT JOB(S) rows by column name, for every known layout
// (13, 20 and 21 columns, RAW) and anything newer: unknown columns are kept in `extra`.
import type { ImportJobLayout, ImportJobRow } from './types.js';

const KNOWN: Record<string, true> = Object.fromEntries(
  [
    'job_id',
    'group_key',
    'data_source',
    'target_table',
    'table_id',
    'phase',
    'status',
    'source_file_size',
    'imported_rows',
    'result_message',
    'create_time',
    'start_time',
    'end_time',
    'created_by',
    'last_update_time',
    'cur_step',
    'cur_step_processed_size',
    'cur_step_total_size',
    'cur_step_progress_pct',
    'cur_step_speed',
    'cur_step_eta',
    'raw_stats',
  ].map((k) => [k, true]),
);

const UNITS: Record<string, number> = {
  b: 1,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
  pib: 1024 ** 5,
  eib: 1024 ** 6,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  pb: 1e15,
  eb: 1e18,
};

/** Plain assignment would treat a column named '__proto__' specially. */
function put(o: Record<string, unknown>, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

function text(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  if (v instanceof Date) return formatDate(v);
  return String(v);
}

function num(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'bigint') return Number(v);
  const s = text(v)?.trim();
  if (!s || !/^[-+]?\d+(\.\d+)?$/.test(s)) return null;
  return Number(s);
}

/** '16B', '1.192KiB', '11GB', '277.5 GiB' → bytes; '12 conflicts', '' or junk → null. */
export function parseSize(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  const s = text(v)?.trim();
  if (!s) return null;
  const m = /^(\d+(?:\.\d+)?)(?:e([+-]?\d+))?\s*([A-Za-z]+)?$/.exec(s);
  if (!m) return null;
  const unit = UNITS[(m[3] ?? 'b').toLowerCase()];
  if (unit === undefined) return null;
  return Number(m[1]) * 10 ** Number(m[2] ?? 0) * unit;
}

/** '10.96MB/s' → bytes per second; conflict speeds and junk → null. */
export function parseSpeed(v: unknown): number | null {
  const s = text(v)?.trim();
  if (!s || !s.endsWith('/s')) return null;
  return parseSize(s.slice(0, -2));
}

/** 'HH:MM:SS' (hours may exceed 24) → seconds. */
export function parseHms(v: unknown): number | null {
  const s = text(v)?.trim();
  const m = s ? /^(\d+):([0-5]?\d):([0-5]?\d)$/.exec(s) : null;
  return m ? Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) : null;
}

function pct(v: unknown): number | null {
  const s = text(v)?.trim().replace(/%$/, '');
  const n = num(s);
  return n === null ? null : Math.min(100, Math.max(0, n));
}

const p2 = (n: number): string => String(n).padStart(2, '0');

/** A mysql2 Date holds the server's wall-clock fields in the client's local zone; read them back. */
function formatDate(d: Date): string {
  if (Number.isNaN(d.getTime())) return '';
  const ms = d.getMilliseconds();
  return (
    `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())} ` +
    `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}` +
    (ms ? `.${String(ms).padStart(3, '0')}000` : '')
  );
}

/**
 * A server wall-clock time as milliseconds on a zone-less axis (the fields read as if UTC).
 * Two such values from the same session subtract to a true duration, whatever the zone.
 */
export function wallMs(v: unknown): number | null {
  const s = v instanceof Date ? formatDate(v) : text(v);
  if (!s) return null;
  const m = /^(\d{4})-(\d\d)-(\d\d)[ T](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?$/.exec(s.trim());
  if (!m) return null;
  const frac = m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
  return Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], frac);
}

/** Inverse of wallMs: 'YYYY-MM-DD HH:MM:SS' (with '.ffffff' when `fraction`). */
export function formatWall(ms: number, fraction = false): string {
  const d = new Date(ms);
  const base =
    `${d.getUTCFullYear()}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())} ` +
    `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
  return fraction ? `${base}.${String(d.getUTCMilliseconds()).padStart(3, '0')}000` : base;
}

function normaliseStatus(s: string | null): string {
  const v = (s ?? '').trim().toLowerCase();
  return v === 'canceled' ? 'cancelled' : v;
}

export interface ParseOptions {
  /**
   * Session zone offset from UTC in ms, used only to turn RAW's unix times into
   * session wall-clock strings like the other layouts'. Default 0.
   */
  tzOffsetMs?: number;
}

/**
 * Parses one row by column name (case-insensitive). Returns null when the row has no
 * usable Job_ID. Never throws.
 */
export function parseImportJobRow(
  row: Record<string, unknown>,
  opts: ParseOptions = {},
): ImportJobRow | null {
  if (row === null || typeof row !== 'object') return null;
  const cols: Record<string, unknown> = {};
  const extra: Record<string, unknown> = {};
  for (const key of Object.keys(row)) {
    const k = key.toLowerCase();
    if (KNOWN[k] === true) cols[k] = row[key];
    else put(extra, key, row[key]);
  }
  const id = num(cols.job_id);
  if (id === null || !Number.isInteger(id)) return null;
  if ('raw_stats' in cols) return parseRaw(id, cols, extra, opts.tzOffsetMs ?? 0);
  const layout: ImportJobLayout =
    'group_key' in cols && 'cur_step' in cols
      ? 'L3'
      : 'cur_step' in cols
        ? 'L2'
        : 'status' in cols && 'phase' in cols
          ? 'L1'
          : 'unknown';
  const processed = parseSize(cols.cur_step_processed_size);
  const total = parseSize(cols.cur_step_total_size);
  return {
    id,
    layout,
    groupKey: text(cols.group_key),
    dataSource: text(cols.data_source),
    targetTable: text(cols.target_table),
    tableId: num(cols.table_id),
    phase: (text(cols.phase) ?? '').trim(),
    status: normaliseStatus(text(cols.status)),
    sourceFileSize: text(cols.source_file_size),
    sourceFileBytes: parseSize(cols.source_file_size),
    importedRows: num(cols.imported_rows),
    resultMessage: text(cols.result_message) ?? '',
    createTime: text(cols.create_time),
    startTime: text(cols.start_time),
    endTime: text(cols.end_time),
    lastUpdateTime: text(cols.last_update_time),
    createdBy: text(cols.created_by),
    curStep: text(cols.cur_step),
    curStepProcessedBytes: processed,
    curStepTotalBytes: total,
    curStepProgressPct: pct(cols.cur_step_progress_pct),
    curStepSpeedBytesPerSec: parseSpeed(cols.cur_step_speed),
    curStepEtaSeconds: parseHms(cols.cur_step_eta),
    extra,
  };
}

function parseRaw(
  id: number,
  cols: Record<string, unknown>,
  extra: Record<string, unknown>,
  tzOffsetMs: number,
): ImportJobRow {
  let stats: Record<string, unknown> = {};
  const raw = cols.raw_stats;
  try {
    const v =
      typeof raw === 'object' && raw !== null && !Buffer.isBuffer(raw) ? raw : JSON.parse(text(raw) ?? '{}');
    if (v && typeof v === 'object' && !Array.isArray(v)) stats = v as Record<string, unknown>;
  } catch {
    put(extra, 'Raw_Stats', raw);
  }
  const step = (
    stats.current_step && typeof stats.current_step === 'object' ? stats.current_step : {}
  ) as Record<string, unknown>;
  const unix = (v: unknown): string | null => {
    const n = num(v);
    return n === null ? null : formatWall(n * 1000 + tzOffsetMs, true);
  };
  const processed = num(step.processed_bytes);
  const total = num(step.total_bytes);
  const size = num(stats.source_file_size_bytes);
  for (const k of Object.keys(stats)) if (!RAW_KNOWN.has(k)) put(extra, k, stats[k]);
  return {
    id,
    layout: 'RAW',
    groupKey: text(cols.group_key) ?? text(stats.group_key),
    dataSource: text(stats.data_source),
    targetTable: text(stats.target_table),
    tableId: num(stats.table_id),
    phase: (text(stats.phase) ?? '').trim(),
    status: normaliseStatus(text(stats.status)),
    sourceFileSize: size === null ? null : `${size}B`,
    sourceFileBytes: size,
    importedRows: num(stats.imported_rows),
    resultMessage: text(stats.error_message) ?? '',
    createTime: unix(stats.create_time_unix),
    startTime: unix(stats.start_time_unix),
    endTime: unix(stats.end_time_unix),
    lastUpdateTime: unix(stats.update_time_unix),
    createdBy: text(stats.created_by),
    curStep: text(step.name),
    curStepProcessedBytes: processed,
    curStepTotalBytes: total,
    curStepProgressPct: processed !== null && total ? Math.min(100, (processed * 100) / total) : null,
    curStepSpeedBytesPerSec: num(step.speed_bytes_per_sec),
    curStepEtaSeconds: num(step.remaining_seconds),
    extra,
  };
}

const RAW_KNOWN = new Set([
  'job_id',
  'group_key',
  'data_source',
  'target_table',
  'table_id',
  'phase',
  'status',
  'source_file_size_bytes',
  'imported_rows',
  'error_message',
  'current_step',
  'create_time_unix',
  'start_time_unix',
  'end_time_unix',
  'update_time_unix',
  'created_by',
]);
