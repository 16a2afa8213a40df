// The four suites (ddl, txn, scale, load_data) driven through the built CLI:
// against MariaDB every applicable case passes and the rest skip with reasons; the
// IMPORT INTO cases pass against the TiDB import emulator; and the cases can fail:
// real cases run against a deliberately wrong setup (sessions forced to another
// isolation level, a tampered table, server settings changed and restored) fail.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rawConnection, testHostPort, testServer } from '../helpers/db.js';
import { startEmulator, type Emulator } from '../emulator/server.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(here, '../../..');
const CLI = path.join(ROOT, 'dist/ts/cli/main.js');
const TAMPERED = path.join(ROOT, 'test/suites/fixtures/tampered');

interface CaseLine {
  event: string;
  id: string;
  suite: string;
  class: string;
  status: string;
  skip_reason: string | null;
  message: string | null;
  output: { stream: string; text: string }[];
}

function runCli(
  args: string[],
  timeoutMs = 120_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

async function runSuites(
  args: string[],
  host = testHostPort,
): Promise<{ code: number | null; cases: CaseLine[]; out: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trt-suites-'));
  const json = path.join(dir, 'report.jsonl');
  try {
    const r = await runCli([
      'run',
      ...args,
      '-H',
      host,
      '-u',
      testServer.user,
      `--password=${testServer.password}`,
      '--no-password-prompt',
      '--json',
      json,
    ]);
    const cases = fs.existsSync(json)
      ? fs
          .readFileSync(json, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as CaseLine)
          .filter((e) => e.event === 'case')
      : [];
    return { code: r.code, cases, out: r.stdout + r.stderr };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function setGlobal(sql: string): Promise<void> {
  const c = await rawConnection();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

async function globalValue(name: string): Promise<string> {
  const c = await rawConnection();
  try {
    const [rows] = await c.query(`SELECT @@GLOBAL.${name} AS v`);
    return String((rows as { v: unknown }[])[0].v);
  } finally {
    await c.end();
  }
}

describe('suites: ddl, txn, scale, load_data', function () {
  this.timeout(180_000);

  it('all four suites pass on MariaDB; what does not apply is skipped with a reason', async () => {
    const r = await runSuites([
      '--suite',
      'ddl',
      '--suite',
      'txn',
      '--suite',
      'scale',
      '--suite',
      'import',
      '-j',
      '2',
    ]);
    const failed = r.cases.filter((c) => c.status === 'failed');
    assert.deepEqual(
      failed.map((c) => `${c.id}: ${c.message}`),
      [],
      r.out.slice(-3000),
    );
    assert.equal(r.code, 0, r.out.slice(-2000));
    const bySuite = (s: string) => r.cases.filter((c) => c.suite === s);
    assert.ok(bySuite('ddl').length >= 25, `ddl cases: ${bySuite('ddl').length}`);
    assert.ok(bySuite('txn').length >= 39, `txn cases: ${bySuite('txn').length}`);
    assert.equal(bySuite('scale').length, 2);
    assert.ok(bySuite('load_data').length >= 25);
    const skipped = r.cases.filter((c) => c.status === 'skipped');
    for (const c of skipped)
      assert.ok(c.skip_reason && c.skip_reason.length > 10, `${c.id} skipped without a reason`);
    const skippedNames = skipped.map((c) => c.class).sort();
    const importCases = bySuite('load_data').filter((c) => c.id.includes('test_import.py'));
    assert.equal(importCases.length, 15);
    assert.ok(importCases.every((c) => c.status === 'skipped' && /import_into/.test(c.skip_reason ?? '')));
    assert.deepEqual(
      skippedNames.filter((n) => !importCases.some((c) => c.class === n)),
      ['InvisibleIndexHandler'],
    );
    const passed = r.cases.filter((c) => c.status === 'passed').length;
    assert.equal(passed + skipped.length, r.cases.length);
    const load = bySuite('scale').find((c) => c.class === 'ScaleLoadHandler');
    assert.ok(
      load?.output.some((l) => /rows\/s/.test(l.text)),
      'the load case prints rows/s',
    );
  });

  describe('IMPORT INTO against the TiDB import emulator', () => {
    let emu: Emulator;
    before(async () => {
      emu = await startEmulator({ backend: testServer, chunkRows: 200 });
    });
    after(async () => {
      await emu?.close();
    });

    it('every IMPORT INTO case passes (and reports the server as TiDB)', async () => {
      const r = await runSuites(
        ['--suite', 'load_data', '--file', 'test_import.py', '-j', '2'],
        `${emu.host}:${emu.port}`,
      );
      assert.equal(r.code, 0, r.out.slice(-3000));
      assert.equal(r.cases.length, 15);
      assert.deepEqual(
        r.cases.filter((c) => c.status !== 'passed').map((c) => c.id),
        [],
      );
      const det = r.cases.find((c) => c.class === 'ImportIntoDetachedHandler');
      assert.ok(
        det?.output.some((l) => /status=finished/.test(l.text)),
        'DETACHED job monitored to finished',
      );
    });
  });

  describe('the cases can fail', () => {
    it('isolation probes fail when the sessions are forced to another isolation level', async () => {
      const r = await runSuites(['--suite-dir', TAMPERED, '--handler', '*Forced*']);
      assert.equal(r.code, 1);
      const byClass = Object.fromEntries(r.cases.map((c) => [c.class, c]));
      const rc = byClass.ReadCommittedForcedToUncommittedHandler;
      assert.equal(rc.status, 'failed');
      assert.match(rc.message ?? '', /dirty_read: allowed, documented prevented/);
      const rr = byClass.RepeatableReadForcedToCommittedHandler;
      assert.equal(rr.status, 'failed');
      assert.match(rr.message ?? '', /non_repeatable_read: allowed, documented prevented/);
      assert.match(rr.message ?? '', /phantom: allowed, documented prevented/);
    });

    it('a ddl view case fails after its table is tampered with', async () => {
      const r = await runSuites(['--suite-dir', TAMPERED, '--handler', 'AlterViewOnTamperedTableHandler']);
      assert.equal(r.code, 1);
      assert.equal(r.cases[0].status, 'failed');
      assert.match(
        r.cases[0].message ?? '',
        /view 'SELECT COUNT\(\*\) AS n, SUM\(salary\).*\[\(5, 401\)\] != \[\(5, 400\)\]/,
      );
    });

    it('the strict-mode ddl case fails when the server is not strict (SET GLOBAL sql_mode, restored)', async () => {
      const before = await globalValue('sql_mode');
      await setGlobal("SET GLOBAL sql_mode = ''");
      let r;
      try {
        r = await runSuites(['--suite', 'ddl', '--handler', 'AlterTableStrictNarrowingHandler']);
      } finally {
        await setGlobal(`SET GLOBAL sql_mode = '${before}'`);
      }
      assert.equal(await globalValue('sql_mode'), before);
      assert.equal(r.code, 1, r.out.slice(-2000));
      assert.equal(r.cases[0].status, 'failed');
      assert.match(r.cases[0].message ?? '', /expected DatabaseError.*succeeded/);
    });

    it('the deadlock case fails when the server does not detect deadlocks (innodb_deadlock_detect=OFF, restored)', async () => {
      await setGlobal('SET GLOBAL innodb_deadlock_detect = OFF');
      let r;
      try {
        r = await runSuites(['--suite', 'txn', '--handler', 'DeadlockDetectionHandler']);
      } finally {
        await setGlobal('SET GLOBAL innodb_deadlock_detect = ON');
      }
      assert.equal(await globalValue('innodb_deadlock_detect'), '1');
      assert.equal(r.code, 1, r.out.slice(-2000));
      assert.equal(r.cases[0].status, 'failed');
      assert.match(r.cases[0].message ?? '', /LockWaitTimeoutError/);
    });
  });

  describe('gen-data', () => {
    let dir: string;
    before(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trt-gen-'));
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('complex CSV: 14-column header, N rows, progress every 10k rows, deterministic per seed', async () => {
      const a = path.join(dir, 'a.csv');
      // progress is for a terminal: none when stderr is a pipe...
      const r = await runCli(['gen-data', '--rows', '25000', '--seed', '5', '-o', a]);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /generated/);
      assert.match(r.stderr, /^wrote 25,000 complex csv rows to /);
      // ...and every 10k rows on one (script(1) gives the command a terminal)
      const tty = execFileSync(
        'script',
        [
          '-qec',
          `${process.execPath} ${CLI} gen-data --rows 25000 --seed 5 -o ${path.join(dir, 'tty.csv')}`,
          '/dev/null',
        ],
        { encoding: 'utf8' },
      );
      assert.match(tty, /generated 10,000 \/ 25,000 rows\r?\ngenerated 20,000 \/ 25,000 rows\r?\n/);
      const lines = fs.readFileSync(a, 'utf8').trimEnd().split('\n');
      assert.equal(lines.length, 25001);
      assert.equal(
        lines[0],
        'id,name,email,phone,city,department,job_title,salary,performance_score,hire_date,is_active,notes,years_experience,projects_completed',
      );
      for (const [i, l] of lines.slice(1).entries()) {
        const m =
          /^(\d+),[^,]+,[^,]+@example\.com,555-\d{3}-\d{4},[^,]+,[^,]+,[^,]+,\d+\.\d\d,\d\.\d,\d{4}-\d\d-\d\d,(True|False),"[^"]+",\d+,\d+$/.exec(
            l,
          );
        assert.ok(m, `line ${i + 2}: ${l}`);
        assert.equal(Number(m[1]), i + 1);
      }
      const b = path.join(dir, 'b.csv');
      await runCli(['gen-data', '--rows', '25000', '--seed', '5', '-o', b, '--quiet']);
      assert.ok(fs.readFileSync(a).equals(fs.readFileSync(b)), 'same seed, same bytes');
      const c = path.join(dir, 'c.csv');
      await runCli(['gen-data', '--rows', '25000', '--seed', '6', '-o', c, '--quiet']);
      assert.ok(!fs.readFileSync(a).equals(fs.readFileSync(c)), 'another seed, other data');
    });

    it('-o - writes the data to stdout, nothing else', async () => {
      const r = await runCli(['gen-data', '--rows', '3', '--simple', '--seed', '5', '-o', '-']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(
        r.stdout
          .trimEnd()
          .split('\n')
          .map((l) => l.split(',')[0]),
        ['1', '2', '3'],
      );
      assert.match(r.stderr, /^wrote 3 simple csv rows to stdout in /);
    });

    it('simple TSV: id, name, age, no header', async () => {
      const f = path.join(dir, 's.tsv');
      const r = await runCli([
        'gen-data',
        '--rows',
        '1000',
        '--format',
        'tsv',
        '--simple',
        '-o',
        f,
        '--quiet',
      ]);
      assert.equal(r.code, 0, r.stderr);
      const lines = fs.readFileSync(f, 'utf8').trimEnd().split('\n');
      assert.equal(lines.length, 1000);
      lines.forEach((l, i) => {
        const parts = l.split('\t');
        assert.equal(parts.length, 3, l);
        assert.equal(Number(parts[0]), i + 1);
        assert.ok(Number(parts[2]) >= 18 && Number(parts[2]) <= 80);
      });
      const bad = await runCli(['gen-data', '--rows', 'many', '-o', path.join(dir, 'x.csv')]);
      assert.equal(bad.code, 2);
    });
  });
});
