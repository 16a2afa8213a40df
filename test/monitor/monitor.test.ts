// ImportJobMonitor against the emulator: layouts, discovery mid-run, event order and
// elapsed time with the session in a non-UTC zone.
import assert from 'node:assert/strict';
import type mysql from 'mysql2/promise';
import { ImportJobMonitor } from '../../ts/monitor/monitor.js';
import { fromMysql2 } from '../../ts/monitor/mysql2.js';
import { wallMs } from '../../ts/monitor/parse.js';
import type { TrackedJob } from '../../ts/monitor/types.js';
import { setUp, TABLE_DDL, until, type Fixture } from './fixtures.js';

describe('ImportJobMonitor (against the emulator)', function () {
  let f: Fixture;
  let c: mysql.Connection;
  let m: ImportJobMonitor | undefined;

  beforeEach(async () => {
    f = await setUp();
    c = await f.connect();
    await c.query(`CREATE TABLE t ${TABLE_DDL}`);
  });
  afterEach(async () => {
    await m?.stop();
    m = undefined;
    await f.close();
  });

  for (const [layout, raw, expected] of [
    [13, false, 'L1'],
    [20, false, 'L2'],
    [21, false, 'L3'],
    [21, true, 'RAW'],
  ] as const) {
    it(`parses ${raw ? 'SHOW RAW IMPORT JOBS' : `the ${layout}-column layout`} and finishes the job`, async () => {
      f.emu.settings.layout = layout;
      f.emu.settings.rowsPerSecond = 400;
      const file = await f.csv('a.csv', 40);
      const mc = await f.connect();
      m = new ImportJobMonitor(fromMysql2(mc), { interval: 10, raw });
      const seen: TrackedJob[] = [];
      m.on('progress', (j) => seen.push({ ...j }));
      const finished = new Promise<TrackedJob>((r) => m!.on('finished', r));
      await m.start();
      await c.query(`IMPORT INTO t FROM '${file}' WITH DETACHED`);
      const job = await finished;
      assert.equal(job.layout, expected);
      assert.equal(job.importedRows, 40);
      assert.equal(job.progressPct, 100);
      assert.equal(job.targetTable, `\`${f.db}\`.\`t\``);
      assert.ok(job.sourceFileBytes! > 0);
      assert.ok(job.elapsedSeconds !== null && job.elapsedSeconds >= 0);
      assert.ok(seen.length > 0, 'saw progress');
      if (expected !== 'L1') assert.ok(seen.some((j) => j.progressPct !== null && j.progressPct < 100));
    });
  }

  it('discovers a job created after it started, and emits phase/progress events in order', async () => {
    f.emu.settings.rowsPerSecond = 300;
    f.emu.settings.pendingMs = 60;
    f.emu.settings.validatingMs = 60;
    const mc = await f.connect();
    m = new ImportJobMonitor(fromMysql2(mc), { interval: 10 });
    const events: string[] = [];
    const rows: number[] = [];
    for (const ev of ['discovered', 'progress', 'finished', 'failed', 'cancelled'] as const) {
      m.on(ev, (j) => {
        events.push(`${ev}:${j.status}/${j.phase}`);
        if (ev === 'progress') rows.push(j.importedRows ?? 0);
      });
    }
    m.on('phase', (j, prev) => events.push(`phase:${prev.status}/${prev.phase}->${j.status}/${j.phase}`));
    await m.start();
    assert.equal(m.jobs.size, 0);
    const file = await f.csv('b.csv', 30);
    await c.query(`IMPORT INTO t FROM '${file}' WITH DETACHED`);
    await until(() => m!.jobs.get(1)?.ended === true);
    const compact = events.filter((e) => !e.startsWith('progress'));
    assert.deepEqual(compact, [
      'discovered:pending/',
      'phase:pending/->running/importing',
      'phase:running/importing->running/validating',
      'finished:finished/',
    ]);
    // Progress is monotonic and arrives between discovery and the end.
    assert.ok(rows.length >= 2);
    assert.deepEqual(
      rows,
      [...rows].sort((a, b) => a - b),
    );
    assert.ok(events.indexOf('discovered:pending/') < events.findIndex((e) => e.startsWith('progress')));
  });

  it('treats jobs ended before start as history and watches one job with SHOW IMPORT JOB', async () => {
    const file = await f.csv('c.csv', 5);
    await c.query(`IMPORT INTO t FROM '${file}'`);
    const mc = await f.connect();
    m = new ImportJobMonitor(fromMysql2(mc), { interval: 10 });
    await m.start();
    assert.equal(m.jobs.get(1)?.historical, true);
    await m.stop();
    const statements: string[] = [];
    const runner = fromMysql2(mc);
    m = new ImportJobMonitor(
      { query: (sql) => (statements.push(sql), runner.query(sql)) },
      { jobId: 1, interval: 10 },
    );
    await m.start();
    await until(() => m!.pollCount >= 3);
    await m.stop();
    assert.equal(m.jobs.get(1)?.historical, false);
    assert.ok(statements.length >= 4);
    assert.match(statements[0], /NOW\(6\)/);
    // One statement per tick, nothing per job.
    assert.ok(statements.slice(1).every((s) => s === 'SHOW IMPORT JOB 1'));
  });

  it('fromMysql2 reads server times as session wall-clock strings, whatever the connection options', async () => {
    const file = await f.csv('w.csv', 3);
    await c.query(`IMPORT INTO t FROM '${file}'`);
    for (const options of [{}, { dateStrings: true }, { dateStrings: false, timezone: 'Z' }]) {
      const mc = await f.connect(options);
      await mc.query("SET time_zone = '+05:30'");
      const { rows } = await fromMysql2(mc).query('SHOW IMPORT JOBS');
      const [[now]] = (await mc.query({
        sql: 'SELECT NOW() AS n',
        dateStrings: true,
        rowsAsArray: true,
      })) as unknown as [[string]][];
      assert.equal(typeof rows[0].Start_Time, 'string', JSON.stringify(options));
      // Within a minute of the session's own NOW(): the +05:30 fields, not UTC's or Node's.
      const diff = Math.abs(wallMs(rows[0].Start_Time)! - wallMs(now)!);
      assert.ok(diff < 60_000, `${JSON.stringify(options)}: ${String(rows[0].Start_Time)} vs ${now}`);
    }
  });

  it('computes elapsed time from server times with the session in +05:30', async () => {
    f.emu.settings.rowsPerSecond = 100;
    f.emu.settings.chunkRows = 1;
    const mc = await f.connect();
    await mc.query("SET time_zone = '+05:30'");
    const file = await f.csv('d.csv', 200);
    await c.query(`IMPORT INTO t FROM '${file}' WITH DETACHED`);
    m = new ImportJobMonitor(fromMysql2(mc), { interval: 20 });
    await m.start();
    assert.equal(m.serverClock?.tzOffsetMs, 5.5 * 3600 * 1000);
    await until(() => (m!.jobs.get(1)?.elapsedSeconds ?? 0) > 0.3);
    const j = m.jobs.get(1)!;
    // Start_Time is rendered in +05:30; server "now" is too, so the difference is small and real.
    const [[row]] = await mc.query<mysql.RowDataPacket[]>({ sql: 'SELECT NOW(6) AS now', dateStrings: true });
    const trueElapsed = (wallMs(row.now)! - wallMs(j.startTime)!) / 1000;
    assert.ok(j.elapsedSeconds! > 0 && j.elapsedSeconds! < 10, `elapsed ${j.elapsedSeconds}`);
    assert.ok(Math.abs(trueElapsed - j.elapsedSeconds!) < 1.5, `${trueElapsed} vs ${j.elapsedSeconds}`);
    await c.query('CANCEL IMPORT JOB 1');
  });
});
