import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { runCli, cleanEnv, CLI } from '../helpers/cli.js';
import { rawConnection, testHostPort, testServer } from '../helpers/db.js';

const base = ['-H', testHostPort, '-u', testServer.user, `--password=${testServer.password}`];

/** Runs the CLI in a pseudo-terminal (python3 pty), answering `Password` prompts with `answer`. */
function runInPty(
  args: string[],
  answer: string,
  env: Record<string, string | undefined> = {},
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      'python3',
      ['-c', 'import pty,sys; sys.exit(pty.spawn(sys.argv[1:]) >> 8)', process.execPath, CLI, ...args],
      {
        env: cleanEnv(env),
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    let output = '';
    let answered = false;
    const onData = (d: Buffer) => {
      output += d.toString('utf8');
      if (!answered && /Password for .*: /.test(output)) {
        answered = true;
        setTimeout(() => child.stdin.write(answer + '\r'), 100);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      child.stdin.destroy();
      resolve({ code, output });
    });
  });
}

describe('test-rig connect', function () {
  this.timeout(60_000);
  const secret = `Zq9-${process.pid}-pässwörd`;
  const user = `trcli_${process.pid}`;
  let tmp: string;

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'trcli-'));
    const c = await rawConnection();
    for (const h of ['localhost', '127.0.0.1', '%']) {
      await c.query(`CREATE USER IF NOT EXISTS '${user}'@'${h}' IDENTIFIED BY ?`, [secret]);
    }
    await c.end();
  });

  after(async () => {
    const c = await rawConnection();
    for (const h of ['localhost', '127.0.0.1', '%']) await c.query(`DROP USER IF EXISTS '${user}'@'${h}'`);
    await c.end();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('connects and prints the server kind and version', async () => {
    const r = await runCli(['connect', ...base]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /connected to 127\.0\.0\.1:\d+: (mariadb|mysql|tidb) \d+\.\d+/);
  });

  it('--json prints one machine-readable object', async () => {
    const r = await runCli(['connect', ...base, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { ok: boolean; server: { kind: string; version: string } };
    assert.equal(j.ok, true);
    assert.match(j.server.version, /^\d+\.\d+/);
  });

  it('a wrong password: one-line reason and hint, exit 1', async () => {
    const r = await runCli(['connect', '-H', testHostPort, '-u', user, '--password=not-the-password']);
    assert.equal(r.code, 1);
    const err = r.stderr.split('\n').filter((l) => l.startsWith('error:'));
    assert.equal(err.length, 1, r.stderr);
    assert.match(err[0], /access denied for user '.*'.*hint: check -u\/--user and --password/);
    assert.ok(!r.stderr.includes('not-the-password') && !r.stdout.includes('not-the-password'));
  });

  it('a closed port: connection refused with a hint, exit 1', async () => {
    const srv = net.createServer();
    await new Promise<void>((res) => srv.listen(0, '127.0.0.1', () => res()));
    const port = (srv.address() as net.AddressInfo).port;
    await new Promise((res) => srv.close(res));
    const r = await runCli(['connect', '-H', `127.0.0.1:${port}`, '--password=']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /error: .*connection refused.*hint: is the server running\?/);
  });

  it('an unknown database: named in the message with a hint, exit 1', async () => {
    const r = await runCli(['connect', ...base, '-d', 'no_such_db_xyz']);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /error: .*unknown database 'no_such_db_xyz'.*hint: create it first or check -d\/--database/,
    );
  });

  it('database.timeout_secs is the connect timeout', async () => {
    // a server that accepts and never greets
    const sockets: net.Socket[] = [];
    const srv = net.createServer((s) => sockets.push(s));
    await new Promise<void>((res) => srv.listen(0, '127.0.0.1', () => res()));
    const port = (srv.address() as net.AddressInfo).port;
    const cfg = path.join(tmp, 'timeout.toml');
    fs.writeFileSync(cfg, `[database]\ntimeout_secs = 1\n`);
    const t0 = Date.now();
    const r = await runCli(['connect', '-H', `127.0.0.1:${port}`, '--password=', '-c', cfg]);
    const elapsed = Date.now() - t0;
    for (const s of sockets) s.destroy();
    srv.close();
    assert.equal(r.code, 1);
    assert.match(r.stderr, /timed out|timeout/i);
    assert.ok(elapsed < 15_000, `took ${elapsed} ms`);
  });

  it('keeps the password out of stdout, stderr (-v, --show-sql, --json) and the log file', async () => {
    const logFile = path.join(tmp, 'logs', 'run.log');
    const runs = [
      await runCli([
        'connect',
        '-H',
        testHostPort,
        '-u',
        user,
        `--password=${secret}`,
        '-v',
        '--show-sql',
        '--show-output',
        '--log-level',
        'trace',
        '--log-file',
        logFile,
      ]),
      await runCli(['connect', '-H', testHostPort, '-u', user, '--json', '--show-sql'], {
        env: { TIDB_PASSWORD: secret },
      }),
      await runCli(['config', 'show', '-u', user, '--json'], { env: { TIDB_PASSWORD: secret } }),
      await runCli(['connect', '-H', testHostPort, '-u', user, '-d', 'missing_db_q', '--log-file', logFile], {
        env: { TIDB_PASSWORD: secret },
      }),
    ];
    assert.equal(runs[0].code, 0, runs[0].stderr);
    assert.equal(runs[1].code, 0, runs[1].stderr);
    assert.equal(runs[3].code, 1);
    assert.match(runs[0].stderr, /warning: a password given with --password is visible to other users/);
    assert.match(runs[0].stderr, /SQL .*SELECT/); // --show-sql really shows statements
    const log = fs.readFileSync(logFile, 'utf8');
    assert.match(log, /TRACE|DEBUG/);
    for (const r of runs) {
      assert.ok(!r.stdout.includes(secret), `stdout leaks the password: ${r.stdout}`);
      assert.ok(!r.stderr.includes(secret), `stderr leaks the password: ${r.stderr}`);
    }
    assert.ok(!log.includes(secret), 'the log file leaks the password');
  });

  it('an empty password is valid: --password= and TIDB_PASSWORD=""', async function () {
    if (testServer.password !== '') this.skip();
    const a = await runCli(['connect', '-H', testHostPort, '-u', testServer.user, '--password=']);
    const b = await runCli(['connect', '-H', testHostPort, '-u', testServer.user], {
      env: { TIDB_PASSWORD: '' },
    });
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.ok(!a.stderr.includes('visible to other users'), 'no warning for an empty password');
  });

  it('no -p and no password anywhere: an empty password, as the mysql client (no prompt)', async function () {
    if (testServer.password !== '') this.skip();
    const ok = await runCli(['connect', '-H', testHostPort, '-u', testServer.user]);
    assert.equal(ok.code, 0, ok.stderr);
    // a user that has a password is refused, not prompted for one
    const denied = await runCli(['connect', '-H', testHostPort, '-u', user]);
    assert.equal(denied.code, 1, denied.stderr);
    assert.match(denied.stderr, /access denied/);
    assert.ok(!denied.stderr.includes('Password for'), denied.stderr);
  });

  it('-h host -P port as the mysql client takes them; -H with -h is refused', async function () {
    if (testServer.password !== '') this.skip();
    const r = await runCli([
      'connect',
      '-h',
      testServer.host,
      '-P',
      String(testServer.port),
      '-u',
      testServer.user,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`connected to ${testServer.host}:${testServer.port}`));
    const both = await runCli(['connect', '-H', testHostPort, '-h', testServer.host]);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /^error: give the server address once/m);
    const badPort = await runCli(['connect', '-h', testServer.host, '-P', 'x']);
    assert.equal(badPort.code, 2);
    assert.match(badPort.stderr, /invalid port in "-P x"/);
    const help = await runCli(['connect', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /-h, --hostname <host>/);
  });

  it('-p alone without a terminal: a clear error, exit 2', async () => {
    const r = await runCli(['connect', '-H', testHostPort, '-u', user, '-p']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /error: -p asks for a password but standard input is not a terminal/);
  });

  it('-p with --no-password-prompt: a clear error, exit 2', async () => {
    const r = await runCli(['connect', '-H', testHostPort, '-u', user, '-p', '--no-password-prompt']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /prompt is disabled/);
  });

  it('-pSECRET gives the password, as with the mysql client', async () => {
    const r = await runCli(['connect', '-H', testHostPort, '-u', user, `-p${secret}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stderr.includes(secret) && !r.stdout.includes(secret), 'the password leaked');
  });

  it('-p prompts for the password on a terminal without echoing it', async () => {
    const r = await runInPty(['connect', '-H', testHostPort, '-u', user, '-p'], secret);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /Password for trcli_\d+@127\.0\.0\.1:\d+: /);
    assert.match(r.output, /connected to/);
    assert.ok(!r.output.includes(secret), `the terminal echoed the password: ${r.output}`);
  });

  it('a wrong password typed at the prompt fails without echo', async () => {
    const r = await runInPty(['connect', '-H', testHostPort, '-u', user, '--password'], 'wrong-typed-pw');
    assert.equal(r.code, 1, r.output);
    assert.match(r.output, /access denied/);
    assert.ok(!r.output.includes('wrong-typed-pw'));
  });
});
