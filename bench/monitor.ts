// Benchmark of ImportJobMonitor polling:
//  1. polling rate at interval 0 as a ratio to a bare mysql2 loop issuing the same statement
//     on one connection, against the TiDB emulator (SHOW IMPORT JOBS) and against MariaDB
//     (its nearest equivalent: a job-shaped SELECT over information_schema.PROCESSLIST);
//  2. RSS after 100,000 polls vs after 1,000.
// Run: node [--expose-gc] dist/bench/monitor.js [--quick]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import mysql from 'mysql2/promise';
import { ImportJobMonitor } from '../ts/monitor/monitor.js';
import { fromMysql2 } from '../ts/monitor/mysql2.js';

const quick = process.argv.includes('--quick');
const RATE_POLLS = quick ? 300 : 1000;
const ROUNDS = quick ? 9 : 31;
const WARMUP = quick ? 1500 : 3000;
const RSS_EARLY = quick ? 200 : 1000;
const RSS_LATE = quick ? 5000 : 100000;

const server = {
  host: process.env.TEST_RIG_TEST_HOST ?? '127.0.0.1',
  port: Number(process.env.TEST_RIG_TEST_PORT ?? 3306),
  user: process.env.TEST_RIG_TEST_USER ?? 'root',
  password: process.env.TEST_RIG_TEST_PASSWORD ?? '',
};

/**
 * MariaDB has no import jobs; its closest "list what the server is doing" statement is
 * the process list. Aliasing it to SHOW IMPORT JOBS column names makes the monitor do its
 * full work per row (parse, track, derive, emit) instead of skipping unknown rows.
 */
const MARIADB_STATEMENT =
  'SELECT ID AS Job_ID, DB AS Data_Source, USER AS Created_By, COMMAND AS Phase, ' +
  "IF(COMMAND = 'Sleep', 'pending', 'running') AS Status, TIME AS Imported_Rows, " +
  "IFNULL(STATE, '') AS Result_Message FROM information_schema.PROCESSLIST";

async function startEmulatorChild(): Promise<{ child: ChildProcess; port: number }> {
  const here = dirname(fileURLToPath(import.meta.url));
  const main = join(here, '..', 'test', 'emulator', 'main.js');
  const child = spawn(process.execPath, [main, '--backend', `${server.host}:${server.port}`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (c) => reject(new Error(`emulator exited with ${c}`)));
  });
  return { child, port: (JSON.parse(line) as { port: number }).port };
}

async function bareLoop(conn: mysql.Connection, sql: string, n: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await conn.query(sql);
  return n / ((performance.now() - t0) / 1000);
}

async function monitorLoop(conn: mysql.Connection, sql: string, n: number): Promise<number> {
  const m = new ImportJobMonitor(fromMysql2(conn), { interval: 0, statement: sql, includeHistory: true });
  let t0 = 0;
  const done = new Promise<void>((r) =>
    m.on('poll', (p) => {
      if (p.poll === 1) t0 = performance.now();
      if (p.poll === n + 1) {
        void m.stop();
        r();
      }
    }),
  );
  await m.start();
  await done;
  await m.stop();
  return n / ((performance.now() - t0) / 1000);
}

/**
 * Many short rounds, bare and monitor back to back (order alternating), and the median of
 * the per-round ratios: the box is shared, and load drifts more between rounds than within one.
 */
