// Explaining stuck and deadlocked cases on the real server, through the CLI as
// a user runs it: the post-mortem of a timed-out case names the waiting
// connection, its statement and the connection holding the lock; a deadlock
// carries the server's own record mapped to the case's connections.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI, cleanEnv, runCli } from '../helpers/cli.js';
import { rawConnection, testHostPort } from '../helpers/db.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures');
const SUITE = path.join(FIXTURES, 'explain');

interface Wait {
  waiter: string;
  blocker: string;
  kind: string;
  inferred?: boolean;
}
interface CaseLine {
  event: string;
  class: string;
  status: string;
  message: string;
  timeline?: { entries: { conn: string; sql: string; errno?: number; endMs?: number }[] };
  postmortem?: {
    reason: string;
    python: { thread: string; method: string | null; file?: string; line?: number }[];
    connections: { name: string; statement?: string; transaction?: unknown }[];
    waits: Wait[];
    explanation: string[];
  };
  deadlocks?: { transactions: { conn?: string; sql?: string; victim: boolean }[] }[];
}

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'trt-explain-'));
}

async function runFixture(
  file: string,
  ...extra: string[]
): Promise<{ c: CaseLine; stdout: string; junit: string }> {
  const dir = tmp();
  const json = path.join(dir, 'r.jsonl');
  const junit = path.join(dir, 'r.xml');
  const r = await runCli(
    [
      'run',
      '--suite-dir',
      SUITE,
      '--file',
      file,
      '-H',
      testHostPort,
      '-u',
      'root',
      '--password=',
      '--json',
      json,
    ]
      .concat(['--junit', junit])
      .concat(extra),
    { timeoutMs: 90_000 },
  );
  assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
  const cases = fs
    .readFileSync(json, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as CaseLine)
    .filter((l) => l.event === 'case');
  assert.equal(cases.length, 1);
  return { c: cases[0], stdout: r.stdout, junit: fs.readFileSync(junit, 'utf8') };
}

