// Python and the import-job monitor: the user guide's ImportJobMonitorHandler driven by
// the machine against the emulator, the monitor-backed CheckingImportJobs /
// ShowingImportJobDetails states filling context.import_jobs, and
// `test-rig monitor --python-module` calling a handler on each event.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type mysql from 'mysql2/promise';
import { StateContext } from '../../ts/machine/context.js';
import { createDefaultMachine } from '../../ts/machine/default-machine.js';
import { States } from '../../ts/machine/states.js';
import { importJobsOf } from '../../ts/monitor/context.js';
import { installImportJobStates } from '../../ts/monitor/states.js';
import { loadPythonHandlers, type LoadResult } from '../../ts/python/handlers.js';
import { PythonRuntime } from '../../ts/python/runtime.js';
import { CLI, cleanEnv } from '../helpers/cli.js';
import { setUp, TABLE_DDL, until, type Fixture } from './fixtures.js';

// The guide's example (docs of the old tool, "ImportJobMonitorHandler"), copied as written.
const GUIDE_HANDLER = `import time

from test_rig import PyStateHandler, PyStateContext, PyState


class ImportJobMonitorHandler(PyStateHandler):
    def __init__(self, duration: int = 30):
        super().__init__()
        self.duration = duration
        self.start_time = None
    
    def enter(self, context: PyStateContext) -> str:
        print(f"Starting import job monitoring for {self.duration}s")
        self.start_time = time.time()
        return PyState.checking_import_jobs()
    
    def execute(self, context: PyStateContext) -> str:
        if not context.connection:
            return PyState.completed()
        
        # Check if monitoring time has elapsed
        if self.start_time and (time.time() - self.start_time) >= self.duration:
            print("Monitoring completed")
            return PyState.completed()
        
        try:
            results = context.connection.execute_query("SHOW IMPORT JOBS")
            active_jobs = [row for row in results if self._is_active_job(row)]
            
            if active_jobs:
                print(f"Found {len(active_jobs)} active import jobs")
                for job in active_jobs:
                    job_id = job.get('Job_ID', 'Unknown')
                    phase = job.get('Phase', 'Unknown')
                    print(f"  Job {job_id}: {phase}")
            
            time.sleep(5)  # Wait before next check
            return PyState.showing_import_job_details()
            
        except Exception as e:
            print(f"Error monitoring jobs: {e}")
            return PyState.completed()
    
    def _is_active_job(self, job_row):
        """Check if a job is active (End_Time is NULL)"""
        for key, value in job_row.items():
            if 'end_time' in key.lower() and value is not None and value != 'NULL':
                return False
        return True
    
    def exit(self, context: PyStateContext) -> None:
        if self.start_time:
            duration = time.time() - self.start_time
            print(f"Monitoring completed in {duration:.2f}s")
`;

// Reads context.import_jobs, which the TypeScript CheckingImportJobs state fills; goes
// back to CheckingImportJobs (one more poll) until no job is active.
const JOBS_READER = `import time

from test_rig import PyStateHandler, PyState


class JobsReaderHandler(PyStateHandler):
    state = "ShowingImportJobDetails"

    def execute(self, context):
        jobs = context.import_jobs
        for job in jobs:
            print(f"seen {job['Job_ID']} {job['Status']} {type(job['Job_ID']).__name__} "
                  f"{type(job['Imported_Rows']).__name__} {type(job['Create_Time']).__name__} "
                  f"{job['Target_Table']}")
        time.sleep(0.02)
        return PyState.checking_import_jobs()


class AfterJobsHandler(PyStateHandler):
    state = "after_jobs"

    def execute(self, context):
        job = context.import_jobs[0]
        print(f"after {len(context.import_jobs)} {job['Status']} {job['Imported_Rows']} "
              f"{type(job['End_Time']).__name__} {job.get('col_0')}")
        return PyState.completed()
`;

// A monitor handler: on_failed for failures, on_event for everything else.
const EVENT_HANDLER = `from test_rig import PyStateHandler


class PrintEventsHandler(PyStateHandler):
    def __init__(self):
        super().__init__()
        self.count = 0

    def on_event(self, context, event):
        self.count += 1
        job = event["job"]
        rows = [r["Job_ID"] for r in context.import_jobs]
        print(f"py {self.count} {event['event']} job={job['id']} status={job['status']} "
              f"phase={job['phase']} rows_listed={rows} conn={context.connection is not None}", flush=True)

    def on_failed(self, context, event):
        print(f"py failed job={event['job']['id']}: {event['job']['result_message']}", flush=True)
`;

interface Child {
  output: () => string;
  stdout: () => string;
  seen: (re: RegExp, ms?: number) => Promise<void>;
  exited: Promise<number | null>;
  kill: (signal: NodeJS.Signals) => void;
}

