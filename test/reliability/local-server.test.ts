// --local: refused with -H, a clear error when its socket path would be too
// long, no password in the server's environment, and what a killed test-rig
// left behind (folder, server) removed at the next start.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { reapLeftoverServers, startLocalServer } from '../../ts/local-server/index.js';
import { CLI, cleanEnv, runCli } from '../helpers/cli.js';
import { SUITES, sleep } from './util.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('reliability: --local', function () {
  this.timeout(120_000);

  it('-H with --local is refused: one line, exit 2', async () => {
    const r = await runCli(['run', '--local', '-H', '127.0.0.1:3306', '--suites-dir', SUITES, 'inject']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr.trim(),
      /^error: -H and --local cannot be used together: --local starts its own server \(hint: .*\)$/,
    );
  });

  it('a socket path too long for a Unix socket is a clear error naming TMPDIR', async () => {
    const long = path.join(os.tmpdir(), `rig-long-${'d'.repeat(90)}`);
    fs.mkdirSync(long, { recursive: true });
    try {
      const r = await runCli(['run', '--local', '--suites-dir', SUITES, 'inject'], { env: { TMPDIR: long } });
      assert.equal(r.code, 1, r.stderr);
      assert.match(
        r.stderr,
        /socket path .* would be \d+ bytes, more than the 107 a Unix socket allows \(hint: set TMPDIR/,
      );
      assert.equal(
        r.stderr
          .trim()
          .split('\n')
          .filter((l) => l.startsWith('error:')).length,
        1,
        r.stderr,
      );
      assert.deepEqual(fs.readdirSync(long), [], 'nothing left in TMPDIR');
    } finally {
      fs.rmSync(long, { recursive: true, force: true });
    }
  });

  it("the server's environment carries no password", async () => {
    process.env.TIDB_PASSWORD = 'Env-Pw-should-not-pass';
    process.env.MYSQL_PWD = 'Env-Pw-should-not-pass';
    try {
      const server = await startLocalServer({ handleSignals: false });
      try {
        const environ = fs.readFileSync(`/proc/${server.pid}/environ`, 'utf8');
        assert.ok(environ.includes('PATH='), 'the environment was read');
        assert.ok(!environ.includes('Env-Pw-should-not-pass'), 'the password is in the server environment');
      } finally {
        await server.stop();
      }
    } finally {
      delete process.env.TIDB_PASSWORD;
      delete process.env.MYSQL_PWD;
    }
  });

  it('test-rig killed (SIGKILL) during a --local run: the next start removes the orphaned server and its folder', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-reap-'));
    fs.chmodSync(tmp, 0o755); // the server may run as another user (mysql)
    try {
      const child = spawn(
        process.execPath,
        [CLI, 'run', '--local', '--suites-dir', SUITES, 'hangs', '-k', 'SleepsForever', '--timeout', '100'],
        { env: cleanEnv({ TMPDIR: tmp }), stdio: 'ignore' },
      );
      // wait for the server of that run to be up (its pid file)
      let dir: string | undefined;
      let serverPid = 0;
      for (let i = 0; i < 600 && !serverPid; i++) {
        await sleep(100);
        dir = fs.readdirSync(tmp).find((e) => e.startsWith('test-rig-local-'));
        const pidFile = dir && path.join(tmp, dir, 'mysqld.pid');
        if (pidFile && fs.existsSync(pidFile)) serverPid = Number(fs.readFileSync(pidFile, 'utf8').trim());
      }
      assert.ok(dir && serverPid, 'the local server started');
      await sleep(1000);
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      // left behind: nobody could clean up
      assert.ok(alive(serverPid), 'the server outlived test-rig');
      assert.ok(fs.existsSync(path.join(tmp, dir)));
      const reaped = reapLeftoverServers(tmp);
      assert.deepEqual(reaped, [path.join(tmp, dir)]);
      for (let i = 0; i < 50 && alive(serverPid); i++) await sleep(100);
      assert.ok(!alive(serverPid), 'the orphaned server was stopped');
      assert.deepEqual(fs.readdirSync(tmp), []);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('folders of live test-rig processes are left alone', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rig-reap-'));
    try {
      const mine = path.join(tmp, 'test-rig-local-live01');
      fs.mkdirSync(mine);
      fs.writeFileSync(path.join(mine, 'owner.pid'), String(process.pid));
      const foreign = path.join(tmp, 'test-rig-local-noown');
      fs.mkdirSync(foreign);
      assert.deepEqual(reapLeftoverServers(tmp), []);
      assert.ok(fs.existsSync(mine) && fs.existsSync(foreign));
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
