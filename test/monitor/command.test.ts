// runMonitor(): exit codes, --until-done, --duration, --job, and the three output formats.
import assert from 'node:assert/strict';
import type mysql from 'mysql2/promise';
import { runMonitor } from '../../ts/monitor/command.js';
import { fromMysql2 } from '../../ts/monitor/mysql2.js';
import { Capture, setUp, sleep, TABLE_DDL, until, type Fixture } from './fixtures.js';

const RUNNING_LINE =
  /^Job_ID: \d+ \| Phase: (importing|validating|pending) \| Start_Time: (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d|N\/A) \| Source_File_Size: \S+ \| Imported_Rows: \d+ \| Time elapsed: \d\d:\d\d:\d\d$/;
const ENDED_LINE =
  /^Job_ID: \d+ \| Status: (finished|failed|cancelled) \| End_Time: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \| Result_Message: .*$/;

describe('runMonitor (against the emulator)', function () {
  let f: Fixture;
  let c: mysql.Connection;
  let mc: mysql.Connection;

  beforeEach(async () => {
    f = await setUp();
    c = await f.connect();
    mc = await f.connect();
    await c.query(`CREATE TABLE t ${TABLE_DDL}`);
    await c.query(`CREATE TABLE u ${TABLE_DDL}`);
  });
  afterEach(async () => f.close());

  it('--until-done exits 0 when every job finished; plain lines keep the old format', async () => {
    f.emu.settings.rowsPerSecond = 200;
    const out = new Capture();
    await c.query(`IMPORT INTO t FROM '${await f.csv('a.csv', 40)}' WITH DETACHED`);
    const code = await runMonitor({
      connection: fromMysql2(mc),
      interval: 20,
      untilDone: true,
      output: out,
      plainEvery: 50,
    });
    assert.equal(code, 0);
    const lines = out.text.split('\n');
    assert.ok(lines.includes('--- Import Job Status Update ---'));
    const jobLines = lines.filter((l) => l.startsWith('Job_ID:'));
    assert.ok(
      jobLines.some((l) => RUNNING_LINE.test(l)),
      out.text,
    );
    assert.ok(
      jobLines.every((l) => RUNNING_LINE.test(l) || ENDED_LINE.test(l)),
      out.text,
    );
    assert.ok(jobLines.some((l) => /Status: finished/.test(l)));
    assert.doesNotMatch(out.text, /Completed|\x1b\[/);
  });

  it('exits 1 for a failed job and shows its Result_Message (never "Completed")', async () => {
    f.emu.settings.rowsPerSecond = 300;
    const out = new Capture();
    const bad = await f.csv('bad.csv', 20, '21,x,not-a-number\n');
    const good = await f.csv('ok.csv', 10);
    // Started first: jobs that ended before the monitor looked count as history.
    const run = runMonitor({
      connection: fromMysql2(mc),
      interval: 20,
      untilDone: true,
      duration: 20,
      output: out,
    });
    await sleep(50);
    await c.query(`IMPORT INTO t FROM '${bad}' WITH DETACHED`);
    await c.query(`IMPORT INTO u FROM '${good}' WITH DETACHED`);
    const code = await run;
    assert.equal(code, 1);
    assert.match(
      out.text,
      /Job_ID: 1 \| Status: failed \| End_Time: .* \| Result_Message: .*Incorrect integer value/,
    );
    assert.match(out.text, /Job_ID: 2 \| Status: finished/);
    assert.match(out.text, /Job 1 failed: .*Incorrect integer value/);
    assert.match(out.text, /\(\d+s remaining\) ---/);
    assert.doesNotMatch(out.text, /Completed/);
  });

  it('--job exits 1 when the watched job is cancelled', async () => {
    f.emu.settings.rowsPerSecond = 100;
    const out = new Capture();
    await c.query(`IMPORT INTO t FROM '${await f.csv('c.csv', 500)}' WITH DETACHED`);
    const run = runMonitor({ connection: fromMysql2(mc), interval: 20, jobId: 1, output: out, json: true });
    await until(() => out.text.includes('"progress"'));
    await c.query('CANCEL IMPORT JOB 1');
    assert.equal(await run, 1);
    const events = out.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const cancelled = events.find((e) => e.event === 'cancelled');
    assert.equal(cancelled.job.status, 'cancelled');
    assert.equal(cancelled.job.result_message, 'cancelled by user');
    assert.equal(events.at(-1).event, 'summary');
    assert.equal(events.at(-1).exit_code, 1);
  });

  it('--duration expiry with a job still running exits 0', async () => {
    f.emu.settings.rowsPerSecond = 20;
    await c.query(`IMPORT INTO t FROM '${await f.csv('d.csv', 500)}' WITH DETACHED`);
    const out = new Capture();
    const t0 = Date.now();
    const code = await runMonitor({ connection: fromMysql2(mc), interval: 50, duration: 0.4, output: out });
    assert.equal(code, 0);
    assert.ok(Date.now() - t0 < 5000);
    assert.match(out.text, /Phase: importing/);
    assert.match(out.text, /\(duration; exit code 0\)/);
    await c.query('CANCEL IMPORT JOB 1');
  });

  it('--json writes one documented object per event', async () => {
    f.emu.settings.rowsPerSecond = 200;
    f.emu.settings.layout = 20;
    f.emu.settings.pendingMs = 50;
    f.emu.settings.validatingMs = 50;
    const out = new Capture();
    const run = runMonitor({
      connection: fromMysql2(mc),
      interval: 10,
      untilDone: true,
      duration: 20,
      json: true,
      output: out,
    });
    await sleep(50);
    await c.query(`IMPORT INTO t FROM '${await f.csv('e.csv', 30)}' WITH DETACHED`);
    assert.equal(await run, 0);
    const events = out.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(events[0].event, 'start');
    assert.equal(events.at(-1).event, 'summary');
    assert.deepEqual(events.at(-1).jobs, {
      total: 1,
      pending: 0,
      running: 0,
      finished: 1,
      failed: 0,
      cancelled: 0,
    });
    const names = new Set(events.map((e) => e.event));
    for (const n of ['discovered', 'phase', 'progress', 'finished']) assert.ok(names.has(n), n);
    const jobKeys = [
      'id',
      'layout',
      'group_key',
      'data_source',
      'target_table',
      'table_id',
      'phase',
      'status',
      'source_file_size',
      'source_file_bytes',
      'imported_rows',
      'result_message',
      'create_time',
      'start_time',
      'end_time',
      'last_update_time',
      'created_by',
      'cur_step',
      'progress_pct',
      'rows_per_second',
      'elapsed_seconds',
      'eta_seconds',
      'historical',
      'extra',
    ];
    for (const e of events) {
      assert.equal(typeof e.time, 'string');
      assert.match(e.server_time, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);
      if (e.job) assert.deepEqual(Object.keys(e.job), jobKeys);
      if (e.event === 'phase') assert.deepEqual(Object.keys(e.previous), ['status', 'phase']);
    }
    const fin = events.find((e) => e.event === 'finished');
    assert.equal(fin.job.layout, 'L2');
    assert.equal(fin.job.progress_pct, 100);
    assert.equal(fin.job.imported_rows, 30);
  });

  it('draws a live table on a TTY, in colour unless NO_COLOR is set', async () => {
    f.emu.settings.rowsPerSecond = 300;
    for (const [env, colour] of [
      [{}, true],
      [{ NO_COLOR: '1' }, false],
    ] as const) {
      await c.query('TRUNCATE t');
      const out = new Capture();
      await c.query(`IMPORT INTO t FROM '${await f.csv('f.csv', 30)}' WITH DETACHED`);
      const code = await runMonitor({
        connection: fromMysql2(mc),
        interval: 10,
        untilDone: true,
        output: out,
        isTTY: true,
        env,
      });
      assert.equal(code, 0);
      assert.match(out.text, /\x1b\[\d+F/); // cursor moved up to redraw in place
      assert.match(out.text, /ID +TABLE +PHASE +STATUS +PROGRESS/);
      assert.match(out.text, /█/);
      assert.equal(/\x1b\[3\dm/.test(out.text), colour);
    }
  });
});
