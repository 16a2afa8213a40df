// Faults against the test server: connections killed mid-statement, handlers
// that never return, handlers that leak threads and open transactions, and
// SIGINT/SIGTERM mid-run. Each runs the built CLI as a child process, the way
// a user does, and checks the reports and the server afterwards.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection, DatabaseError, RetryPresets } from '../../ts/index.js';
import { CLI, cleanEnv, runCli } from '../helpers/cli.js';
import { rawConnection, testServer } from '../helpers/db.js';
import {
  SERVER_ARGS,
  SUITES,
  casesOf,
  existingDatabases,
  jsonLines,
  liveThreads,
  parseJUnit,
  sleep,
  type CaseLine,
} from './util.js';

const OLD_FIXTURES = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../test/fixtures/suites',
);

describe('reliability: faults', function () {
  this.timeout(60_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'test-rig-faults-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  describe('a connection killed mid-statement (KILL CONNECTION from another session)', () => {
    async function killWhileRunning(victim: Connection, sql: string, inTransaction = false) {
      const admin = await rawConnection();
      try {
        if (inTransaction) await victim.beginTransaction();
        const id = victim.threadId;
        const running = victim.query(sql, undefined, { retry: { ...RetryPresets.DB, baseDelayMs: 10 } });
        running.catch(() => undefined);
        for (let i = 0; i < 100; i++) {
          const [rows] = await admin.query('SELECT INFO FROM information_schema.PROCESSLIST WHERE ID = ?', [
            id,
          ]);
          if (String((rows as { INFO: string | null }[])[0]?.INFO ?? '').includes('SLEEP')) break;
          await sleep(10);
        }
        await admin.query(`KILL CONNECTION ${id}`);
        return { running, id };
      } finally {
        await admin.end();
      }
    }

    it('outside a transaction: the retry policy reconnects and the statement completes', async () => {
      const victim = await Connection.open(testServer, { name: 'victim' });
      try {
        const { running, id } = await killWhileRunning(victim, 'SELECT SLEEP(0.5) AS s');
        const r = await running;
        assert.deepEqual(r.rows, [{ s: 0 }]);
        assert.notEqual(victim.threadId, id, 'a new server thread');
      } finally {
        await victim.close();
      }
    });

    it('inside a transaction: the statement fails with the lost-connection class, no retry, no hang', async () => {
      const victim = await Connection.open(testServer, { name: 'victim' });
      try {
        // the retry is refused up front inside a transaction; run it without one
        const admin = await rawConnection();
        await victim.beginTransaction();
        const id = victim.threadId;
        const running = victim.query('SELECT SLEEP(5)');
        running.catch(() => undefined);
        await sleep(200);
        await admin.query(`KILL CONNECTION ${id}`);
        await admin.end();
        const t0 = Date.now();
        await assert.rejects(running, (e: DatabaseError) => {
          assert.ok(e instanceof DatabaseError);
          assert.equal(e.errorClass, 'connection_lost');
          assert.equal(e.transient, true);
          return true;
        });
        assert.ok(Date.now() - t0 < 2000);
        assert.equal(victim.lost, true);
        await assert.rejects(victim.query('SELECT 1'), /closed or was lost/);
      } finally {
        victim.destroy();
      }
    });

    it('through the runner: failed with ConnectionLostError, passed-after-retry is flaky, handled loss passes', async () => {
      const json = path.join(tmp, 'kill.jsonl');
      const junit = path.join(tmp, 'kill.xml');
      const t0 = Date.now();
      const r = await runCli(
        [
          'run',
          ...SERVER_ARGS,
          '--suites-dir',
          SUITES,
          'kill',
          '--retries',
          '1',
          '--timeout',
          '20',
          '--json',
          json,
          '--junit',
          junit,
        ],
        { timeoutMs: 50_000 },
      );
      assert.ok(Date.now() - t0 < 20_000, 'never hangs');
      assert.equal(r.code, 1, r.stdout + r.stderr);
      const c = casesOf(json);
      const killed = c.get('KilledMidStatementHandler')!;
      assert.equal(killed.status, 'failed');
      assert.equal(killed.attempts, 2);
      assert.match(killed.message ?? '', /raised ConnectionLostError: Connection lost/);
      assert.equal(c.get('KilledOnceHandler')?.status, 'flaky');
      const seen = c.get('SeesLostConnectionHandler')!;
      assert.equal(seen.status, 'passed', seen.message ?? '');
      assert.ok(
        seen.output.some((l) => /^lost: ConnectionLostError/.test(l.text)),
        JSON.stringify(seen.output),
      );
      const x = parseJUnit(junit);
      assert.equal(x.attrs.tests, '3');
      assert.equal(x.cases.find((k) => k.name === 'KilledOnceHandler')?.kind, 'flakyFailure');
      assert.deepEqual(await existingDatabases([...c.values()].map((k) => k.database)), []);
    });
  });

  it('handlers that never return (busy loop, inline too, sleep(10**6), deadlocked threads, a coroutine that never resolves) time out; the run goes on and exits promptly', async () => {
    const json = path.join(tmp, 'hangs.jsonl');
    const t0 = Date.now();
    const r = await runCli(
      ['run', ...SERVER_ARGS, '--suites-dir', SUITES, 'hangs', '--timeout', '1', '--json', json],
      {
        timeoutMs: 50_000,
      },
    );
    const ms = Date.now() - t0;
    assert.equal(r.code, 1, r.stdout + r.stderr);
    // 5 × 1 s timeouts plus start-up take ~7 s. Stuck Python threads holding the
    // process would hang it until runCli's 50 s kill; 30 s leaves room for a loaded box.
    assert.ok(ms < 30_000, `took ${ms} ms`);
    const c = casesOf(json);
    for (const n of [
      'BusyLoopHandler',
      'InlineLoopsForeverHandler',
      'SleepsForeverHandler',
      'DeadlockedThreadHandler',
      'NeverResolvingCoroutineHandler',
    ]) {
      assert.equal(c.get(n)?.status, 'failed', n);
      assert.match(
        c.get(n)!.message ?? '',
        // a lane handler's line too (an inline one has no lane to look into)
        new RegExp(`^timed out after 1s \\(in state 'Initial', in ${n}\\.execute( at [^()]+\\.py:\\d+)?\\)$`),
      );
    }
    assert.equal(
      c.get('ZzAfterTheHangsHandler')?.status,
      'passed',
      c.get('ZzAfterTheHangsHandler')?.message ?? '',
    );
    assert.doesNotMatch(r.stderr, /Traceback|Exception in thread/);
    assert.equal(jsonLines(json).pop()?.event, 'summary');
    assert.deepEqual(await existingDatabases([...c.values()].map((k) => k.database)), []);
  });

  it('handlers that leak threads or leave transactions open: the run finishes; transactions rolled back, connections closed', async () => {
    const json = path.join(tmp, 'leaks.jsonl');
    const t0 = Date.now();
    const r = await runCli(
      ['run', ...SERVER_ARGS, '--suites-dir', SUITES, 'leaks', '--timeout', '2', '--json', json],
      {
        timeoutMs: 50_000,
      },
    );
    assert.ok(Date.now() - t0 < 15_000, 'leaked non-daemon threads do not keep the process alive');
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const c = casesOf(json);
    assert.equal(c.get('LeaksThreadsHandler')?.status, 'passed');
    assert.equal(c.get('OpenTransactionHandler')?.status, 'passed');
    assert.match(
      c.get('OpenTransactionThenFailsHandler')?.message ?? '',
      /RuntimeError: fails with the transaction open/,
    );
    assert.match(c.get('OpenTransactionThenHangsHandler')?.message ?? '', /^timed out after 2s/);
    const ids = [...c.values()]
      .flatMap((k: CaseLine) => k.output)
      .flatMap((l) => (/^THREADS ([\d ]+)$/.exec(l.text)?.[1] ?? '').split(' ').filter(Boolean).map(Number));
    assert.equal(ids.length, 4, 'thread ids printed by the handlers');
    // the server may take a moment to finish a killed session's rollback
    let live = await liveThreads(ids);
    for (let i = 0; i < 50 && (live.threads.length || live.transactions.length); i++) {
      await sleep(100);
      live = await liveThreads(ids);
    }
    assert.deepEqual(live, { threads: [], transactions: [] });
    assert.deepEqual(await existingDatabases([...c.values()].map((k) => k.database)), []);
  });

  describe('SIGINT and SIGTERM mid-run', () => {
    async function interrupt(sig: 'SIGINT' | 'SIGTERM', suites: string, suite: string, extra: string[] = []) {
      const json = path.join(tmp, `${sig}-${suite}.jsonl`);
      const junit = path.join(tmp, `${sig}-${suite}.xml`);
      const child = spawn(
        process.execPath,
        [
          CLI,
          'run',
          ...SERVER_ARGS,
          '--suites-dir',
          suites,
          suite,
          '--json',
          json,
          '--junit',
          junit,
          ...extra,
        ],
        { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.stdout.resume();
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      // wait until a case is running (its scratch database exists), then signal
      for (let i = 0; i < 300; i++) {
        if (fs.existsSync(json) && fs.readFileSync(json, 'utf8').includes('"event":"start"')) break;
        await sleep(20);
      }
      await sleep(500);
      const sent = Date.now();
      child.kill(sig);
      const code = await exited;
      return { code, ms: Date.now() - sent, stderr, json, junit };
    }

    function checkReports(r: { json: string; junit: string }) {
      const lines = jsonLines(r.json);
      assert.equal(lines[0].event, 'start');
      const last = lines[lines.length - 1];
      assert.equal(last.event, 'summary');
      assert.equal(last.interrupted, true);
      const cases = lines.filter((l) => l.event === 'case') as unknown as CaseLine[];
      assert.equal(cases[cases.length - 1].status, 'cancelled');
      assert.ok((last.not_run as number) > 0);
      const x = parseJUnit(r.junit);
      // JUnit lists the cases that ran (not-run ones are only counted in the JSON summary)
      assert.equal(Number(x.attrs.tests), cases.length);
      assert.equal(x.attrs.errors, '1');
      return cases;
    }

    it('SIGTERM stops like Ctrl-C: within 5 s, scratch databases dropped, reports closed and valid, exit 143', async () => {
      const r = await interrupt('SIGTERM', OLD_FIXTURES, 'slow');
      assert.equal(r.code, 143, r.stderr);
      assert.ok(r.ms < 5000, `stopped in ${r.ms} ms`);
      assert.match(r.stderr, /interrupted \(SIGTERM\): cancelling running cases/);
      const cases = checkReports(r);
      assert.deepEqual(await existingDatabases(cases.map((k) => k.database)), []);
    });

    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      it(`${sig} while handlers are stuck in time.sleep(10**6) with -j 2: stops within 5 s, reports valid`, async () => {
        const r = await interrupt(sig, SUITES, 'hangs', [
          '-k',
          'Sleeps or Busy',
          '-j',
          '2',
          '--timeout',
          '60',
        ]);
        assert.equal(r.code, sig === 'SIGINT' ? 130 : 143, r.stderr);
        assert.ok(r.ms < 5000, `stopped in ${r.ms} ms`);
        const lines = jsonLines(r.json);
        const cases = lines.filter((l) => l.event === 'case') as unknown as CaseLine[];
        assert.equal(cases.length, 2);
        for (const k of cases) assert.equal(k.status, 'cancelled');
        assert.equal(lines[lines.length - 1].event, 'summary');
        parseJUnit(r.junit);
        assert.deepEqual(await existingDatabases(cases.map((k) => k.database)), []);
      });
    }
  });
});
