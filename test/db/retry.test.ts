import assert from 'node:assert/strict';
import { Connection } from '../../ts/db/connection.js';
import {
  BreakerPresets,
  CircuitBreaker,
  RetryPresets,
  backoffDelay,
  isTransientError,
  withRetry,
} from '../../ts/db/retry.js';
import { CircuitOpenError, ConnectError, DatabaseError } from '../../ts/errors.js';
import { rawConnection, testServer } from '../helpers/db.js';

const noSleep = { sleep: async () => undefined };

describe('error classification', () => {
  it('marks lost connections, lock waits, deadlocks and TiDB conflicts transient', () => {
    for (const errno of [
      2006, 2013, 1205, 1213, 9007, 8022, 8028, 9001, 9002, 9003, 9004, 9005, 9006, 1927,
    ]) {
      assert.ok(new DatabaseError('x', { errno }).transient, String(errno));
    }
    for (const code of ['ECONNRESET', 'PROTOCOL_CONNECTION_LOST']) {
      assert.ok(isTransientError({ code }), code);
    }
  });

  it('marks access denied, unknown database and syntax errors permanent', () => {
    for (const errno of [1045, 1049, 1064, 1062, 1146]) {
      assert.equal(new DatabaseError('x', { errno }).transient, false, String(errno));
    }
    assert.equal(isTransientError({ code: 'ECONNREFUSED' }), false);
  });
});

describe('withRetry', () => {
  it('grows delays exponentially up to the cap, with jitter inside the bounds', () => {
    const p = { ...RetryPresets.DEFAULT, jitter: 0 };
    assert.deepEqual(
      [1, 2, 3, 20].map((a) => backoffDelay(p, a)),
      [100, 200, 400, 30_000],
    );
    const jittered = { ...RetryPresets.DB, jitter: 0.5 };
    assert.equal(
      backoffDelay(jittered, 2, () => 0),
      100,
    );
    assert.equal(
      backoffDelay(jittered, 2, () => 1),
      200,
    );
    assert.equal(
      backoffDelay(jittered, 30, () => 1),
      10_000,
    );
  });

  it('retries transient errors until success', async () => {
    let calls = 0;
    const delays: number[] = [];
    const result = await withRetry(
      RetryPresets.DB,
      async () => {
        if (++calls < 3) throw new DatabaseError('deadlock', { errno: 1213 });
        return 'ok';
      },
      { ...noSleep, onRetry: ({ delayMs }) => void delays.push(delayMs) },
    );
    assert.equal(result, 'ok');
    assert.equal(calls, 3);
    assert.equal(delays.length, 2);
  });

  it('does not retry permanent errors', async () => {
    let calls = 0;
    await assert.rejects(
      withRetry(
        RetryPresets.DB,
        async () => {
          calls++;
          throw new DatabaseError('syntax', { errno: 1064 });
        },
        noSleep,
      ),
      /syntax/,
    );
    assert.equal(calls, 1);
  });

  it('gives up after maxAttempts and reports the attempts; 0 attempts means 1', async () => {
    let calls = 0;
    const err = await withRetry(
      RetryPresets.DEFAULT,
      async () => {
        calls++;
        throw new DatabaseError('lost', { errno: 2013 });
      },
      noSleep,
    ).catch((e: DatabaseError) => e);
    assert.equal(calls, 3);
    assert.equal(err.attempts, 3);
    calls = 0;
    await withRetry({ ...RetryPresets.DEFAULT, maxAttempts: 0 }, async () => {
      calls++;
    });
    assert.equal(calls, 1);
  });

  it('recovers a statement whose connection was killed (KILL CONNECTION) by reconnecting', async () => {
    const victim = await Connection.open(testServer, { name: 'victim' });
    const admin = await rawConnection();
    try {
      const before = victim.threadId;
      await admin.query(`KILL CONNECTION ${before}`);
      const retries: unknown[] = [];
      const { rows } = await victim.query('SELECT 1 AS one', undefined, {
        retry: {
          ...RetryPresets.DB,
          baseDelayMs: 20,
          retryOn: (e) => (retries.push(e), isTransientError(e)),
        },
      });
      assert.deepEqual(rows, [{ one: 1 }]);
      assert.equal(retries.length, 1);
      assert.ok(retries[0] instanceof DatabaseError);
      assert.equal((retries[0] as DatabaseError).errorClass, 'connection_lost');
      assert.notEqual(victim.threadId, before);
    } finally {
      await admin.end();
      await victim.close();
    }
  });

  it('does not retry a permanent error on a live connection', async () => {
    const conn = await Connection.open(testServer, { name: 'syntax' });
    let attempts = 0;
    try {
      await assert.rejects(
        conn.query('SELEKT 1', undefined, {
          retry: { ...RetryPresets.DB, retryOn: (e) => (attempts++, isTransientError(e)) },
        }),
        (e: DatabaseError) => e.errno === 1064,
      );
      assert.equal(attempts, 1);
    } finally {
      await conn.close();
    }
  });

  it('refuses to retry single statements inside a transaction', async () => {
    const conn = await Connection.open(testServer);
    try {
      await conn.beginTransaction();
      await assert.rejects(
        conn.query('SELECT 1', undefined, { retry: RetryPresets.DB }),
        /inside a transaction/,
      );
      await conn.rollback();
    } finally {
      await conn.close();
    }
  });
});

