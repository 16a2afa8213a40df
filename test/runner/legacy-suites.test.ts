// The old rig's suites as a user runs them: `test-rig run --suite-dir` on folders
// shaped like its src/ddl and src/txn, through the built CLI as a child process,
// against the local test server; --lock-wait-timeout (and its config key) and
// --strict-legacy.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../helpers/cli.js';
import { rawConnection, testHostPort, testServer } from '../helpers/db.js';
import { startEmulator, type Emulator } from '../emulator/server.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures');
const server = ['-H', testHostPort, '-u', testServer.user, `--password=${testServer.password}`];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'test-rig-legacy-'));

interface CaseLine {
  class: string;
  status: string;
  message: string | null;
  output: { stream: string; text: string }[];
}

function casesOf(file: string): Map<string, CaseLine> {
  const lines = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.event === 'case');
  return new Map(lines.map((l) => [String(l.class), l as unknown as CaseLine]));
}

/** The server's own lock wait defaults: [innodb_lock_wait_timeout, lock_wait_timeout]. */
async function serverDefaults(): Promise<[string, string]> {
  const conn = await rawConnection();
  try {
    const [rows] = await conn.query(
      'SELECT @@global.innodb_lock_wait_timeout AS r, @@global.lock_wait_timeout AS m',
    );
    const row = (rows as { r: unknown; m: unknown }[])[0];
    return [String(row.r), String(row.m)];
  } finally {
    await conn.end();
  }
}

const stdoutOf = (c: CaseLine) => c.output.filter((l) => l.stream === 'stdout').map((l) => l.text);

let jsonCount = 0;
const jsonFile = () => path.join(tmp, `run${++jsonCount}.jsonl`);

