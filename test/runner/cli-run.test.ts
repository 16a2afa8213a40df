// `test-rig run` end to end: the built CLI as a child process on the fixture
// suites, against the local test server (MariaDB in CI).
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI, cleanEnv, runCli } from '../helpers/cli.js';
import { rawConnection, testHostPort, testServer } from '../helpers/db.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures');
const SUITES = path.join(FIXTURES, 'suites');
const server = ['-H', testHostPort, '-u', testServer.user, `--password=${testServer.password}`];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'test-rig-runner-'));

interface CaseLine {
  event: string;
  id: string;
  class: string;
  status: string;
  message: string | null;
  skip_reason: string | null;
  where: string | null;
  traceback: string | null;
  database: string | null;
  attempts: number;
  output: { stream: string; text: string }[];
}

function jsonLines(file: string): Record<string, unknown>[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function casesOf(file: string): Map<string, CaseLine> {
  return new Map(
    jsonLines(file)
      .filter((l) => l.event === 'case')
      .map((l) => [String(l.class), l as unknown as CaseLine]),
  );
}

/** Parses JUnit XML with Python's ElementTree (a real XML parser) into plain data. */
function parseJUnit(file: string): {
  attrs: Record<string, string>;
  suites: {
    name: string;
    cases: { classname: string; name: string; kind: string | null; message: string | null }[];
  }[];
} {
  const script = `
import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "testsuites", root.tag
out = {"attrs": dict(root.attrib), "suites": []}
for s in root.findall("testsuite"):
    cases = []
    for c in s.findall("testcase"):
        kids = [k for k in c if k.tag in ("failure", "error", "skipped", "flakyFailure")]
        cases.append({"classname": c.get("classname"), "name": c.get("name"),
                      "kind": kids[0].tag if kids else None, "message": kids[0].get("message") if kids else None})
    out["suites"].append({"name": s.get("name"), "cases": cases})
print(json.dumps(out))
`;
  return JSON.parse(execFileSync('python3', ['-c', script, file], { encoding: 'utf8' })) as ReturnType<
    typeof parseJUnit
  >;
}

async function existingDatabases(names: (string | null)[]): Promise<string[]> {
  const conn = await rawConnection();
  try {
    const [rows] = await conn.query('SHOW DATABASES');
    const have = new Set((rows as { Database: string }[]).map((r) => r.Database));
    return names.filter((n): n is string => n !== null && have.has(n));
  } finally {
    await conn.end();
  }
}

describe('test-rig run (CLI, real server)', function () {
  this.timeout(60_000);
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('--list: collects transitive subclasses, not helper bases, imports or folders without __init__.py; never connects', async () => {
    // port 1: nothing listens there, so any connection attempt would fail
    const r = await runCli(['run', '--list', '--suites-dir', SUITES, '-H', '127.0.0.1:1', '--password=']);
    const rows = r.stdout
      .trim()
      .split('\n')
      .map((l) => l.split('\t'));
    const classes = rows.map((c) => c[2].split('  ')[0]);
    for (const want of [
      'BaseFlowHandler',
      'DeepFlowHandler',
      'TwoConnectionsHandler',
      'FirstTableHandler',
      'Slow6Handler',
    ]) {
      assert.ok(classes.includes(want), `${want} missing from --list:\n${r.stdout}`);
    }
    for (const not of [
      'TableHelper',
      'ImportedHandler',
      '_PrivateHandler',
      'NotAHandlerClass',
      'MultiConnectionTestHandler',
      '_SameTable',
      '_Slow',
    ]) {
      assert.ok(!classes.includes(not), `${not} must not be a case`);
    }
    assert.ok(!r.stdout.includes('not_a_suite'));
    assert.match(r.stdout, /basic\ttest_discovery\.py\tBaseFlowHandler  \[smoke\]/);
    assert.match(r.stdout, /failures\ttest_broken\.py\t-  ✖ cannot import test_broken\.py: SyntaxError/);
    assert.equal(r.code, 1, 'broken files make --list fail');
    const ok = await runCli([
      'run',
      '--list',
      '--suites-dir',
      SUITES,
      'BASIC',
      '-H',
      '127.0.0.1:1',
      '--password=',
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout.trim().split('\n').length, 5);
  });

  it('--list filters: --handler, --tag, -k, --file; shards are disjoint and cover every case', async () => {
    const list = async (...args: string[]) => {
      const r = await runCli([
        'run',
        '--list',
        '--suites-dir',
        SUITES,
        'basic',
        'slow',
        ...args,
        '-H',
        '127.0.0.1:1',
        '--password=',
      ]);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t').slice(0, 3).join('/').split('  ')[0]);
    };
    assert.deepEqual(await list('--handler', 'slow1*', '--handler', '*2Handler'), [
      'slow/test_slow.py/Slow1Handler',
      'slow/test_slow.py/Slow2Handler',
    ]);
    assert.equal((await list('--tag', 'smoke')).length, 2);
    assert.deepEqual(await list('-k', 'isolation and first'), ['basic/test_isolation.py/FirstTableHandler']);
    assert.equal((await list('--file', 'test_discovery')).length, 3);
    assert.equal((await list('--test-file', 'test_discovery.py')).length, 3);
    const all = await list();
    const shards = await Promise.all([1, 2, 3].map((i) => list('--shard', `${i}/3`)));
    assert.deepEqual(shards.flat().sort(), [...all].sort());
    assert.equal(new Set(shards.flat()).size, all.length);
  });

  it('usage errors exit 2: unknown suite, bad -k, bad --shard, --db-type mock; an empty suites folder runs nothing', async () => {
    const base = ['run', '--suites-dir', SUITES, '-H', '127.0.0.1:1', '--password='];
    const unknown = await runCli([...base, 'nope']);
    assert.equal(unknown.code, 2);
    assert.match(
      unknown.stderr,
      /no suite, file or case matches 'nope' \(hint: suites: basic, failures, slow; see --list\)/,
    );
    assert.equal((await runCli([...base, '-k', 'a and'])).code, 2);
    assert.equal((await runCli([...base, '--shard', '4/3'])).code, 2);
    assert.equal((await runCli([...base, 'basic', '--handler', 'NoSuch*'])).code, 2);
    const mock = await runCli([...base, '--db-type', 'mock']);
    assert.equal(mock.code, 2);
    assert.match(mock.stderr, /always runs against a real server.*--local/);
    const empty = fs.mkdtempSync(path.join(tmp, 'empty-'));
    const none = await runCli(['run', '--suites-dir', empty, '-H', '127.0.0.1:1', '--password=']);
    assert.equal(none.code, 0, none.stderr);
    assert.match(none.stderr, /no suites found/);
    const missing = await runCli([
      'run',
      '--suites-dir',
      path.join(empty, 'absent'),
      '-H',
      '127.0.0.1:1',
      '--password=',
    ]);
    assert.equal(missing.code, 2, missing.stderr);
    assert.equal(missing.stderr.trim(), `error: --suites-dir ${path.join(empty, 'absent')}: no such folder`);
    // the repository's own suites folder (filled by the suite issues) is discovered too
    const repo = await runCli(['run', '--list', '-H', '127.0.0.1:1', '--password='], {
      cwd: path.resolve(FIXTURES, '../..'),
    });
    assert.equal(repo.code, 0, repo.stderr);
  });

  it("runs the user's guide examples as written (all pass), with JUnit and JSON lines", async () => {
    const junit = path.join(tmp, 'guide.xml');
    const json = path.join(tmp, 'guide.jsonl');
    const r = await runCli([
      'run',
      ...server,
      '--suite-dir',
      path.join(FIXTURES, 'guide_suite'),
      '--param',
      'duration=1',
      '--junit',
      junit,
      '--json',
      json,
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const names = [
      'MyPythonHandler',
      'ConnectionTestHandler',
      'ImportJobMonitorHandler',
      'ConfigurableHandler',
      'AsyncHandler',
      'RobustHandler',
      'LoggingHandler',
      'MyFeatureHandler',
      'DataValidationHandler',
    ];
    const cases = casesOf(json);
    for (const n of names)
      assert.equal(cases.get(n)?.status, 'passed', `${n}: ${JSON.stringify(cases.get(n))}`);
    assert.ok(
      cases.get('ConnectionTestHandler')!.output.some((l) => l.text === '✓ Connection test successful'),
    );
    assert.ok(
      cases
        .get('ImportJobMonitorHandler')!
        .output.some((l) => l.text === 'Starting import job monitoring for 1s'),
    );
    const x = parseJUnit(junit);
    assert.equal(x.attrs.tests, '9');
    assert.equal(x.attrs.failures, '0');
    const byName = x.suites.flatMap((s) => s.cases.map((c) => `${c.classname}::${c.name}`));
    assert.ok(byName.includes('guide_suite.test_guide_examples::AsyncHandler'), byName.join(', '));
    assert.ok(byName.includes('guide_suite.test_my_feature::MyFeatureHandler'));
    assert.deepEqual(await existingDatabases([...cases.values()].map((c) => c.database)), []);
  });

  it('every failure kind fails with a useful message; skips carry the reason; broken files do not stop the run; retries mark flaky', async () => {
    const junit = path.join(tmp, 'fail.xml');
    const json = path.join(tmp, 'fail.jsonl');
    const r = await runCli([
      'run',
      ...server,
      '--suites-dir',
      SUITES,
      'failures',
      '-k',
      'not hang',
      '--retries',
      '1',
      '--max-steps',
      '50',
      '--junit',
      junit,
      '--json',
      json,
    ]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const c = casesOf(json);
    const failed = (name: string, re: RegExp) => {
      assert.equal(c.get(name)?.status, 'failed', name);
      assert.match(c.get(name)!.message ?? '', re, name);
    };
    failed('RaisesHandler', /RaisesHandler\.execute raised ValueError: the check failed on purpose/);
    assert.match(c.get('RaisesHandler')!.where ?? '', /test_kinds\.py:9$/);
    assert.match(c.get('RaisesHandler')!.traceback ?? '', /Traceback/);
    assert.equal(c.get('RaisesHandler')!.attempts, 2);
    failed('ErrorStateHandler', /error state 'Error: verification failed'/);
    failed('ReturnsNoneHandler', /returned None, not a state string/);
    failed('SqlErrorHandler', /NoSuchTableError.*no_such_table/);
    failed('LoopsForeverHandler', /step limit of 50/);
    failed('test_broken', /cannot import test_broken\.py: SyntaxError/);
    assert.match(c.get('test_broken')!.where ?? '', /test_broken\.py:4$/);
    failed('test_import_error', /ModuleNotFoundError: No module named 'module_that_does_not_exist'/);
    assert.equal(c.get('AfterBrokenHandler')?.status, 'passed');
    assert.equal(c.get('NeedsSavepointHandler')?.status, 'passed');
    assert.equal(c.get('NeedsTidbHandler')?.status, 'skipped');
    assert.match(c.get('NeedsTidbHandler')!.skip_reason ?? '', /requires server tidb/);
    assert.match(c.get('NeedsImportIntoHandler')!.skip_reason ?? '', /import_into/);
    assert.equal(c.get('FlakyHandler')?.status, 'flaky');
    assert.match(r.stdout, /✖ FAIL {2}failures\/test_kinds\.py::RaisesHandler/);
    assert.match(r.stdout, /File ".*test_kinds\.py", line 9, in execute/);
    const x = parseJUnit(junit);
    assert.equal(x.attrs.failures, '7');
    assert.equal(x.attrs.skipped, '2');
    const flaky = x.suites.flatMap((s) => s.cases).find((k) => k.name === 'FlakyHandler');
    assert.equal(flaky?.kind, 'flakyFailure');
    assert.deepEqual(await existingDatabases([...c.values()].map((k) => k.database)), []);
  });

  it('--fail-fast starts no case after the first failure', async () => {
    const json = path.join(tmp, 'ff.jsonl');
    const r = await runCli([
      'run',
      ...server,
      '--suites-dir',
      SUITES,
      'failures',
      '-k',
      'raises or after',
      '--fail-fast',
      '--json',
      json,
    ]);
    assert.equal(r.code, 1, r.stderr);
    const summary = jsonLines(json).pop()!;
    assert.equal(summary.event, 'summary');
    assert.equal(summary.failed, 1);
    assert.ok((summary.not_run as number) >= 1, JSON.stringify(summary));
  });

  it('a hung handler (sleeping loop, or a long SQL statement) times out and is interrupted', async () => {
    const json = path.join(tmp, 'hang.jsonl');
    const t0 = Date.now();
    const r = await runCli([
      'run',
      ...server,
      '--suites-dir',
      SUITES,
      'failures',
      '--file',
      'test_hang.py',
      '--timeout',
      '1.5',
      '--json',
      json,
    ]);
    assert.equal(r.code, 1, r.stderr);
    assert.ok(Date.now() - t0 < 20_000, 'the run must not wait for the hung handlers');
    const c = casesOf(json);
    for (const n of ['HangsInSleepHandler', 'HangsInSqlHandler']) {
      assert.equal(c.get(n)?.status, 'failed');
      assert.match(
        c.get(n)!.message ?? '',
        /^timed out after 1\.5s \(in state 'Initial', in \w+\.execute at .*test_hang\.py:\d+\)/,
      );
    }
    assert.deepEqual(await existingDatabases([...c.values()].map((k) => k.database)), []);
  });

  it('isolation, legacy files and --suite-dir folders without __init__.py pass; SHOW_SQL/REAL_DB/TIDB_* work as before', async () => {
    const json = path.join(tmp, 'basic.jsonl');
    const r = await runCli(
      [
        'run',
        '--suites-dir',
        SUITES,
        'basic',
        '--suite-dir',
        path.join(FIXTURES, 'legacy_suite'),
        '--suite-dir',
        path.join(FIXTURES, 'plain_dir'),
        '--json',
        json,
        '--no-password-prompt',
      ],
      {
        env: {
          SHOW_SQL: 'true',
          REAL_DB: 'true',
          TIDB_HOST: testHostPort,
          TIDB_USER: testServer.user,
          TIDB_PASSWORD: testServer.password,
        },
      },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const c = casesOf(json);
    assert.equal(c.size, 10);
    for (const k of c.values()) assert.equal(k.status, 'passed', `${k.id}: ${k.message}`);
    // both created `shared_name` in their own scratch database
    const dbs = ['FirstTableHandler', 'SecondTableHandler'].map((n) => c.get(n)!.database);
    assert.notEqual(dbs[0], dbs[1]);
    assert.deepEqual(await existingDatabases([...c.values()].map((k) => k.database)), []);
    assert.match(r.stdout, /\[FirstTableHandler\] SQL \[main\] CREATE TABLE shared_name/);
    assert.match(r.stdout, /\[FirstTableHandler\] SQL \[second\] SELECT COUNT/);
    assert.ok(
      c
        .get('EnvironmentHandler')!
        .output.some((l) => l.text === `SHOW_SQL=True REAL_DB=True TIDB_HOST=${testHostPort}`),
    );
  });

  it("the config's test.timeout_secs is the per-case timeout; --timeout wins", async () => {
    const config = path.join(tmp, 'timeout.toml');
    fs.writeFileSync(config, '[test]\ntimeout_secs = 0.3\n');
    const args = [
      'run',
      ...server,
      '--suites-dir',
      SUITES,
      'slow',
      '--handler',
      'Slow1Handler',
      '--config',
      config,
    ];
    const short = await runCli(args);
    assert.equal(short.code, 1, short.stdout + short.stderr);
    assert.match(short.stdout, /timed out after 0\.3s/);
    const long = await runCli([...args, '--timeout', '60']);
    assert.equal(long.code, 0, long.stdout + long.stderr);
  });

  it('a closed stdout (| head -1) ends nothing early: no EPIPE trace, same exit code, scratch databases dropped', async () => {
    const json = path.join(tmp, 'epipe.jsonl');
    const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
    const cmd = [process.execPath, CLI, 'run', ...server, '--suites-dir', SUITES, 'slow', '--json', json]
      .map(quote)
      .join(' ');
    const out = execFileSync(
      'bash',
      ['-c', `${cmd} 2>${quote(json)}.err | head -1; echo "exit=\${PIPESTATUS[0]}"`],
      {
        encoding: 'utf8',
        env: cleanEnv(),
      },
    );
    assert.match(out, /^running 6 cases on .*\nexit=0\n$/);
    const stderr = fs.readFileSync(`${json}.err`, 'utf8');
    assert.doesNotMatch(stderr, /EPIPE|at .*\.js:\d+/, stderr);
    const cases = [...casesOf(json).values()];
    assert.equal(cases.filter((k) => k.status === 'passed').length, 6);
    const conn = await rawConnection();
    try {
      for (const c of cases) {
        const [rows] = await conn.query('SHOW DATABASES LIKE ?', [c.database]);
        assert.deepEqual(rows, [], `${c.database} left behind`);
      }
    } finally {
      await conn.end();
    }
  });

  it('-j 4 runs cases in parallel', async () => {
    // Parallelism is read from when each case slept (what it printed), not from
    // the wall-clock time of the run: that depends on how busy the machine is.
    const json = path.join(tmp, 'par.jsonl');
    const r = await runCli(['run', ...server, '--suites-dir', SUITES, 'slow', '-j', '4', '--json', json]);
    assert.equal(r.code, 0, r.stderr);
    const cases = [...casesOf(json).values()];
    assert.equal(cases.filter((k) => k.status === 'passed').length, 6);
    const spans = cases.map((k) => {
      const m = /slept from ([\d.]+) to ([\d.]+)/.exec(k.output.map((l) => l.text).join('\n'));
      assert.ok(m, `no sleep printed by ${k.id}`);
      return [Number(m[1]), Number(m[2])] as const;
    });
    const mostAtOnce = Math.max(...spans.map(([at]) => spans.filter(([s, e]) => s <= at && at < e).length));
    assert.ok(mostAtOnce >= 2, `with -j 4 at most ${mostAtOnce} case(s) slept at the same time`);
  });

  it('Ctrl-C mid-run: running cases cancelled, scratch databases dropped, JSON lines complete, exit 130', async () => {
    const json = path.join(tmp, 'sigint.jsonl');
    const junit = path.join(tmp, 'sigint.xml');
    const child = spawn(
      process.execPath,
      [CLI, 'run', ...server, '--suites-dir', SUITES, 'slow', '--json', json, '--junit', junit],
      {
        env: cleanEnv(),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout.resume();
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    // wait for the first finished case, then interrupt the second one
    for (let i = 0; i < 200; i++) {
      if (fs.existsSync(json) && fs.readFileSync(json, 'utf8').includes('"event":"case"')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGINT');
    const code = await exited;
    assert.equal(code, 130, stderr);
    assert.match(stderr, /interrupted: cancelling running cases/);
    const lines = jsonLines(json);
    assert.equal(lines[0].event, 'start');
    const last = lines[lines.length - 1];
    assert.equal(last.event, 'summary');
    assert.equal(last.interrupted, true);
    const cases = lines.filter((l) => l.event === 'case') as unknown as CaseLine[];
    assert.ok(cases.length >= 2 && cases.length < 6, `${cases.length} cases recorded`);
    assert.equal(cases[0].status, 'passed');
    assert.equal(cases[cases.length - 1].status, 'cancelled');
    assert.ok((last.not_run as number) > 0);
    assert.deepEqual(await existingDatabases(cases.map((k) => k.database)), []);
    assert.equal(parseJUnit(junit).attrs.errors, '1');
  });
});