async function compare(
  conn: mysql.Connection,
  sql: string,
): Promise<{ bare: number; monitor: number; ratio: number }> {
  // Warm-up: the first few thousand polls of either side run before the JIT settles.
  await bareLoop(conn, sql, WARMUP);
  await monitorLoop(conn, sql, WARMUP);
  const ratios: number[] = [];
  const bares: number[] = [];
  const mons: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    let b: number;
    let m: number;
    if (r % 2 === 0) {
      b = await bareLoop(conn, sql, RATE_POLLS);
      m = await monitorLoop(conn, sql, RATE_POLLS);
    } else {
      m = await monitorLoop(conn, sql, RATE_POLLS);
      b = await bareLoop(conn, sql, RATE_POLLS);
    }
    bares.push(b);
    mons.push(m);
    ratios.push(m / b);
  }
  return { bare: median(bares), monitor: median(mons), ratio: median(ratios) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

async function rssGrowth(conn: mysql.Connection, sql: string): Promise<{ early: number; late: number }> {
  const m = new ImportJobMonitor(fromMysql2(conn), { interval: 0, statement: sql });
  let early = 0;
  let late = 0;
  const done = new Promise<void>((r) =>
    m.on('poll', (p) => {
      if (p.poll === RSS_EARLY) {
        gc();
        early = process.memoryUsage().rss;
      } else if (p.poll === RSS_LATE) {
        gc();
        late = process.memoryUsage().rss;
        void m.stop();
        r();
      }
    }),
  );
  await m.start();
  await done;
  await m.stop();
  return { early, late };
}

async function main(): Promise<void> {
  const db = `bench_monitor_${process.pid}`;
  const admin = await mysql.createConnection(server);
  await admin.query(`CREATE DATABASE \`${db}\``);
  const dir = await mkdtemp(join(tmpdir(), 'bench-monitor-'));
  const { child, port } = await startEmulatorChild();
  try {
    // Three finished jobs so SHOW IMPORT JOBS returns three rows, as a small live cluster might.
    // dateStrings connection-wide, as `test-rig monitor` opens its connection (fromMysql2
    // then sends the plain statement); the bare loop shares the connection and its options.
    const emu = await mysql.createConnection({
      ...server,
      host: '127.0.0.1',
      port,
      database: db,
      dateStrings: true,
    });
    for (const t of ['a', 'b', 'c']) {
      await emu.query(`CREATE TABLE ${t} (id INT PRIMARY KEY, v VARCHAR(20))`);
      const file = join(dir, `${t}.csv`);
      await writeFile(file, Array.from({ length: 50 }, (_, i) => `${i},v${i}`).join('\n') + '\n');
      await emu.query(`IMPORT INTO ${t} FROM '${file}'`);
    }
    const maria = await mysql.createConnection({ ...server, database: db, dateStrings: true });

    const e = await compare(emu, 'SHOW IMPORT JOBS');
    const m = await compare(maria, MARIADB_STATEMENT);
    const rss = await rssGrowth(emu, 'SHOW IMPORT JOBS');

    const row = (name: string, r: { bare: number; monitor: number; ratio: number }): string =>
      `${name.padEnd(34)} ${r.bare.toFixed(0).padStart(9)} ${r.monitor.toFixed(0).padStart(9)} ${r.ratio.toFixed(3).padStart(7)}`;
    const mb = (b: number): string => (b / 1024 / 1024).toFixed(1);
    console.log(
      `monitor polling benchmark${quick ? ' (--quick)' : ''}; ${RATE_POLLS} polls per round, ${ROUNDS} rounds, medians`,
    );
    console.log(
      `${'target / statement'.padEnd(34)} ${'bare/s'.padStart(9)} ${'monitor/s'.padStart(9)} ${'ratio'.padStart(7)}`,
    );
    console.log(row('emulator: SHOW IMPORT JOBS', e));
    console.log(row('MariaDB: PROCESSLIST (job-shaped)', m));
    console.log(
      `RSS after ${RSS_EARLY} polls: ${mb(rss.early)} MB; after ${RSS_LATE}: ${mb(rss.late)} MB; ` +
        `growth ${mb(rss.late - rss.early)} MB${(globalThis as { gc?: unknown }).gc ? '' : ' (run with --expose-gc for steadier figures)'}`,
    );
    console.log('targets: ratio >= 0.95; growth <= 5 MB');
    await emu.end();
    await maria.end();
  } finally {
    child.kill('SIGTERM');
    await admin.query(`DROP DATABASE IF EXISTS \`${db}\``);
    await admin.end();
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
