// isolation, multi and --local, each against a real server. One --local server in this file.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { runCli, cleanEnv, CLI } from '../helpers/cli.js';
import { rawConnection, testHostPort, testServer } from '../helpers/db.js';

const base = ['-H', testHostPort, '-u', testServer.user, `--password=${testServer.password}`];

async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((res) => srv.listen(0, '127.0.0.1', () => res()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((res) => srv.close(res));
  return port;
}

async function scratchDbs(): Promise<string[]> {
  const c = await rawConnection();
  const [rows] = await c.query(`SHOW DATABASES LIKE 'test\\_rig\\_iso\\_%'`);
  await c.end();
  return (rows as Record<string, string>[]).map((r) => Object.values(r)[0]);
}

const localDirs = () => fs.readdirSync(os.tmpdir()).filter((d) => d.startsWith('test-rig-local-'));
// What this test's server left behind: other runs on the machine come and go meanwhile
// (and a start reaps the folders of servers that died), so only new folders count.
const leftSince = (before: string[]) => localDirs().filter((d) => !before.includes(d));

describe('test-rig isolation, multi and --local', function () {
  this.timeout(120_000);

  it('isolation: uncommitted update invisible under REPEATABLE READ, visible after commit; scratch db dropped', async () => {
    const before = await scratchDbs();
    const r = await runCli(['isolation', ...base, '--test-rows', '25', '--show-sql']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /B sees the 25 inserted rows/);
    assert.match(r.stdout, /no dirty read/);
    assert.match(r.stdout, /verdict: PASS/);
    assert.match(r.stderr, /SQL \[A\] UPDATE/);
    assert.deepEqual(await scratchDbs(), before);
  });

  it('isolation --json and test.rows from the config file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'triso-'));
    fs.writeFileSync(path.join(dir, 'test-rig.toml'), `[test]\nrows = 7\n`);
    const r = await runCli(['isolation', ...base, '--json'], { cwd: dir });
    fs.rmSync(dir, { recursive: true, force: true });
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { ok: boolean; rows: number; checks: { ok: boolean }[] };
    assert.equal(j.ok, true);
    assert.equal(j.rows, 7);
    assert.equal(j.checks.length, 5);
  });

  it('isolation honours database.pool_size (needs 2 connections)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'triso-'));
    fs.writeFileSync(path.join(dir, 'test-rig.yaml'), `database:\n  pool_size: 1\n`);
    const r = await runCli(['isolation', ...base], { cwd: dir });
    fs.rmSync(dir, { recursive: true, force: true });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /pool_size is 1/);
  });

  it('isolation rejects a bad --test-rows', async () => {
    const r = await runCli(['isolation', ...base, '--test-rows', 'many']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /invalid --test-rows "many"/);
  });

  it('multi: N connections concurrently and a results table', async () => {
    const r = await runCli(['multi', ...base, '--connection-count', '3']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0], /^connection\s+host\s+status\s+version\s+ms$/);
    for (const n of [1, 2, 3])
      assert.match(r.stdout, new RegExp(`conn-${n}\\s+127\\.0\\.0\\.1:\\d+\\s+completed\\s+\\w+ \\d+\\.`));
    assert.match(r.stdout, /3\/3 connection\(s\) completed/);
  });

  it('multi across several --host values: each row has its host; a dead host fails its rows, exit 1', async () => {
    const dead = `127.0.0.1:${await closedPort()}`;
    const r = await runCli([
      'multi',
      '-u',
      testServer.user,
      `--password=${testServer.password}`,
      '-n',
      '4',
      '--host',
      testHostPort,
      '--host',
      dead,
      '--json',
    ]);
    assert.equal(r.code, 1, r.stderr);
    const j = JSON.parse(r.stdout) as {
      ok: boolean;
      connections: { connection: string; host: string; status: string; error: string | null }[];
    };
    assert.equal(j.ok, false);
    assert.deepEqual(
      j.connections.map((c) => [c.host, c.status]),
      [
        [testHostPort, 'completed'],
        [dead, 'failed'],
        [testHostPort, 'completed'],
        [dead, 'failed'],
      ],
    );
    assert.match(String(j.connections[1].error), /connection refused/);
  });

  it('connect --local: a throwaway server answers, then its data directory is gone', async () => {
    const before = localDirs();
    const r = await runCli(['connect', '--local', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as {
      ok: boolean;
      host: string;
      database: string;
      server: { kind: string };
    };
    assert.equal(j.ok, true);
    assert.equal(j.database, 'test');
    assert.match(j.server.kind, /mariadb|mysql/);
    assert.notEqual(j.host, testHostPort);
    assert.deepEqual(leftSince(before), []);
  });

  it('Ctrl-C (SIGINT) during --local stops the server and removes its data directory', async () => {
    const before = localDirs();
    const child = spawn(process.execPath, [CLI, 'connect', '--local', '-v'], {
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let sent = false;
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (!sent && /starting .*mariadbd|starting .*mysqld/.test(stderr)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    const code = await new Promise<number | null>((res) => child.on('close', (c) => res(c)));
    assert.ok(sent, stderr);
    assert.equal(code, 130, stderr);
    assert.match(stderr, /SIGINT: stopping the local server/);
    assert.deepEqual(leftSince(before), []);
  });
});