function startCli(args: string[], cwd: string): Child {
  const child = spawn(process.execPath, [CLI, ...args], { cwd, env: cleanEnv() });
  let stdout = '';
  let all = '';
  const waiters: (() => void)[] = [];
  const note = (d: Buffer, out: boolean): void => {
    if (out) stdout += d.toString();
    all += d.toString();
    for (const w of [...waiters]) w();
  };
  child.stdout.on('data', (d: Buffer) => note(d, true));
  child.stderr.on('data', (d: Buffer) => note(d, false));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    output: () => all,
    stdout: () => stdout,
    exited,
    kill: (signal) => child.kill(signal),
    seen: (re, ms = 20_000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${re} in:\n${all}`)), ms);
        const check = (): void => {
          if (re.test(all)) {
            clearTimeout(timer);
            waiters.splice(waiters.indexOf(check), 1);
            resolve();
          }
        };
        waiters.push(check);
        check();
      }),
  };
}

describe('Python and the import-job monitor (against the emulator)', function () {
  this.timeout(60_000);
  let f: Fixture;
  let c: mysql.Connection;
  let dir: string;
  let loaded: LoadResult | undefined;
  let ctx: StateContext | undefined;
  let printed: string;

  beforeEach(async () => {
    f = await setUp();
    c = await f.connect();
    await c.query(`CREATE TABLE t ${TABLE_DDL}`);
    dir = fs.mkdtempSync(path.join(f.dir, 'py-'));
    fs.writeFileSync(path.join(dir, 'guide_monitor.py'), GUIDE_HANDLER);
    fs.writeFileSync(path.join(dir, 'jobs_reader.py'), JOBS_READER);
    fs.writeFileSync(path.join(dir, 'print_events.py'), EVENT_HANDLER);
    printed = '';
  });

  afterEach(async () => {
    loaded?.dispose();
    loaded = undefined;
    if (ctx) {
      await PythonRuntime.get().release(ctx);
      await ctx.closeConnections();
      ctx = undefined;
    }
    await f.close();
  });

  const machineContext = (): StateContext => {
    ctx = new StateContext({ host: f.emu.host, port: f.emu.port, username: 'root', database: f.db });
    PythonRuntime.get().mirror(ctx).output = (text) => (printed += text);
    return ctx;
  };

  const jobPhase = async (id: number): Promise<string> => {
    const [rows] = await c.query(`SHOW IMPORT JOB ${id}`);
    return String((rows as Record<string, unknown>[])[0]?.Phase ?? '');
  };

  it("runs the guide's ImportJobMonitorHandler (duration=1) after CheckingImportJobs: it sees the running job and completes", async function () {
    // One visit of its execute sleeps 5 s (time.sleep(5), as written); with duration=1
    // the next execute sees the time is up, so the run takes one sleep, ~5 s.
    f.emu.settings.rowsPerSecond = 20; // 400 rows: ~20 s, still importing when the handler looks
    await c.query(`IMPORT INTO t FROM '${await f.csv('big.csv', 400)}' WITH DETACHED`);
    await until(async () => (await jobPhase(1)) === 'importing');

    const machine = installImportJobStates(createDefaultMachine({ next: 'checking_import_jobs' }));
    loaded = await loadPythonHandlers(machine, path.join(dir, 'guide_monitor.py'), {
      mapping: { ImportJobMonitorHandler: States.ShowingImportJobDetails },
      params: { duration: 1 },
    });
    assert.deepEqual(
      loaded.registered.map((h) => h.state),
      [States.ShowingImportJobDetails],
    );
    const started = Date.now();
    const result = await machine.run(machineContext());
    const took = Date.now() - started;
    assert.deepEqual(result.history.slice(-4), [
      States.GettingVersion,
      States.CheckingImportJobs,
      States.ShowingImportJobDetails,
      States.Completed,
    ]);
    assert.match(
      printed,
      /^Starting import job monitoring for 1s\nFound 1 active import jobs\n {2}Job 1: importing\nMonitoring completed\nMonitoring completed in \d+\.\d\ds\n$/,
    );
    assert.ok(took >= 5000 && took < 12_000, `took ${took} ms`);
    // CheckingImportJobs (TypeScript) put the parsed job in the context.
    const snap = importJobsOf(ctx!);
    assert.ok(snap);
    assert.deepEqual(
      snap.active.map((j) => [j.id, j.status, j.phase, j.targetTable]),
      [[1, 'running', 'importing', `\`${f.db}\`.\`t\``]],
    );
    await c.query('CANCEL IMPORT JOB 1');
  });

  it('CheckingImportJobs fills context.import_jobs (exact values, by column name) for Python handlers on every poll', async () => {
    f.emu.settings.rowsPerSecond = 400;
    await c.query(`IMPORT INTO t FROM '${await f.csv('a.csv', 60)}' WITH DETACHED`);
    const machine = installImportJobStates(createDefaultMachine({ next: 'CheckingImportJobs' }), {
      next: 'after_jobs',
    });
    loaded = await loadPythonHandlers(machine, path.join(dir, 'jobs_reader.py'));
    const result = await machine.run(machineContext());
    assert.equal(result.finalState, States.Completed);
    const seen = printed.split('\n').filter((l) => l.startsWith('seen '));
    assert.ok(seen.length >= 2, printed);
    // Values as execute_query gives them: ints for LONGLONG, datetime for TIMESTAMP.
    for (const l of seen) assert.match(l, /^seen 1 (pending|running) int int datetime `trt_mon\w*`\.`t`$/, l);
    assert.ok(
      seen.some((l) => / running /.test(l)),
      printed,
    );
    // The last poll (no job active) went on to after_jobs, with the final row mirrored.
    assert.match(printed, /after 1 finished 60 datetime 1\n/);
    assert.equal(importJobsOf(ctx!)?.jobs[0].status, 'finished');
    assert.deepEqual(result.history.slice(-2), ['after_jobs', States.Completed]);
  });

  it('ShowingImportJobDetails (TypeScript) watches until the job ends; a failed job ends the run in an error state', async () => {
    f.emu.settings.rowsPerSecond = 300;
    await c.query(`IMPORT INTO t FROM '${await f.csv('bad.csv', 30, '31,x,not-a-number\n')}' WITH DETACHED`);
    const lines: string[] = [];
    const machine = installImportJobStates(createDefaultMachine({ next: States.CheckingImportJobs }), {
      interval: 20,
      print: (l) => lines.push(l),
    });
    await assert.rejects(machine.run(machineContext()), /import job 1 failed: .*Incorrect integer value/);
    assert.equal(lines[0], 'Checking for active import jobs...');
    assert.equal(lines[1], '✓ Found 1 active import job(s)');
    assert.ok(lines.includes('--- Import Job Status Update ---'), lines.join('\n'));
    assert.ok(
      lines.some((l) => /^Job_ID: 1 \| Phase: importing \| Start_Time: \d{4}-/.test(l)),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) =>
        /^Job_ID: 1 \| Status: failed \| End_Time: .* \| Result_Message: .*Incorrect integer/.test(l),
      ),
      lines.join('\n'),
    );
    assert.ok(lines.includes('✓ Import job monitoring completed'));
    assert.ok(!lines.some((l) => /Completed/.test(l)));
  });

  it('CheckingImportJobs with no active job goes straight to Completed', async () => {
    const lines: string[] = [];
    const machine = installImportJobStates(createDefaultMachine(), { print: (l) => lines.push(l) });
    const result = await machine.run(machineContext());
    assert.deepEqual(result.history.slice(-2), [States.GettingVersion, States.Completed]);
    await ctx!.closeConnections();
    const m2 = installImportJobStates(createDefaultMachine({ next: 'CheckingImportJobs' }), {
      print: (l) => lines.push(l),
    });
    const r2 = await m2.run(ctx!);
    assert.deepEqual(r2.history.slice(-2), [States.CheckingImportJobs, States.Completed]);
    assert.deepEqual(lines, ['Checking for active import jobs...', '✓ No active import jobs found']);
    assert.deepEqual(importJobsOf(ctx!)?.rows, []);
  });

  it('test-rig monitor --python-module calls the handler on each event and exits 1 when a job fails', async () => {
    f.emu.settings.rowsPerSecond = 200;
    f.emu.settings.pendingMs = 300; // seen pending first, then the phase change
    const cli = startCli(
      [
        'monitor',
        '-H',
        `${f.emu.host}:${f.emu.port}`,
        '-u',
        'root',
        '--password=',
        '-d',
        f.db,
        '--python-module',
        'print_events',
        '--interval',
        '0.02',
        '--until-done',
        '--duration',
        '30',
      ],
      dir,
    );
    await cli.seen(/--- Import Job Status Update/);
    await c.query(`IMPORT INTO t FROM '${await f.csv('bad.csv', 40, '41,x,not-a-number\n')}' WITH DETACHED`);
    const code = await cli.exited;
    const out = cli.stdout();
    assert.equal(code, 1, cli.output());
    const events = out
      .split('\n')
      .filter((l) => l.startsWith('py '))
      .map((l) => (l.startsWith('py failed ') ? 'on_failed' : l.split(' ')[2]));
    assert.equal(events[0], 'discovered', out);
    assert.ok(events.includes('phase'), out);
    assert.ok(events.includes('progress'), out);
    // failed goes to on_failed, not on_event
    assert.equal(events.at(-1), 'on_failed', out);
    assert.ok(!events.includes('failed'), out);
    assert.ok(!events.includes('finished'), out);
    assert.match(out, /py 1 discovered job=1 status=pending phase= rows_listed=\[1\] conn=True\n/);
    assert.match(out, /py \d+ phase job=1 status=running phase=importing rows_listed=\[1\] conn=True\n/);
    assert.match(out, /py failed job=1: .*Incorrect integer value/);
    assert.match(out, /Job 1 failed: .*Incorrect integer value/);
    assert.match(out, /exit code 1\)/);
  });

  it('monitor --python-module: a finished job exits 0; --json keeps handler prints off stdout', async () => {
    f.emu.settings.rowsPerSecond = 500;
    await c.query(`IMPORT INTO t FROM '${await f.csv('ok.csv', 50)}' WITH DETACHED`);
    const cli = startCli(
      [
        'monitor',
        '-H',
        `${f.emu.host}:${f.emu.port}`,
        '-u',
        'root',
        '--password=',
        '-d',
        f.db,
        '--python-module',
        path.join(dir, 'print_events.py'),
        '--interval',
        '0.02',
        '--until-done',
        '--include-history',
        '--json',
      ],
      dir,
    );
    const code = await cli.exited;
    assert.equal(code, 0, cli.output());
    const json = cli
      .stdout()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string });
    assert.equal(json.at(-1)?.event, 'summary');
    assert.match(cli.output(), /py \d+ finished job=1 status=finished/);
    assert.doesNotMatch(cli.stdout(), /^py /m);
  });

  it('monitor --python-module reports a handler exception with exit code 3; a module without handlers is an error', async () => {
    fs.writeFileSync(
      path.join(dir, 'raising.py'),
      'from test_rig import PyStateHandler\n\nclass RaisingHandler(PyStateHandler):\n    def on_discovered(self, context, event):\n        raise ValueError("boom")\n',
    );
    fs.writeFileSync(
      path.join(dir, 'plain.py'),
      'from test_rig import PyStateHandler\n\nclass PlainHandler(PyStateHandler):\n    pass\n',
    );
    f.emu.settings.rowsPerSecond = 500;
    await c.query(`IMPORT INTO t FROM '${await f.csv('ok.csv', 20)}' WITH DETACHED`);
    const common = ['-H', `${f.emu.host}:${f.emu.port}`, '-u', 'root', '--password=', '-d', f.db];
    const bad = startCli(
      ['monitor', ...common, '--python-module', 'raising', '--include-history', '--until-done'],
      dir,
    );
    assert.equal(await bad.exited, 3, bad.output());
    assert.match(bad.output(), /event handler failed: RaisingHandler\.on_discovered raised ValueError: boom/);
    const none = startCli(['monitor', ...common, '--python-module', 'plain', '--until-done'], dir);
    assert.equal(await none.exited, 1, none.output());
    assert.match(none.output(), /no monitor handler in plain: define on_event/);
  });

  it('monitor --python-module --watch reloads the handler between polls', async () => {
    const file = path.join(dir, 'print_events.py');
    const cli = startCli(
      [
        'monitor',
        '-H',
        `${f.emu.host}:${f.emu.port}`,
        '-u',
        'root',
        '--password=',
        '-d',
        f.db,
        '--python-module',
        'print_events',
        '--watch',
        '--interval',
        '0.05',
        '--duration',
        '30',
      ],
      dir,
    );
    f.emu.settings.rowsPerSecond = 500;
    await cli.seen(/--- Import Job Status Update/);
    await c.query(`IMPORT INTO t FROM '${await f.csv('a.csv', 20)}' WITH DETACHED`);
    await cli.seen(/py \d+ finished job=1/);
    fs.writeFileSync(file, EVENT_HANDLER.replace('print(f"py {self.count}', 'print(f"edited {self.count}'));
    await cli.seen(/reloaded print_events\.py/);
    await c.query(`CREATE TABLE u ${TABLE_DDL}`);
    await c.query(`IMPORT INTO u FROM '${await f.csv('b.csv', 20)}' WITH DETACHED`);
    // a fresh instance of the edited class (state carries over only through __reload__)
    await cli.seen(/edited 1 discovered job=2/);
    assert.doesNotMatch(cli.output(), /py \d+ discovered job=2/);
    cli.kill('SIGINT');
    assert.equal(await cli.exited, 130, cli.output()); // Ctrl-C: the code every command stops with
  });
});
