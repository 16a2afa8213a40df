// Scratch databases and the runs that own them. Every case of a run gets a
// database named `test_rig_run_<run id>_<n>_<class>`, and the run holds the
// server lock `test_rig_run_<run id>` (GET_LOCK) on its admin connection for
// as long as it lives. A run that died (SIGKILL, a lost machine) no longer
// holds its lock — the server releases it with the connection — so anyone can
// tell its leftovers from a live run's databases: `test-rig clean` and the
// start of every supervised run drop the databases of runs that are gone,
// and only those.
import type { Connection } from '../db/connection.js';

export const SCRATCH_PREFIX = 'test_rig_run_';

/** Run ids: short, lower-case base 36 (they go into database and lock names). */
export const RUN_ID_PATTERN = /^[a-z0-9]{1,16}$/;

/** The lock a live run holds. */
export function runLockName(runId: string): string {
  return `${SCRATCH_PREFIX}${runId}`;
}

/** A case's scratch database name (≤ 64 characters, MySQL's limit). */
export function scratchDatabaseName(runId: string, n: number, className: string): string {
  const cls = className
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .slice(0, 24);
  return `${SCRATCH_PREFIX}${runId}_${n}_${cls}`.slice(0, 64);
}

/** The run a scratch database belongs to, or undefined for any other database. */
export function runIdOf(database: string): string | undefined {
  const m = /^test_rig_run_([a-z0-9]{1,16})_\d+_/.exec(database);
  return m?.[1];
}

/** Backtick-quotes an identifier. */
const quoteId = (name: string) => `\`${name.replace(/`/g, '``')}\``;

/** How long a run waits for its own lock (a `clean` holds a dead run's lock only while it drops). */
const LOCK_WAIT_SECS = 10;

/**
 * Takes the run's lock on `conn`, the connection that lives as long as the
 * run. False when the server has no GET_LOCK or another session holds it:
 * the run goes on, but `clean` may then take its databases for a dead run's.
 */
export async function holdRunLock(conn: Connection, runId: string): Promise<boolean> {
  try {
    const { rows } = await conn.query('SELECT GET_LOCK(?, ?) AS got', [runLockName(runId), LOCK_WAIT_SECS]);
    return Number((rows as { got: unknown }[])[0]?.got) === 1;
  } catch {
    return false;
  }
}

export interface CleanReport {
  /** Databases of runs that are gone: dropped (or, with dryRun, to be dropped). */
  dropped: string[];
  /** Databases of live runs, kept. */
  live: string[];
}

export interface CleanOptions {
  dryRun?: boolean;
  /** This run's own id: its databases are never touched. */
  ownRunId?: string;
  /** Checked between runs: stop when it aborts (a bounded clean at the start of a run). */
  signal?: AbortSignal;
}

/**
 * Finds the scratch databases and drops those of runs that no longer hold
 * their lock. A dead run's lock is held while its databases are dropped, so a
 * run cannot come back to life under the same id half way.
 */
export async function cleanDeadRuns(conn: Connection, o: CleanOptions = {}): Promise<CleanReport> {
  const { rows } = await conn.query(`SHOW DATABASES LIKE 'test\\_rig\\_run\\_%'`);
  const byRun = new Map<string, string[]>();
  for (const r of rows as Record<string, unknown>[]) {
    const name = String(Object.values(r)[0]);
    const run = runIdOf(name);
    if (!run || run === o.ownRunId) continue;
    byRun.set(run, [...(byRun.get(run) ?? []), name]);
  }
  const report: CleanReport = { dropped: [], live: [] };
  for (const [run, names] of byRun) {
    if (o.signal?.aborted) break;
    const lock = runLockName(run);
    const got = await conn.query('SELECT GET_LOCK(?, 0) AS got', [lock]);
    if (Number((got.rows as { got: unknown }[])[0]?.got) !== 1) {
      report.live.push(...names);
      continue;
    }
    try {
      for (const n of names) {
        if (!o.dryRun) await conn.query(`DROP DATABASE IF EXISTS ${quoteId(n)}`);
        report.dropped.push(n);
      }
    } finally {
      await conn.query('SELECT RELEASE_LOCK(?)', [lock]).catch(() => undefined);
    }
  }
  return report;
}
