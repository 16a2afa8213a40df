// `test-rig clean` and the clean-up at the start of a run, as a user meets
// them: runs of the CLI, one SIGKILLed (supervisor and run process, as a lost
// CI machine leaves them), one alive; only the dead run's database is dropped.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI, cleanEnv, runCli } from '../helpers/cli.js';
import { rawConnection, testHostPort, testServer } from '../helpers/db.js';
import { docBlock, words } from '../helpers/doc-examples.js';

const server = ['-H', testHostPort, '-u', testServer.user, `--password=${testServer.password}`];

/** One case that says where it runs (pid, scratch database), then waits for a file `stop`. */
const WAITER = `import os
import time

from test_rig import PyState, PyStateHandler


class WaitHandler(PyStateHandler):
    def execute(self, context):
        with open("where.tmp", "w") as f:
            f.write(f"{os.getpid()} {context.database}")
        os.rename("where.tmp", "where")
        while not os.path.exists("stop"):
            time.sleep(0.05)
        return PyState.completed()
`;

interface LiveRun {
  dir: string;
  child: ChildProcess;
  /** The run process's pid. */
  runPid: number;
  database: string;
  exited: Promise<number | null>;
}

async function startRun(): Promise<LiveRun> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'test-rig-clean-'));
  fs.mkdirSync(path.join(dir, 'waiting'));
  fs.writeFileSync(path.join(dir, 'waiting', 'test_wait.py'), WAITER);
  const child = spawn(process.execPath, [CLI, 'run', '--suite-dir', 'waiting', ...server], {
    cwd: dir,
    env: cleanEnv(),
    stdio: 'ignore',
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const where = path.join(dir, 'where');
  for (let i = 0; !fs.existsSync(where); i++) {
    if (i > 1200) throw new Error('the case never started');
    await new Promise((r) => setTimeout(r, 50));
  }
  const [pid, database] = fs.readFileSync(where, 'utf8').split(' ');
  return { dir, child, runPid: Number(pid), database, exited };
}

/** SIGKILLs the supervisor and the run process: nothing of the run gets to clean up. */
async function killRun(r: LiveRun): Promise<void> {
  process.kill(r.runPid, 'SIGKILL');
  r.child.kill('SIGKILL');
  await r.exited;
  // the server drops the dead connections (and their locks) when it sees them close
  for (let i = 0; i < 100 && processAlive(r.runPid); i++) await new Promise((res) => setTimeout(res, 50));
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function exists(database: string): Promise<boolean> {
  const c = await rawConnection();
  try {
    const [rows] = await c.query('SHOW DATABASES LIKE ?', [database]);
    return (rows as unknown[]).length > 0;
  } finally {
    await c.end();
  }
}

describe('test-rig clean (CLI, real server)', function () {
  this.timeout(180_000);
  const runs: LiveRun[] = [];
  after(async () => {
    for (const r of runs) {
      fs.writeFileSync(path.join(r.dir, 'stop'), '');
      if (r.child.exitCode === null && r.child.signalCode === null) await r.exited;
      fs.rmSync(r.dir, { recursive: true, force: true });
    }
  });

  it("drops a SIGKILLed run's scratch database and keeps a live run's", async () => {
    const dead = await startRun();
    const live = await startRun();
    runs.push(dead, live);
    assert.match(dead.database, /^test_rig_run_[a-z0-9]+_1_waithandler$/);
    await killRun(dead);
    assert.equal(await exists(dead.database), true);

    const dry = await runCli(['clean', '--dry-run', '--json', ...server]);
    assert.equal(dry.code, 0, dry.stderr);
    const plan = JSON.parse(dry.stdout) as { dry_run: boolean; dropped: string[]; live: string[] };
    assert.equal(plan.dry_run, true);
    assert.ok(plan.dropped.includes(dead.database), dry.stdout);
    assert.ok(plan.live.includes(live.database), dry.stdout);
    assert.ok(!plan.dropped.includes(live.database));
    assert.equal(await exists(dead.database), true); // a dry run drops nothing

    const wet = await runCli(['clean', ...server]);
    assert.equal(wet.code, 0, wet.stderr);
    assert.match(wet.stdout, new RegExp(`^dropped ${dead.database}$`, 'm'));
    assert.match(
      wet.stderr,
      /^dropped \d+ scratch databases? of runs that are gone; kept \d+ of live runs$/m,
    );
    assert.equal(await exists(dead.database), false);
    assert.equal(await exists(live.database), true);

    // the live run goes on undisturbed and cleans up after itself
    fs.writeFileSync(path.join(live.dir, 'stop'), '');
    assert.equal(await live.exited, 0);
    assert.equal(await exists(live.database), false);
  });

  it('a supervised run drops what dead runs left when it starts', async () => {
    const dead = await startRun();
    runs.push(dead);
    await killRun(dead);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'test-rig-clean-next-'));
    try {
      fs.mkdirSync(path.join(dir, 'quick'));
      fs.writeFileSync(
        path.join(dir, 'quick', 'test_quick.py'),
        'from test_rig import PyState, PyStateHandler\n\n\nclass QuickHandler(PyStateHandler):\n    def execute(self, context):\n        return PyState.completed()\n',
      );
      const r = await runCli(['run', '--suite-dir', 'quick', ...server], { cwd: dir });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /^test-rig: dropped \d+ scratch databases? left by runs that died$/m);
      assert.equal(await exists(dead.database), false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("docs/cli.md's clean examples run as printed (server from TIDB_HOST)", async () => {
    for (const line of docBlock('docs/cli.md', '<!-- clean examples -->')) {
      const r = await runCli(words(line), {
        env: { TIDB_HOST: testHostPort, TIDB_USER: testServer.user, TIDB_PASSWORD: testServer.password },
      });
      assert.equal(r.code, 0, `${line}\n${r.stderr}`);
      if (line.includes('--json'))
        assert.deepEqual(Object.keys(JSON.parse(r.stdout) as object), ['dry_run', 'dropped', 'live']);
      else
        assert.match(
          r.stderr,
          /would drop \d+ scratch databases? of runs that are gone; kept \d+ of live runs/,
        );
    }
  });

  it('refuses what it does not take: an unknown flag is a usage error', async () => {
    const r = await runCli(['clean', '--bogus', ...server]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^error: unknown option '--bogus'/);
  });
});
