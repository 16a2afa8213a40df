// Secrets and identifiers: the password never reaches logs, --show-sql,
// errors, reports or the command lines of processes; rig-built identifiers
// are quoted and a suite parameter cannot inject SQL.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PythonRuntime } from '../../ts/index.js';
import { startLocalServer } from '../../ts/local-server/index.js';
import { CLI, cleanEnv, runCli } from '../helpers/cli.js';
import { rawConnection, testHostPort } from '../helpers/db.js';
import { SERVER_ARGS, SUITES, casesOf, existingDatabases, jsonLines, parseJUnit, sleep } from './util.js';

const USER = `rig_sec_${process.pid}`;
const PASSWORD = `Pw-${process.pid}-s3cr3t-Zq`;

/** Every process's command line (NUL-separated args joined by spaces), pid → text. */
function allCommandLines(): Map<number, string> {
  const out = new Map<number, string>();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      out.set(Number(d), fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' '));
    } catch {
      /* gone */
    }
  }
  return out;
}

describe('reliability: security', function () {
  this.timeout(60_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'test-rig-sec-'));
  before(async () => {
    const c = await rawConnection();
    await c.query(`DROP USER IF EXISTS '${USER}'@'%'`);
    await c.query(`CREATE USER '${USER}'@'%' IDENTIFIED BY '${PASSWORD}'`);
    await c.query(`GRANT ALL ON *.* TO '${USER}'@'%'`);
    await c.end();
  });
  after(async () => {
    const c = await rawConnection();
    await c.query(`DROP USER IF EXISTS '${USER}'@'%'`);
    await c.end();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('the password never reaches stdout/stderr (-v, --show-sql), the log file, JSON lines, JUnit or any command line', async () => {
    const json = path.join(tmp, 's.jsonl');
    const junit = path.join(tmp, 's.xml');
    const logFile = path.join(tmp, 's.log');
    // started with core dumps allowed: the run turns them off once it holds the password
    const child = spawn(
      'bash',
      [
        '-c',
        'ulimit -S -c unlimited 2>/dev/null; exec "$@"',
        'bash',
        process.execPath,
        CLI,
        'run',
        '-H',
        testHostPort,
        '-u',
        USER,
        '--no-password-prompt',
        '--suites-dir',
        SUITES,
        'secrets',
        '--show-sql',
        '--show-output',
        '-v',
        '--output-level',
        'debug',
        '--log-file',
        logFile,
        '--json',
        json,
        '--junit',
        junit,
      ],
      { env: cleanEnv({ TIDB_PASSWORD: PASSWORD }), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    // while it runs: no process's command line holds the password
    const leakedIn: string[] = [];
    let done = false;
    void exited.then(() => (done = true));
    const coreLimits: string[] = [];
    while (!done) {
      for (const [pid, cmd] of allCommandLines()) if (cmd.includes(PASSWORD)) leakedIn.push(`${pid}: ${cmd}`);
      try {
        const limits = fs.readFileSync(`/proc/${child.pid}/limits`, 'utf8');
        const v = /^Max core file size\s+(\S+)/m.exec(limits)?.[1] ?? '?';
        if (coreLimits[coreLimits.length - 1] !== v) coreLimits.push(v);
      } catch {
        /* exited */
      }
      await sleep(20);
    }
    // allowed while starting, turned off once the run holds the password
    assert.deepEqual(
      coreLimits.slice(-2),
      ['unlimited', '0'],
      `core-dump limit over time: ${coreLimits.join(', ')}`,
    );
    assert.equal(await exited, 1, stdout + stderr);
    assert.deepEqual(leakedIn, []);
    const c = casesOf(json);
    assert.equal(c.get('ReprContextHandler')?.status, 'passed', c.get('ReprContextHandler')?.message ?? '');
    assert.equal(c.get('PrintsPasswordHandler')?.status, 'failed');
    assert.equal(c.get('SqlWithPasswordHandler')?.status, 'failed');
    assert.equal(c.get('LiteralPasswordInSqlHandler')?.status, 'failed');
    assert.match(stdout + stderr, /SQL \[main\] SELECT/, 'statements were echoed');
    const places: [string, string][] = [
      ['stdout', stdout],
      ['stderr', stderr],
      ['log file', fs.readFileSync(logFile, 'utf8')],
      ['JSON lines', fs.readFileSync(json, 'utf8')],
      ['JUnit', fs.readFileSync(junit, 'utf8')],
    ];
    for (const [where, text] of places) {
      assert.ok(!text.includes(PASSWORD), `the password is in the ${where}`);
      assert.ok(!text.includes('Literal-Pw-9f3k'), `a literal password from SQL is in the ${where}`);
    }
    assert.match(stdout, /IDENTIFIED BY '\*\*\*'/, 'the failing line is shown, its literal masked');
    parseJUnit(junit);
    assert.match(fs.readFileSync(json, 'utf8'), /\*\*\*/, 'redacted, visibly');
  });

  it('a password with quotes, a backslash and non-ASCII is masked in every encoding (SQL, JSON, repr, URL), everywhere', async () => {
    const user = `rig_forms_${process.pid}`;
    const pw = `Pw'q"b\\s-é-${process.pid}`;
    const c = await rawConnection();
    await c.query(`DROP USER IF EXISTS ?@'%'`, [user]);
    await c.query(`CREATE USER ?@'%' IDENTIFIED BY ?`, [user, pw]);
    await c.query(`GRANT ALL ON *.* TO ?@'%'`, [user]);
    await c.end();
    try {
      const json = path.join(tmp, 'forms.jsonl');
      const junit = path.join(tmp, 'forms.xml');
      const logFile = path.join(tmp, 'forms.log');
      const r = await runCli(
        [
          'run',
          '-H',
          testHostPort,
          '-u',
          user,
          '--no-password-prompt',
          '--suites-dir',
          SUITES,
          'secret_forms',
          '--show-sql',
          '--show-output',
          '--output-level',
          'debug',
          '--log-file',
          logFile,
          '--json',
          json,
          '--junit',
          junit,
        ],
        { env: { TIDB_PASSWORD: pw } },
      );
      assert.equal(r.code, 1, r.stdout + r.stderr);
      const k = casesOf(json).get('EncodedPasswordHandler')!;
      assert.equal(k.status, 'failed');
      const printed = k.output.filter((l) => !l.text.endsWith('SELECT VERSION()'));
      assert.equal(printed.length, 6, JSON.stringify(k.output));
      const forms = [
        pw,
        JSON.stringify(pw).slice(1, -1), // json.dumps(..., ensure_ascii=False)
        JSON.stringify(pw).slice(1, -1).replace('é', '\\u00e9'), // json.dumps
        pw.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/"/g, '\\"'), // SQL escapes
        pw.replace(/\\/g, '\\\\').replace(/'/g, "\\'"), // repr
        encodeURIComponent(pw),
        encodeURIComponent(pw).replace(/'/g, '%27'), // urllib.parse.quote
      ];
      const places: [string, string][] = [
        ['stdout', r.stdout],
        ['stderr', r.stderr],
        ['log file', fs.readFileSync(logFile, 'utf8')],
        ['JSON lines', fs.readFileSync(json, 'utf8')],
        ['JUnit', fs.readFileSync(junit, 'utf8')],
      ];
      for (const [where, text] of places)
        for (const f of forms)
          assert.ok(!text.includes(f), `${JSON.stringify(f)} is in the ${where}:\n${text}`);
      // visibly masked, as values, in each line
      for (const l of printed) assert.match(l.text, /\*{8}/, l.text);
      assert.match(k.message ?? '', /rejected "\*{8}"/);
      parseJUnit(junit);
    } finally {
      const c2 = await rawConnection();
      await c2.query(`DROP USER IF EXISTS ?@'%'`, [user]);
      await c2.end();
    }
  });

  for (const weak of ['1', 'test', 'passed']) {
    it(`a weak password (${JSON.stringify(weak)}) is masked as a value, never inside other words and numbers`, async () => {
      const user = `rig_weak_${process.pid}`;
      const c = await rawConnection();
      await c.query(`DROP USER IF EXISTS ?@'%'`, [user]);
      await c.query(`CREATE USER ?@'%' IDENTIFIED BY ?`, [user, weak]);
      await c.query(`GRANT ALL ON *.* TO ?@'%'`, [user]);
      await c.end();
      try {
        const json = path.join(tmp, 'weak.jsonl');
        const junit = path.join(tmp, 'weak.xml');
        const r = await runCli(
          [
            'run',
            '-H',
            testHostPort,
            '-u',
            user,
            '--no-password-prompt',
            '--suites-dir',
            SUITES,
            'weak_password',
            '--show-output',
            '--json',
            json,
            '--junit',
            junit,
          ],
          { env: { TIDB_PASSWORD: weak } },
        );
        assert.equal(r.code, 0, r.stdout + r.stderr);
        const lines = jsonLines(json);
        const k = casesOf(json).get('CommonWordsHandler')!;
        assert.equal(k.status, 'passed');
        assert.equal(k.id, 'weak_password/test_weak.py::CommonWordsHandler');
        assert.match(k.database ?? '', /^test_rig_\w+$/);
        assert.deepEqual(
          k.output.map((l) => l.text),
          [
            'latest test_results: 10 cases passed_ok in 2.1 s, 21 rows',
            `database ${k.database}`,
            'pw=********',
          ],
        );
        const summary = lines.find((l) => l.event === 'summary')!;
        assert.equal(summary.passed, 1);
        assert.match(r.stdout, /✔ PASS +weak_password\/test_weak\.py::CommonWordsHandler/);
        assert.match(r.stdout, /\n1 case: 1 passed, 0 failed, 0 skipped in /);
        assert.match(r.stdout, /latest test_results: 10 cases passed_ok in 2\.1 s, 21 rows/);
        assert.ok(!r.stdout.includes(`pw=${weak}`), r.stdout);
        const x = parseJUnit(junit);
        assert.equal(x.attrs.tests, '1');
        assert.deepEqual(
          x.cases.map((t) => [t.name, t.kind]),
          [['CommonWordsHandler', null]],
        );
        assert.match(fs.readFileSync(junit, 'utf8'), /test_rig_\w+/);
      } finally {
        const c2 = await rawConnection();
        await c2.query(`DROP USER IF EXISTS ?@'%'`, [user]);
        await c2.end();
      }
    });
  }

  it('a wrong password: one-line error naming the user, never the password (run)', async () => {
    const wrong = `${PASSWORD}-nope`;
    const r = await runCli([
      'run',
      '-H',
      testHostPort,
      '-u',
      USER,
      `--password=${wrong}`,
      '--suites-dir',
      SUITES,
      'secrets',
    ]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`access denied for user '${USER}'`));
    assert.ok(!(r.stdout + r.stderr).includes(wrong));
  });

  it("the local server's command line carries no password", async () => {
    const server = await startLocalServer({ handleSignals: false });
    try {
      const cmd = fs.readFileSync(`/proc/${server.pid}/cmdline`, 'utf8').split('\0');
      assert.ok(
        cmd.some((a) => a.endsWith('mariadbd') || a.endsWith('mysqld')),
        cmd.join(' '),
      );
      assert.deepEqual(
        cmd.filter((a) => /pass/i.test(a)),
        [],
      );
    } finally {
      await server.stop();
    }
  });

  it('test_rig.quote_identifier doubles backticks and refuses empty, NUL and non-string names', () => {
    const rt = PythonRuntime.get();
    const mod = rt.importModule('test_rig');
    const q = (v: unknown) => rt.call(mod, 'quote_identifier', [v]);
    assert.equal(q('plain'), '`plain`');
    assert.equal(q('a`b``c'), '`a``b````c`');
    assert.equal(q("x'; DROP DATABASE d; --"), "`x'; DROP DATABASE d; --`");
    assert.throws(() => q(''), /ValueError: not a valid identifier/);
    assert.throws(() => q('a\0b'), /ValueError/);
    assert.throws(() => q(5), /TypeError: an identifier must be a str, not int/);
  });

  it('a suite parameter with quotes and backticks used as a table name cannot inject SQL (test_rig.quote_identifier)', async () => {
    const canary = `rig_canary_${process.pid}`;
    const c = await rawConnection();
    await c.query(`CREATE DATABASE IF NOT EXISTS \`${canary}\``);
    await c.end();
    try {
      const evil = [
        `x\`; DROP DATABASE ${canary}; --x`,
        `x'; DROP DATABASE ${canary}; --x`,
        `x"); DROP DATABASE ${canary}; #`,
        '``',
        'a`b``c',
      ];
      for (const table of evil) {
        const json = path.join(tmp, 'inject.jsonl');
        const r = await runCli([
          'run',
          ...SERVER_ARGS,
          '--suites-dir',
          SUITES,
          'inject',
          '--show-sql',
          '--param',
          `table=${table}`,
          '--json',
          json,
        ]);
        assert.equal(r.code, 0, `${table}: ${r.stdout}${r.stderr}`);
        const k = casesOf(json).get('ParamAsTableNameHandler')!;
        // the handler checked that exactly this one table exists, named exactly as given
        assert.equal(k.status, 'passed', k.message ?? '');
        assert.ok(
          k.output.some((l) => l.text.startsWith('created table ')),
          JSON.stringify(k.output),
        );
        assert.deepEqual(await existingDatabases([k.database]), []);
      }
      assert.deepEqual(await existingDatabases([canary]), [canary], 'the canary database survived');
    } finally {
      const c2 = await rawConnection();
      await c2.query(`DROP DATABASE IF EXISTS \`${canary}\``);
      await c2.end();
    }
  });
});
