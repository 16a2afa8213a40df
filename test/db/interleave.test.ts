import assert from 'node:assert/strict';
import { AssertionError } from 'node:assert';
import { Connection } from '../../ts/db/connection.js';
import { Interleaving } from '../../ts/db/interleave.js';
import { DatabaseError } from '../../ts/errors.js';
import { scratchDatabase, testServer } from '../helpers/db.js';

describe('Interleaving (against the test server)', () => {
  let db: Awaited<ReturnType<typeof scratchDatabase>>;
  let c1: Connection;
  let c2: Connection;
  let s: Interleaving;

  before(async () => {
    db = await scratchDatabase('trt_inter');
    const params = { ...testServer, database: db.name };
    c1 = await Connection.open(params, { name: 'conn_1' });
    c2 = await Connection.open(params, { name: 'conn_2' });
    await c1.query('CREATE TABLE t (id INT PRIMARY KEY, v INT) ENGINE=InnoDB');
    // fail a forgotten lock quickly instead of after the default 50 s
    for (const c of [c1, c2]) await c.query('SET SESSION innodb_lock_wait_timeout = 5');
  });
  beforeEach(async () => {
    await c1.query('DELETE FROM t');
    await c1.query('INSERT INTO t VALUES (1, 0), (2, 0)');
    s = new Interleaving([c1, c2]);
  });
  afterEach(async () => {
    for (const c of [c1, c2]) if (c.inTransaction) await c.rollback();
  });
  after(async () => {
    await c1?.close();
    await c2?.close();
    await db.drop();
  });

  it('detects a lock wait and sees the statement finish once the lock is released', async () => {
    await c1.beginTransaction();
    await s.run('conn_1', 'UPDATE t SET v = 1 WHERE id = 1');
    await c2.beginTransaction();
    const blocked = s.start('conn_2', 'UPDATE t SET v = 2 WHERE id = 1');
    await s.expectBlocked(blocked, 300);
    assert.throws(() => s.start('conn_2', 'SELECT 1'), /still running/);
    await c1.commit();
    const result = await s.finish(blocked);
    assert.equal(result.affectedRows, 1);
    await c2.commit();
    const { rows } = await c1.query('SELECT v FROM t WHERE id = 1');
    assert.deepEqual(rows, [{ v: 2 }]);
  });

  it('fails expectBlocked for a statement that is not blocked', async () => {
    const free = s.start('conn_2', 'SELECT v FROM t WHERE id = 2');
    await assert.rejects(s.expectBlocked(free, 2_000), AssertionError);
    assert.deepEqual((await s.finish(free)).rows, [{ v: 0 }]);
  });

  it('reports a lock wait timeout as errno 1205', async () => {
    await c2.query('SET SESSION innodb_lock_wait_timeout = 1');
    try {
      await c1.beginTransaction();
      await s.run('conn_1', 'SELECT * FROM t WHERE id = 1 FOR UPDATE');
      await c2.beginTransaction();
      const waiting = s.start('conn_2', 'UPDATE t SET v = 3 WHERE id = 1');
      await s.expectBlocked(waiting, 200);
      const err = await s.expectError(waiting, 'lock_wait_timeout');
      assert.equal(err.errno, 1205);
      assert.ok(err.transient);
    } finally {
      await c2.query('SET SESSION innodb_lock_wait_timeout = 5');
    }
  });

  it('detects a real deadlock (1213) between two connections', async () => {
    await c1.beginTransaction();
    await c2.beginTransaction();
    await s.run('conn_1', 'UPDATE t SET v = 1 WHERE id = 1');
    await s.run('conn_2', 'UPDATE t SET v = 2 WHERE id = 2');
    const first = s.start('conn_1', 'UPDATE t SET v = 1 WHERE id = 2');
    await s.expectBlocked(first, 200);
    const second = s.start('conn_2', 'UPDATE t SET v = 2 WHERE id = 1');
    const outcomes = [await s.settle(first, 10_000), await s.settle(second, 10_000)];
    const failed = outcomes.filter((o) => !o.ok);
    assert.equal(failed.length, 1, 'exactly one victim');
    const victim = failed[0]!;
    assert.ok(!victim.ok);
    assert.ok(victim.error instanceof DatabaseError);
    assert.equal(victim.error.errno, 1213);
    assert.equal(victim.error.errorClass, 'deadlock');
    // the same check through expectError
    const victimStatement = outcomes[0]!.ok ? second : first;
    await s.expectError(victimStatement, 1213);
    await s.expectError(victimStatement, 'ER_LOCK_DEADLOCK');
    await assert.rejects(s.expectError(victimStatement, 'lock_wait_timeout'), AssertionError);
  });
});
