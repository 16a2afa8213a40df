// Import jobs in a machine's StateContext: an ImportJobMonitor bound to
// ctx.connection, and the snapshot of the last poll that handlers read
// (ctx.customData 'importJobs'; Python sees its rows as context.import_jobs).
import type { ColumnInfo, Connection } from '../db/connection.js';
import type { StateContext } from '../machine/context.js';
import { mirrorCustomData } from '../python/context-mirror.js';
import { ImportJobMonitor, sameRow, type MonitorOptions } from './monitor.js';
import type { QueryRunner, TrackedJob } from './types.js';

/** The ctx.customData key holding the ImportJobsSnapshot. */
export const IMPORT_JOBS_KEY = 'importJobs';

/** What the last `SHOW IMPORT JOBS` poll returned, parsed and raw. Replaced (never mutated) when the rows change. */
export interface ImportJobsSnapshot {
  /** The poll these rows came from (1-based, per monitor). */
  readonly poll: number;
  /** The jobs of the poll's rows, in row order. The objects are the monitor's: elapsed/ETA keep moving. */
  readonly jobs: readonly TrackedJob[];
  /** The jobs not ended (status not finished/failed/cancelled). */
  readonly active: readonly TrackedJob[];
  /** The statement's columns (names and mysql2 type codes). */
  readonly columns: readonly Pick<ColumnInfo, 'name' | 'type'>[];
  /** The rows as the connection returned them, keyed by column name. */
  readonly rows: readonly Record<string, unknown>[];
}

/** The jobs of the last poll in this context, if a monitor state (or publishImportJobs) put them there. */
export function importJobsOf(ctx: StateContext): ImportJobsSnapshot | undefined {
  return ctx.customData.get<ImportJobsSnapshot>(IMPORT_JOBS_KEY);
}

/** Puts a snapshot in the context (what the monitor states do after each poll). */
export function setImportJobs(ctx: StateContext, snapshot: ImportJobsSnapshot): void {
  ctx.customData.set(IMPORT_JOBS_KEY, snapshot);
}

// Python sees the snapshot as context.import_jobs: columns and array rows, made into dicts by
// Python (as execute_query's rows). The monitor states replace it only when the rows change.
mirrorCustomData('import_jobs', {
  read: (ctx) => importJobsOf(ctx),
  customDataKey: IMPORT_JOBS_KEY,
  toPython: (value) => {
    const snapshot = value as ImportJobsSnapshot | undefined;
    if (!snapshot) return null;
    const names = snapshot.columns.map((col) => col.name);
    return {
      columns: snapshot.columns.map((col) => [col.name, col.type]),
      rows: snapshot.rows.map((row) => names.map((n) => row[n])),
    };
  },
});

/** A QueryRunner over a test-rig Connection that keeps the last result (columns and all). */
export class CapturingRunner implements QueryRunner {
  columns: readonly Pick<ColumnInfo, 'name' | 'type'>[] = [];
  rows: Record<string, unknown>[] = [];

  readonly #signal: (() => AbortSignal | undefined) | undefined;

  constructor(
    readonly connection: Connection,
    signal?: () => AbortSignal | undefined,
  ) {
    this.#signal = signal;
  }

  async query(sql: string): Promise<{ rows: Record<string, unknown>[] }> {
    const r = await this.connection.query(sql, undefined, { signal: this.#signal?.() });
    const rows = r.rows as Record<string, unknown>[];
    this.columns = r.columns;
    this.rows = rows;
    return { rows };
  }
}

/** A monitor polling on ctx.connection, shared by every state of one context. */
export interface ContextMonitor {
  readonly monitor: ImportJobMonitor;
  readonly runner: CapturingRunner;
}

const bound = new WeakMap<StateContext, ContextMonitor>();

/**
 * The monitor bound to ctx.connection (made on first use, re-made when the connection
 * changes). Its tracked jobs carry over between states, so jobs created later are found.
 */
export function contextMonitor(ctx: StateContext, options: MonitorOptions = {}): ContextMonitor {
  const conn = ctx.connection;
  if (!conn) throw new Error('no connection (the Connecting state did not run)');
  const existing = bound.get(ctx);
  if (existing && existing.runner.connection === conn) return existing;
  const runner = new CapturingRunner(conn, () => ctx.signal);
  const made = { monitor: new ImportJobMonitor(runner, options), runner };
  bound.set(ctx, made);
  return made;
}

/** One poll through the context's monitor; publishes a new snapshot when the rows changed. */
export async function pollImportJobs(
  ctx: StateContext,
  options: MonitorOptions = {},
): Promise<ImportJobsSnapshot> {
  const { monitor, runner } = contextMonitor(ctx, options);
  await monitor.pollOnce();
  return publishImportJobs(ctx, monitor, runner);
}

/** Publishes the runner's last rows as the context's snapshot, unless they equal the current one's. */
export function publishImportJobs(
  ctx: StateContext,
  monitor: ImportJobMonitor,
  runner: Pick<CapturingRunner, 'columns' | 'rows'>,
): ImportJobsSnapshot {
  const current = importJobsOf(ctx);
  const rows = runner.rows;
  if (current && sameRows(current.rows, rows)) return current;
  const jobs: TrackedJob[] = [];
  for (const row of rows) {
    const job = monitor.jobs.get(Number(jobIdOf(row)));
    if (job) jobs.push(job);
  }
  const snapshot: ImportJobsSnapshot = {
    poll: monitor.pollCount,
    jobs,
    active: jobs.filter((j) => !j.ended),
    columns: runner.columns,
    rows,
  };
  setImportJobs(ctx, snapshot);
  return snapshot;
}

function jobIdOf(row: Record<string, unknown>): unknown {
  if ('Job_ID' in row) return row.Job_ID;
  for (const k in row) if (k.toLowerCase() === 'job_id') return row[k];
  return undefined;
}

function sameRows(a: readonly Record<string, unknown>[], b: readonly Record<string, unknown>[]): boolean {
  return a === b || (a.length === b.length && a.every((row, i) => sameRow(row, b[i])));
}