describe('old rig suites (CLI)', function () {
  this.timeout(120_000);

  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('a suite folder laid out like the old ddl one runs every handler', async () => {
    // its __init__.py imports `.test_rig_python`, which does not exist there
    const json = jsonFile();
    const r = await runCli([
      'run',
      ...server,
      '--suite-dir',
      path.join(FIXTURES, 'legacy_ddl'),
      '--json',
      json,
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const c = casesOf(json);
    assert.deepEqual([...c.keys()].sort(), [
      'CreateTableHandler',
      'CreateViewHandler',
      'DropTableHandler',
      'DropViewHandler',
    ]);
    for (const k of c.values()) assert.equal(k.status, 'passed', `${k.class}: ${k.message}`);
    assert.deepEqual(stdoutOf(c.get('CreateTableHandler')!), ['created ddl_test']);
    assert.deepEqual(stdoutOf(c.get('DropTableHandler')!), ['dropped ddl_test']);
    assert.deepEqual(stdoutOf(c.get('CreateViewHandler')!), ['view total 30']);
    assert.deepEqual(stdoutOf(c.get('DropViewHandler')!), ['dropped v_one']);
  });

  it('a real test_rig_python.py next to such an __init__.py is used as it is', async () => {
    // some old ddl folders carried a mock of that name; the handlers still get test_rig's classes
    const pkg = path.join(tmp, 'ddl_with_sibling');
    fs.mkdirSync(pkg);
    fs.copyFileSync(path.join(FIXTURES, 'legacy_ddl', '__init__.py'), path.join(pkg, '__init__.py'));
    fs.copyFileSync(
      path.join(FIXTURES, 'legacy_ddl', 'test_drop_table.py'),
      path.join(pkg, 'test_drop_table.py'),
    );
    const probe = [
      'import ddl_with_sibling',
      'from src.common.test_rig_python import PyStateHandler, PyState',
      'class WhichApiHandler(PyStateHandler):',
      '    def execute(self, context):',
      '        print(ddl_with_sibling.PyStateHandler.__module__, PyStateHandler.__module__)',
      '        return PyState.completed()',
      '',
    ].join('\n');
    fs.writeFileSync(path.join(pkg, 'test_which_api.py'), probe);
    const run = async () => {
      const json = jsonFile();
      const r = await runCli(['run', ...server, '--suite-dir', pkg, '--json', json]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const c = casesOf(json);
      assert.equal(c.get('DropTableHandler')!.status, 'passed');
      return stdoutOf(c.get('WhichApiHandler')!);
    };
    assert.deepEqual(await run(), ['test_rig.handler test_rig.handler']);
    fs.writeFileSync(
      path.join(pkg, 'test_rig_python.py'),
      'class PyStateHandler:\n    pass\nclass PyStateContext:\n    pass\nclass PyState:\n    pass\nclass PyConnection:\n    pass\n',
    );
    assert.deepEqual(await run(), ['ddl_with_sibling.test_rig_python test_rig.handler']);
  });

  describe('--lock-wait-timeout', () => {
    const locks = ['--suite-dir', path.join(FIXTURES, 'legacy_locks')];

    it('a row-lock wait and a metadata-lock wait between two connections end in seconds', async () => {
      // without the setting they last 50 s and a day: the 60 s case timeout would fail both
      const json = jsonFile();
      const r = await runCli(
        [
          'run',
          ...server,
          ...locks,
          '--handler',
          'RowLockWaitHandler',
          '--handler',
          'MetadataLockWaitHandler',
          '--lock-wait-timeout',
          '2',
          '--timeout',
          '60',
          '--json',
          json,
        ],
        { timeoutMs: 110_000 },
      );
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const c = casesOf(json);
      for (const [name, kind] of [
        ['RowLockWaitHandler', 'row'],
        ['MetadataLockWaitHandler', 'metadata'],
      ]) {
        const k = c.get(name)!;
        assert.equal(k.status, 'passed', `${name}: ${k.message}`);
        const line = stdoutOf(k).find((l) => l.startsWith(`${kind} lock wait`));
        const m = /lock wait ([\d.]+)s: .*Lock wait timeout exceeded/.exec(line ?? '');
        assert.ok(m, `${name} printed ${JSON.stringify(stdoutOf(k))}`);
        const waited = Number(m[1]);
        assert.ok(waited >= 1.5 && waited < 30, `${name} waited ${waited}s`);
      }
    });

    it('is set on the main connection and on every connection Python opens; config key, flag wins', async () => {
      const config = path.join(tmp, 'lock.toml');
      fs.writeFileSync(config, '[test]\nlock_wait_timeout_secs = 3\n');
      const settings = async (extra: string[]) => {
        const json = jsonFile();
        const r = await runCli([
          'run',
          ...server,
          ...locks,
          '--handler',
          'SessionSettingsHandler',
          '--json',
          json,
          ...extra,
        ]);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        return stdoutOf(casesOf(json).get('SessionSettingsHandler')!).filter((l) => l.includes(': '));
      };
      const each = (row: string, mdl: string) =>
        ['main', 'conn_0', 'extra', 'opened'].map((n) => `${n}: ${row} ${mdl}`);
      assert.deepEqual(await settings(['--lock-wait-timeout', '2']), each('2', '2'));
      assert.deepEqual(await settings(['--config', config]), each('3', '3'));
      assert.deepEqual(await settings(['--config', config, '--lock-wait-timeout', '4']), each('4', '4'));
      // not given: the server's own defaults stay
      assert.deepEqual(await settings([]), each(...(await serverDefaults())));
    });

    describe('on TiDB (the import emulator, which reports itself as TiDB)', () => {
      let emu: Emulator;
      before(async () => {
        emu = await startEmulator({ backend: testServer });
      });
      after(async () => {
        await emu?.close();
      });

      it('sets innodb_lock_wait_timeout only (TiDB has no session setting for its metadata lock)', async () => {
        const json = jsonFile();
        const r = await runCli([
          'run',
          '-H',
          `${emu.host}:${emu.port}`,
          '-u',
          testServer.user,
          `--password=${testServer.password}`,
          ...locks,
          '--handler',
          'SessionSettingsHandler',
          '--lock-wait-timeout',
          '2',
          '--json',
          json,
        ]);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.match(r.stdout + r.stderr, /on tidb/i);
        const lines = stdoutOf(casesOf(json).get('SessionSettingsHandler')!).filter((l) => l.includes(': '));
        assert.equal(lines.length, 4, lines.join('\n'));
        const [, mdl] = await serverDefaults();
        assert.deepEqual(
          lines,
          ['main', 'conn_0', 'extra', 'opened'].map((n) => `${n}: 2 ${mdl}`),
        );
      });
    });

    it('a bad value is one line and exit 2, before connecting', async () => {
      for (const bad of ['0', '1.5', 'abc', '-3']) {
        const r = await runCli(['run', ...server, ...locks, `--lock-wait-timeout=${bad}`]);
        assert.equal(r.code, 2, `${bad}: ${r.stdout}${r.stderr}`);
        assert.equal(
          r.stderr,
          `error: --lock-wait-timeout expects whole seconds from 1 to 1073741824, got '${bad}' (hint: e.g. --lock-wait-timeout 5)\n`,
        );
      }
      // the other number flags too (their parsers used to crash with a stack trace)
      const r = await runCli(['run', ...server, ...locks, '--timeout', 'abc']);
      assert.equal(r.code, 2);
      assert.equal(
        r.stderr,
        "error: option '--timeout <secs>' argument 'abc' is invalid. expected seconds from 0.001 to 2147483 (about 24 days)\n",
      );
      const config = path.join(tmp, 'bad-lock.toml');
      fs.writeFileSync(config, '[test]\nlock_wait_timeout_secs = 0\n');
      const c = await runCli(['run', ...server, ...locks, '--config', config]);
      assert.equal(c.code, 2, c.stdout + c.stderr);
      assert.match(c.stderr, /^error: .*lock_wait_timeout_secs.* must be at least 1/);
      assert.equal(c.stderr.trim().split('\n').length, 1, c.stderr);
    });
  });

  describe('--strict-legacy', () => {
    const strict = ['--suite-dir', path.join(FIXTURES, 'legacy_strict')];

    it('fails an old-style handler that executed no statement, and only that one', async () => {
      const json = jsonFile();
      const r = await runCli(['run', ...server, ...strict, '--strict-legacy', '--json', json]);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      const c = casesOf(json);
      assert.equal(c.get('NothingRunHandler')!.status, 'failed');
      assert.match(c.get('NothingRunHandler')!.message!, /executed no SQL statement \(--strict-legacy/);
      assert.equal(c.get('StatementRunHandler')!.status, 'passed');
      // written for this rig's API: not held to the old suites' rule
      assert.equal(c.get('NewStyleNoStatementHandler')!.status, 'passed');
    });

    it('without it, the same handler passes as it did in the old rig', async () => {
      const json = jsonFile();
      const r = await runCli(['run', ...server, ...strict, '--json', json]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(casesOf(json).get('NothingRunHandler')!.status, 'passed');
    });
  });
});
