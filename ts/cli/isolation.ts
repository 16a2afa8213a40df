// `test-rig isolation`: shows REPEATABLE READ isolation with two connections:
// an uncommitted update on A is invisible to B, B's snapshot stays stable after
// A commits, and the change is visible to B's next transaction.
import { Command } from 'commander';
import { addSharedOptions, withRuntime, CliError, type Runtime } from './common.js';
import { formatHostPort } from '../db/address.js';
import { Connection } from '../db/connection.js';
import { explainFailure, machineConnectionOptions } from './chain.js';
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
  const options = machineConnectionOptions(settings, log);
  const open = (name: string) =>
    Connection.open(
      {
        host: settings.host,
        port: settings.port,
        user: settings.user,
        password: settings.password ?? '',
        ssl: options.ssl,
        connectTimeoutMs: options.connectTimeoutMs,
      },
      { name, echo: options.echo },
    );
  const db = `test_rig_iso_${process.pid}_${Date.now().toString(36)}`;
  const t = `\`${db}\`.isolation_test`;
  const sql = async (conn: Connection, stmt: string, params?: unknown[]) =>
    (await conn.query(stmt, params)).rows;
  const valueOf = async (conn: Connection) => {
    const r = (await sql(conn, `SELECT value FROM ${t} WHERE id = 1`)) as { value: number }[];
    return Number(r[0]?.value);
  };
  const checks: IsolationCheck[] = [];
  const check = (name: string, expected: unknown, actual: unknown) => {
    const ok = expected === actual;
    checks.push({ name, expected, actual, ok });
    if (settings.showOutput || !settings.json)
      log.debug(`${ok ? 'ok' : 'FAILED'}: ${name}`, { expected, actual });
  };
  let a: Connection | undefined;
  let b: Connection | undefined;
  let created = false;
  try {
    a = await open('A');
    b = await open('B');
    await sql(a, `CREATE DATABASE \`${db}\``);
    created = true;
    await sql(a, `CREATE TABLE ${t} (id INT PRIMARY KEY, name VARCHAR(255) NOT NULL, value INT NOT NULL)`);
    const values = Array.from({ length: rows }, (_, i) => [i + 1, `row ${i + 1}`, (i + 1) * 10]);
    for (let i = 0; i < values.length; i += 1000) {
      await sql(a, `INSERT INTO ${t} (id, name, value) VALUES ?`, [values.slice(i, i + 1000)]);
    }
    for (const c of [a, b]) {
      await sql(c, 'SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
    }
    const count = (await sql(b, `SELECT COUNT(*) AS n FROM ${t}`)) as { n: number }[];
    check(`B sees the ${rows} inserted rows`, rows, Number(count[0].n));

    await sql(b, 'START TRANSACTION');
    const before = await valueOf(b);
    await sql(a, 'START TRANSACTION');
    await sql(a, `UPDATE ${t} SET value = value + 100 WHERE id = 1`);
    check('A sees its own uncommitted update', before + 100, await valueOf(a));
    check('B does not see A’s uncommitted update (no dirty read)', before, await valueOf(b));
    await sql(a, 'COMMIT');
    check('B’s snapshot is unchanged after A commits (repeatable read)', before, await valueOf(b));
    await sql(b, 'COMMIT');
    check('B sees the committed update in a new transaction', before + 100, await valueOf(b));
    if (settings.showOutput) {
      const r = (await sql(b, `SELECT id, name, value FROM ${t} ORDER BY id LIMIT 5`)) as Record<
        string,
        unknown
      >[];
      for (const row of r) log.out(`  ${JSON.stringify(row)}`);
    }
  } finally {
    if (created && a) await sql(a, `DROP DATABASE IF EXISTS \`${db}\``).catch(() => {});
    await Promise.all([a, b].map((c) => c?.close().catch(() => c.destroy())));
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
        const { error, hint } = explainFailure(e);
        throw new CliError(
          `isolation test failed: ${error}`,
          EXIT_FAILED,
          hint ?? hintFor(e as { code?: string }),
        );
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

function hintFor(e: { code?: string }): string | undefined {
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