describe('explaining hangs and deadlocks (MariaDB)', function () {
  this.timeout(120_000);

  it('a two-connection row lock wait that times out: `main` waits for the row lock `holder` keeps', async () => {
    const { c, stdout, junit } = await runFixture('test_row_wait.py', '--timeout', '3');
    assert.equal(c.status, 'failed');
    assert.match(c.message, /^timed out after 3s/);
    const pm = c.postmortem!;
    assert.equal(pm.reason, 'timeout');
    assert.deepEqual(
      pm.waits.map((w) => [w.waiter, w.blocker, w.kind]),
      [['main', 'holder', 'row']],
    );
    const main = pm.connections.find((x) => x.name === 'main')!;
    assert.equal(main.statement, 'UPDATE accounts SET v = 2 WHERE id = 1');
    assert.ok(pm.connections.find((x) => x.name === 'holder')!.transaction, 'holder is in a transaction');
    assert.match(
      pm.explanation[0],
      /^conn `main` `UPDATE accounts SET v = 2 WHERE id = 1` waits for a row lock on .*`accounts` index PRIMARY key \(1\) held by `holder`, idle in a transaction for [\d.]+ s/,
    );
    // where the handler is stuck: the line of the blocked statement
    const handler = pm.python.find((t) => t.thread === 'handler')!;
    assert.equal(handler.method, 'execute');
    assert.equal(path.basename(handler.file ?? ''), 'test_row_wait.py');
    assert.equal(handler.line, 14);
    // the statement timeline of a failed case is kept, the blocked statement last on main
    const sqls = c.timeline!.entries.map((e) => `${e.conn}: ${e.sql}`);
    assert.ok(sqls.includes('holder: UPDATE accounts SET v = 1 WHERE id = 1'), sqls.join('\n'));
    // the terminal and JUnit say it too
    assert.match(stdout, /waits for a row lock .* held by `holder`/);
    assert.match(junit, /post-mortem \(timeout\):/);
    assert.match(junit, /timeline \(\d+ statements\):/);
  });

  it('a real deadlock: the server record names `a` and `b`, and `b` as the victim', async () => {
    const { c, stdout } = await runFixture('test_deadlock.py');
    assert.equal(c.status, 'failed');
    assert.match(c.message, /DeadlockError/);
    const d = c.deadlocks![0];
    const byConn = new Map(d.transactions.map((t) => [t.conn, t]));
    assert.deepEqual([...byConn.keys()].sort(), ['a', 'b']);
    assert.equal(byConn.get('b')!.victim, true);
    assert.equal(byConn.get('a')!.victim, false);
    assert.equal(byConn.get('b')!.sql, 'UPDATE pair SET v = 2 WHERE id = 1');
    assert.equal(byConn.get('a')!.sql, 'UPDATE pair SET v = 1 WHERE id = 2');
    const failed = c.timeline!.entries.find((e) => e.errno === 1213)!;
    assert.equal(failed.conn, 'b');
    assert.match(stdout, /conn `b` `UPDATE pair SET v = 2 WHERE id = 1` \(victim: rolled back\)/);
  });

  it('a self-blocking DROP TABLE: `main` waits for the metadata lock `reader` holds in its open transaction', async () => {
    const { c } = await runFixture('test_drop_table.py', '--timeout', '3');
    const pm = c.postmortem!;
    assert.deepEqual(
      pm.waits.map((w) => [w.waiter, w.blocker, w.kind]),
      [['main', 'reader', 'metadata']],
    );
    assert.equal(pm.connections.find((x) => x.name === 'main')!.statement, 'DROP TABLE r');
    assert.match(
      pm.explanation[0],
      /^conn `main` `DROP TABLE r` waits for the metadata lock on r (probably )?held by `reader`, idle in a transaction/,
    );
  });

  it("names every Python thread of the case: the handler's and the thread it started, each at its line", async () => {
    const { c } = await runFixture('test_thread_wait.py', '--timeout', '3');
    const pm = c.postmortem!;
    const where = pm.python.map((t) => `${t.thread} ${path.basename(t.file ?? '')}:${t.line}`);
    assert.deepEqual(where, ['handler test_thread_wait.py:20', 'updater test_thread_wait.py:8']);
    assert.deepEqual(
      pm.waits.map((w) => [w.waiter, w.blocker, w.kind]),
      [['worker', 'main', 'row']],
    );
  });

  it('Ctrl-C takes the post-mortem before cancelling', async () => {
    const dir = tmp();
    const json = path.join(dir, 'r.jsonl');
    const child = spawn(
      process.execPath,
      [
        CLI,
        'run',
        '--suite-dir',
        SUITE,
        '--file',
        'test_row_wait.py',
        '-H',
        testHostPort,
        '-u',
        'root',
        '--password=',
        '--json',
        json,
      ],
      { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    // interrupt once the case is blocked: the server shows main's UPDATE in a lock wait
    const watch = await rawConnection();
    try {
      for (let i = 0; i < 600; i++) {
        const [rows] = await watch.query(
          "SELECT 1 FROM information_schema.INNODB_TRX WHERE trx_state = 'LOCK WAIT' AND trx_query = 'UPDATE accounts SET v = 2 WHERE id = 1'",
        );
        if ((rows as unknown[]).length > 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await watch.end();
    }
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 130, out);
    const c = fs
      .readFileSync(json, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as CaseLine)
      .find((l) => l.event === 'case')!;
    assert.equal(c.status, 'cancelled');
    assert.equal(c.postmortem!.reason, 'interrupted');
    assert.deepEqual(
      c.postmortem!.waits.map((w) => [w.waiter, w.blocker]),
      [['main', 'holder']],
    );
  });

  it("old-style connections (get_connections, RealPyConnection) are in the timeline, a lock wait timeout's errno on the waiter", async () => {
    const json = path.join(tmp(), 'r.jsonl');
    const r = await runCli(
      ['run', '--suite-dir', path.join(FIXTURES, 'legacy_locks'), '--handler', '*LockWaitHandler']
        .concat(['-H', testHostPort, '-u', 'root', '--password=', '--lock-wait-timeout', '1'])
        .concat(['--timeline', 'all', '--json', json]),
      { timeoutMs: 90_000 },
    );
    assert.equal(r.code, 0, r.stderr);
    const cases = new Map(
      fs
        .readFileSync(json, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as CaseLine)
        .filter((l) => l.event === 'case')
        .map((l) => [l.class, l.timeline!.entries]),
    );
    const conns = (name: string) => [...new Set(cases.get(name)!.map((e) => e.conn))];
    assert.deepEqual(conns('RowLockWaitHandler'), ['main', 'conn_0', 'conn_1']);
    assert.deepEqual(conns('MetadataLockWaitHandler'), ['main', 'reader']);
    const timedOut = (name: string) =>
      cases
        .get(name)!
        .filter((e) => e.errno === 1205)
        .map((e) => e.conn);
    assert.deepEqual(timedOut('RowLockWaitHandler'), ['conn_1']);
    assert.deepEqual(timedOut('MetadataLockWaitHandler'), ['main']);
  });

  it('--timeline off records nothing; --timeline all keeps it for passing cases', async () => {
    const dir = tmp();
    const run = async (mode: string) => {
      const json = path.join(dir, `${mode}.jsonl`);
      const r = await runCli(
        [
          'run',
          '--suite-dir',
          path.join(FIXTURES, 'suites', 'basic'),
          '--file',
          'test_isolation.py',
          '-H',
          testHostPort,
          '-u',
          'root',
          '--password=',
          '--json',
          json,
          '--timeline',
          mode,
        ],
        { timeoutMs: 60_000 },
      );
      assert.equal(r.code, 0, r.stderr);
      return fs
        .readFileSync(json, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as CaseLine)
        .filter((l) => l.event === 'case');
    };
    for (const c of await run('off')) assert.equal(c.timeline, undefined);
    for (const c of await run('failed')) assert.equal(c.timeline, undefined);
    const all = await run('all');
    assert.ok(all.length > 0);
    for (const c of all) assert.ok(c.timeline!.entries.some((e) => e.conn === 'main'));
    const bad = await runCli(['run', '--timeline', 'sometimes', '-H', testHostPort, '--password=']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /error: .*--timeline/);
  });
});
