// The server stopped and restarted during `test-rig run -j 4`: a throwaway
// MariaDB (startLocalServer) is halted mid-run and started again on the same
// data directory and port. Cases running at the time fail with a clear
// message, cases started once it is back pass, and the reports are complete.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import { startLocalServer, type LocalServer } from '../../ts/local-server/index.js';
import { CLI, cleanEnv } from '../helpers/cli.js';
import { SUITES, jsonLines, parseJUnit, sleep, type CaseLine } from './util.js';

describe('reliability: the server restarts during a -j 4 run', function () {
  this.timeout(60_000);
  let server: LocalServer;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'test-rig-restart-'));
  before(async () => {
    server = await startLocalServer({ handleSignals: false });
  });
  after(async () => {
    await server?.stop();
    if (!process.env.KEEP_TMP) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('running cases fail with a clear message, later cases pass, the run ends with a summary and complete reports', async () => {
    const json = path.join(tmp, 'run.jsonl');
    const junit = path.join(tmp, 'run.xml');
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
        'restart',
        '-j',
        '4',
        '--timeout',
        '20',
        '--json',
        json,
        '--junit',
        junit,
      ],
      { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const finished = () =>
      fs.existsSync(json) ? jsonLines(json).filter((l) => l.event === 'case').length : 0;
    for (let i = 0; i < 400 && finished() < 8; i++) await sleep(25);
    assert.ok(finished() >= 8, `the run did not get going: ${stderr}`);
    const before = finished();
    await server.halt('SIGKILL'); // a crash: no goodbye to the clients
    await sleep(1000);
    await server.restart();
    const code = await exited;

    const lines = jsonLines(json);
    assert.equal(lines[0].event, 'start');
    const summary = lines[lines.length - 1];
    assert.equal(summary.event, 'summary', stderr);
    const cases = lines.filter((l) => l.event === 'case') as unknown as CaseLine[];
    assert.equal(cases.length, 40, 'every case reported');
    assert.equal(summary.not_run, 0);
    const failed = cases.filter((k) => k.status === 'failed');
    const passed = cases.filter((k) => k.status === 'passed');
    assert.equal(failed.length + passed.length, 40);
    assert.ok(failed.length >= 1, 'the cases running at the crash fail');
    assert.ok(passed.length >= before, `${passed.length} passed`);
    // failures say what happened: the connection was lost or refused, not an obscure crash
    for (const k of failed)
      assert.match(
        k.message ?? '',
        /Connection lost|ConnectionLostError|connection refused|cannot connect|closed or was lost|ECONNRESET|ECONNREFUSED|server has gone away|Lost connection|shutdown/i,
        `${k.class}: ${k.message}`,
      );
    // after the restart, cases pass again
    assert.equal(
      cases[cases.length - 1].status,
      'passed',
      JSON.stringify(cases.slice(-3).map((k) => k.message)),
    );
    assert.equal(code, 1, stdout + stderr);
    assert.match(stdout, /40 cases: \d+ passed, \d+ failed/);
    const x = parseJUnit(junit);
    assert.equal(x.attrs.tests, '40');
    assert.equal(Number(x.attrs.failures), failed.length);
    // scratch databases of cases that ran after the restart were dropped
    const conn = await mysql.createConnection({
      host: '127.0.0.1',
      port: server.port,
      user: 'root',
      password: '',
    });
    const [rows] = await conn.query("SHOW DATABASES LIKE 'test_rig_%'");
    await conn.end();
    const left = (rows as Record<string, string>[]).map((r) => Object.values(r)[0]);
    const ranAfter = new Set(passed.map((k) => k.database));
    assert.deepEqual(
      left.filter((d) => ranAfter.has(d)),
      [],
    );
  });
});