describe('CircuitBreaker', () => {
  const lost = () => new DatabaseError('lost', { errno: 2013 });

  it('opens after the threshold, rejects while open, half-opens after recovery and closes with reset counters', async () => {
    let now = 0;
    const breaker = new CircuitBreaker(BreakerPresets.DB, { now: () => now, name: 'db' });
    const fail = () => breaker.call(async () => Promise.reject(lost()));
    const succeed = () => breaker.call(async () => 'ok');
    for (let i = 0; i < 3; i++) await assert.rejects(fail(), /lost/);
    assert.equal(breaker.state, 'open');
    let ran = false;
    await assert.rejects(
      breaker.call(async () => (ran = true)),
      (e: unknown) => e instanceof CircuitOpenError && e.retryAfterMs === 10_000 && !e.transient,
    );
    assert.equal(ran, false);

    now += 10_000;
    assert.equal(breaker.state, 'half-open');
    await succeed();
    assert.equal(breaker.state, 'half-open');
    await succeed();
    assert.equal(breaker.state, 'closed');
    assert.equal(breaker.failureCount, 0);

    // counters were reset: it takes the full threshold again to open
    await assert.rejects(fail());
    await assert.rejects(fail());
    assert.equal(breaker.state, 'closed');
  });

  it('re-opens when the half-open trial fails', async () => {
    let now = 0;
    const breaker = new CircuitBreaker({ ...BreakerPresets.DB, failureThreshold: 1 }, { now: () => now });
    await assert.rejects(breaker.call(async () => Promise.reject(lost())));
    now += 10_000;
    assert.equal(breaker.state, 'half-open');
    await assert.rejects(breaker.call(async () => Promise.reject(lost())));
    assert.equal(breaker.state, 'open');
  });

  it('forgets failures outside the window', async () => {
    let now = 0;
    const breaker = new CircuitBreaker(BreakerPresets.DEFAULT, { now: () => now });
    for (let i = 0; i < 4; i++) await assert.rejects(breaker.call(async () => Promise.reject(lost())));
    now += 60_001;
    assert.equal(breaker.failureCount, 0);
    await assert.rejects(breaker.call(async () => Promise.reject(lost())));
    assert.equal(breaker.state, 'closed');
  });

  it('ignores errors that say nothing about server health', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1 });
    await assert.rejects(
      breaker.call(async () => Promise.reject(new DatabaseError('syntax', { errno: 1064 }))),
    );
    assert.equal(breaker.state, 'closed');
  });

  it('guards Connection.open: a closed port opens it, and it recovers once the server answers', async () => {
    let now = 0;
    const breaker = new CircuitBreaker(
      { failureThreshold: 2, failureWindowMs: 60_000, recoveryTimeoutMs: 5_000, successThreshold: 1 },
      { now: () => now, name: '127.0.0.1:1' },
    );
    const closed = { host: '127.0.0.1', port: 1, user: 'root' };
    for (let i = 0; i < 2; i++) {
      await assert.rejects(Connection.open(closed, { breaker, retry: RetryPresets.NONE }), ConnectError);
    }
    assert.equal(breaker.state, 'open');
    await assert.rejects(Connection.open(testServer, { breaker }), CircuitOpenError);
    now += 5_000;
    const conn = await Connection.open(testServer, { breaker });
    await conn.close();
    assert.equal(breaker.state, 'closed');
  });
});
