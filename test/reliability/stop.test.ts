// A graceful stop (SIGTERM) while the server has stopped answering ends within
// seconds, writes the reports and names what it could not clean up; a second
// signal quits at once and leaves the reports written so far valid.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startLocalServer, type LocalServer } from '../../ts/local-server/index.js';
import { CLI, cleanEnv } from '../helpers/cli.js';
import { SUITES, jsonLines, parseJUnit, sleep } from './util.js';

describe('reliability: stopping while the server does not answer', function () {
  this.timeout(180_000);
  let server: LocalServer;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'test-rig-stop-'));
  before(async () => {
    server = await startLocalServer({ handleSignals: false });
  });
  after(async () => {
    if (server.pid) process.kill(server.pid, 'SIGCONT');
    await server.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  function start(json: string, junit: string) {
    const child = spawn(
      process.execPath,
      [
        CLI,
        'run',
        '-H',
        `127.0.0.1:${server.port}`,
        '-u',
        'root',
        '--password=',
        '--suites-dir',
        SUITES,
        'hangs',
        '-k',
        'SleepsForever',
        '--json',
        json,
        '--junit',
        junit,
      ],
      { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout.resume();
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    return { child, exited, stderr: () => stderr };
  }

  async function untilCaseRuns(json: string) {
    for (let i = 0; i < 300; i++) {
      if (fs.existsSync(json) && fs.readFileSync(json, 'utf8').includes('"event":"start"')) break;
      await sleep(100);
    }
    await sleep(1500); // the case has created its scratch database and sleeps
  }

  it('SIGTERM with the server stopped (SIGSTOP): ends within seconds, reports written, the scratch database named', async () => {
    const json = path.join(tmp, 'a.jsonl');
    const junit = path.join(tmp, 'a.xml');
    const run = start(json, junit);
    await untilCaseRuns(json);
    process.kill(server.pid!, 'SIGSTOP');
    try {
      const t0 = performance.now();
      run.child.kill('SIGTERM');
      const code = await Promise.race([run.exited, sleep(60_000).then(() => 'hung' as const)]);
      if (code === 'hung') run.child.kill('SIGKILL');
      assert.notEqual(code, 'hung', `still running 60 s after SIGTERM: ${run.stderr()}`);
      assert.equal(code, 143, run.stderr());
      assert.ok(performance.now() - t0 < 30_000);
      const summary = jsonLines(json).pop()!;
      assert.equal(summary.event, 'summary');
      assert.equal(summary.interrupted, true);
      assert.equal(parseJUnit(junit).attrs.tests, '1');
      assert.match(
        run.stderr(),
        /test-rig: could not drop scratch database test_rig_\w+: the server did not answer/,
      );
    } finally {
      process.kill(server.pid!, 'SIGCONT');
    }
  });

  it('a second signal quits at once; the JSON lines written so far are valid', async () => {
    const json = path.join(tmp, 'b.jsonl');
    const junit = path.join(tmp, 'b.xml');
    const run = start(json, junit);
    await untilCaseRuns(json);
    process.kill(server.pid!, 'SIGSTOP');
    try {
      run.child.kill('SIGINT');
      await sleep(300);
      run.child.kill('SIGINT');
      const code = await Promise.race([run.exited, sleep(30_000).then(() => 'hung' as const)]);
      if (code === 'hung') run.child.kill('SIGKILL');
      assert.equal(code, 130, run.stderr());
      for (const l of fs.readFileSync(json, 'utf8').split('\n').filter(Boolean)) JSON.parse(l);
      // JUnit is written whole or not at all
      if (fs.existsSync(junit)) parseJUnit(junit);
    } finally {
      process.kill(server.pid!, 'SIGCONT');
    }
  });
});
