// `test-rig isolation`: shows REPEATABLE READ isolation with two connections:
// an uncommitted update on A is invisible to B, B's snapshot stays stable after
// A commits, and the change is visible to B's next transaction.
import { Command } from 'commander';
import mysql from 'mysql2/promise';
import { addSharedOptions, withRuntime, CliError, type Runtime } from './common.js';
import { formatHostPort } from '../db/address.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from '../exit-codes.js';

export interface IsolationCheck {
  name: string;
  expected: unknown;
  actual: unknown;
  ok: boolean;
}

export interface IsolationResult {
  ok: boolean;
  database: string;
  rows: number;
  checks: IsolationCheck[];
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1)
    throw new CliError(`invalid --test-rows "${v}": expected a positive integer`, EXIT_USAGE);
  return n;
}

/** The isolation demonstration as a library function (the CLI prints its result). */
export async function runIsolation(rt: Runtime, rows: number): Promise<IsolationResult> {
  const { settings, log } = rt;
  if (settings.poolSize < 2) {
    throw new CliError(
      `isolation needs 2 connections but database.pool_size is ${settings.poolSize}`,
      EXIT_USAGE,
      'set database.pool_size to 2 or more',
    );
  }
  const base = rt.mysqlOptions();
  const pool = mysql.createPool({
    ...base,
    database: undefined,
    connectionLimit: settings.poolSize,
    waitForConnections: true,
  });
  const db = `test_rig_iso_${process.pid}_${Date.now().toString(36)}`;
  const t = `\`${db}\`.isolation_test`;
  const sql = async (conn: mysql.PoolConnection, label: string, stmt: string, params?: unknown[]) => {
    if (settings.showSql) log.errOut(`SQL [${label}] ${stmt}`);
    const [res] = await conn.query(stmt, params);
    return res;
  };
  const valueOf = async (conn: mysql.PoolConnection, label: string) => {
    const r = (await sql(conn, label, `SELECT value FROM ${t} WHERE id = 1`)) as { value: number }[];
    return Number(r[0]?.value);
  };
  const checks: IsolationCheck[] = [];
  const check = (name: string, expected: unknown, actual: unknown) => {
    const ok = expected === actual;
    checks.push({ name, expected, actual, ok });
    if (settings.showOutput || !settings.json)
      log.debug(`${ok ? 'ok' : 'FAILED'}: ${name}`, { expected, actual });
  };
  let a: mysql.PoolConnection | undefined;
  let b: mysql.PoolConnection | undefined;
  let created = false;
  try {
    a = await pool.getConnection();
    b = await pool.getConnection();
    await sql(a, 'A', `CREATE DATABASE \`${db}\``);
    created = true;
    await sql(
      a,
      'A',
      `CREATE TABLE ${t} (id INT PRIMARY KEY, name VARCHAR(255) NOT NULL, value INT NOT NULL)`,
    );
    const values = Array.from({ length: rows }, (_, i) => [i + 1, `row ${i + 1}`, (i + 1) * 10]);
    for (let i = 0; i < values.length; i += 1000) {
      await sql(a, 'A', `INSERT INTO ${t} (id, name, value) VALUES ?`, [values.slice(i, i + 1000)]);
    }
    for (const [c, l] of [
      [a, 'A'],
      [b, 'B'],
    ] as const) {
      await sql(c, l, 'SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    }
    const count = (await sql(b, 'B', `SELECT COUNT(*) AS n FROM ${t}`)) as { n: number }[];
    check(`B sees the ${rows} inserted rows`, rows, Number(count[0].n));

    await sql(b, 'B', 'START TRANSACTION');
    const before = await valueOf(b, 'B');
    await sql(a, 'A', 'START TRANSACTION');
    await sql(a, 'A', `UPDATE ${t} SET value = value + 100 WHERE id = 1`);
    check('A sees its own uncommitted update', before + 100, await valueOf(a, 'A'));
    check('B does not see A’s uncommitted update (no dirty read)', before, await valueOf(b, 'B'));
    await sql(a, 'A', 'COMMIT');
    check('B’s snapshot is unchanged after A commits (repeatable read)', before, await valueOf(b, 'B'));
    await sql(b, 'B', 'COMMIT');
    check('B sees the committed update in a new transaction', before + 100, await valueOf(b, 'B'));
    if (settings.showOutput) {
      const r = (await sql(b, 'B', `SELECT id, name, value FROM ${t} ORDER BY id LIMIT 5`)) as Record<
        string,
        unknown
      >[];
      for (const row of r) log.out(`  ${JSON.stringify(row)}`);
    }
  } finally {
    if (created && a) await sql(a, 'A', `DROP DATABASE IF EXISTS \`${db}\``).catch(() => {});
    a?.release();
    b?.release();
    await pool.end().catch(() => {});
  }
  return { ok: checks.every((c) => c.ok), database: db, rows, checks };
}

export function isolationCommand(): Command {
  const cmd = new Command('isolation')
    .description('show transaction isolation (REPEATABLE READ) with two connections on a scratch database')
    .option('--test-rows <n>', 'rows in the test table (config test.rows, default 10)');
  addSharedOptions(cmd);
  cmd.action(async (_o, command: Command) => {
    await withRuntime(command, async (rt) => {
      const flag = command.opts().testRows as string | undefined;
      const rows = flag !== undefined ? positiveInt(flag) : rt.settings.test.rows;
      rt.log.info(
        `isolation test on ${formatHostPort(rt.settings.host, rt.settings.port)} with ${rows} rows`,
      );
      let r: IsolationResult;
      try {
        r = await runIsolation(rt, rows);
      } catch (e) {
        if (e instanceof CliError) throw e;
        const err = e as Error & { code?: string };
        throw new CliError(`isolation test failed: ${err.message}`, EXIT_FAILED, hintFor(err));
      }
      if (rt.settings.json) {
        rt.log.out(JSON.stringify(r));
      } else {
        const c = rt.log.c;
        for (const ch of r.checks)
          rt.log.out(
            `${ch.ok ? c.green('✔') : c.red('✘')} ${ch.name}${ch.ok ? '' : ` (expected ${ch.expected}, got ${ch.actual})`}`,
          );
        rt.log.out(
          r.ok
            ? `verdict: PASS: REPEATABLE READ isolation holds (${rows} rows, scratch database dropped)`
            : 'verdict: FAIL: isolation anomalies observed',
        );
      }
      return r.ok ? EXIT_OK : EXIT_FAILED;
    });
  });
  return cmd;
}

function hintFor(e: Error & { code?: string }): string | undefined {
  switch (e.code) {
    case 'ECONNREFUSED':
      return 'is the server running? check -H host:port';
    case 'ER_ACCESS_DENIED_ERROR':
      return 'check -u/--user and --password (or TIDB_PASSWORD)';
    case 'ETIMEDOUT':
      return 'is the host reachable? check -H host:port';
    case 'ER_DBACCESS_DENIED_ERROR':
    case 'ER_SPECIFIC_ACCESS_DENIED_ERROR':
      return 'the user needs CREATE and DROP privileges for a scratch database';
    default:
      return undefined;
  }
}
