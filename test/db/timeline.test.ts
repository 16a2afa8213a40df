// The statement timeline on real connections (MariaDB), and the readers of
// lock waits and deadlock records, with canned rows for the servers the tests
// lack (MySQL 8's performance_schema, TiDB's DATA_LOCK_WAITS and DEADLOCKS,
// MariaDB's metadata_lock_info plugin).
import assert from 'node:assert/strict';
import { Connection, Coordinator, Timeline, TIMELINE_LIMIT, summarizeTimeline } from '../../ts/index.js';
import { nameDeadlock, normalizeSql, parseInnodbDeadlock, tidbDeadlock } from '../../ts/db/deadlocks.js';
import {
  inferMetadataWaits,
  innodbWaits,
  metadataLockInfoWaits,
  metadataLockWaits,
  performanceSchemaWaits,
  tableOf,
  threadsFrom,
  tidbWaits,
} from '../../ts/db/lock-waits.js';
import { scratchDatabase, testServer } from '../helpers/db.js';

describe('Timeline', () => {
  let db: { name: string; drop: () => Promise<void> };
  before(async () => {
    db = await scratchDatabase('trt_timeline');
  });
  after(async () => {
    await db.drop();
  });

  it('records every statement of every connection: name, thread id, SQL, times, rows, errors', async () => {
    const timeline = new Timeline();
    const a = await Connection.open({ ...testServer, database: db.name }, { name: 'a', timeline });
    const b = await Connection.open({ ...testServer, database: db.name }, { name: 'b', timeline });
    try {
      await a.query('CREATE TABLE t (id INT PRIMARY KEY)');
      await a.query('INSERT INTO t VALUES (1), (2)');
      await b.query('SELECT * FROM t');
      await assert.rejects(b.query('INSERT INTO t VALUES (1)'));
      await b.query("CREATE USER IF NOT EXISTS 'trt_tl'@'localhost' IDENTIFIED BY 's3cret'");
      await b.query("DROP USER 'trt_tl'@'localhost'");
    } finally {
      await a.close();
      await b.close();
    }
    const rec = timeline.toJSON();
    assert.deepEqual(
      rec.entries.map((e) => [e.conn, e.sql.split(' ').slice(0, 2).join(' ')]),
      [
        ['a', 'CREATE TABLE'],
        ['a', 'INSERT INTO'],
        ['b', 'SELECT *'],
        ['b', 'INSERT INTO'],
        ['b', 'CREATE USER'],
        ['b', 'DROP USER'],
      ],
    );
    assert.equal(rec.entries[0].threadId, a.threadId);
    assert.equal(rec.entries[2].threadId, b.threadId);
    assert.equal(rec.entries[1].affected, 2);
    assert.equal(rec.entries[2].rows, 2);
    const dup = rec.entries[3];
    assert.equal(dup.errno, 1062);
    assert.equal(dup.errorClass, 'duplicate_key');
    for (let i = 1; i < rec.entries.length; i++)
      assert.ok(rec.entries[i].startMs >= rec.entries[i - 1].endMs!);
    // passwords are masked in what is reported, as everywhere
    assert.ok(!JSON.stringify(rec).includes('s3cret'));
    assert.match(rec.entries[4].sql, /IDENTIFIED BY '\*\*\*'/);
    assert.match(
      summarizeTimeline(rec),
      /\[b#\d+\] INSERT INTO t VALUES \(1\) \([\d.]+ ms\) ERROR 1062 duplicate_key/,
    );
  });

  it("records the Coordinator's connections too, each by its name", async () => {
    const timeline = new Timeline();
    const coordinator = new Coordinator(
      ['left', 'right'].map((name) => ({
        name,
        context: {
          address: `${testServer.host}:${testServer.port}`,
          username: testServer.user,
          password: testServer.password,
          database: db.name,
          connectionOptions: { timeline },
        },
      })),
    );
    await coordinator.run();
    const conns = new Set(timeline.entries().map((e) => e.conn));
    assert.deepEqual([...conns].sort(), ['left', 'right']);
    assert.ok(timeline.entries().every((e) => e.endMs !== undefined && e.threadId > 0));
  });

  it('a statement in flight is running, on its connection', () => {
    const t = new Timeline();
    const done = t.begin('main', 7, 'SELECT 1');
    t.end(done, 1, 0);
    t.begin('other', 8, 'UPDATE x SET y = 1');
    assert.deepEqual([...t.running().keys()], ['other']);
    assert.deepEqual(
      [...t.threads()],
      [
        ['main', 7],
        ['other', 8],
      ],
    );
  });

  it('keeps the first and the last statements of a long case, counting those dropped', () => {
    const t = new Timeline();
    const n = TIMELINE_LIMIT + 500;
    for (let i = 0; i < n; i++) t.end(t.begin('main', 1, `SELECT ${i}`), 1, 0);
    const rec = t.toJSON();
    assert.equal(rec.entries.length, TIMELINE_LIMIT);
    assert.equal(rec.dropped, 500);
    assert.equal(rec.entries[0].sql, 'SELECT 0');
    assert.equal(rec.entries[TIMELINE_LIMIT / 2 - 1].sql, `SELECT ${TIMELINE_LIMIT / 2 - 1}`);
    assert.equal(rec.entries[TIMELINE_LIMIT / 2].sql, `SELECT ${TIMELINE_LIMIT / 2 + 500}`);
    assert.equal(rec.entries[TIMELINE_LIMIT - 1].sql, `SELECT ${n - 1}`);
  });
});

describe('lock waits from each server kind (canned rows)', () => {
  it('MariaDB / MySQL 5.7: INNODB_LOCK_WAITS by transaction, named by INNODB_LOCKS', () => {
    const trx = [
      { trx_id: '900', trx_mysql_thread_id: 11, trx_state: 'LOCK WAIT', trx_started: '2026-01-01 00:00:00' },
      { trx_id: '901', trx_mysql_thread_id: 12, trx_state: 'RUNNING', trx_started: '2026-01-01 00:00:00' },
    ];
    const waits = [
      { requesting_trx_id: 900, requested_lock_id: '900:1', blocking_trx_id: 901, blocking_lock_id: '901:1' },
    ];
    const locks = [{ lock_id: '901:1', lock_table: '`d`.`t`', lock_index: 'PRIMARY', lock_data: '1' }];
    assert.deepEqual(innodbWaits(trx, waits, locks), [
      { waiter: 11, blocker: 12, kind: 'row', lock: '`d`.`t` index PRIMARY key (1)' },
    ]);
    const threads = threadsFrom(
      [
        {
          ID: 11,
          COMMAND: 'Query',
          STATE: 'Updating',
          TIME: 4,
          TIME_MS: '4100.5',
          INFO: 'UPDATE t SET v = 2',
        },
      ],
      trx,
    );
    assert.equal(threads[0].seconds, 4.1005);
    assert.equal(threads[0].trx?.state, 'LOCK WAIT');
  });

  it('MySQL 8: performance_schema.data_lock_waits and metadata_locks', () => {
    assert.deepEqual(
      performanceSchemaWaits([
        { waiter: 21, blocker: 22, OBJECT_SCHEMA: 'd', OBJECT_NAME: 't', INDEX_NAME: 'PRIMARY' },
      ]),
      [{ waiter: 21, blocker: 22, kind: 'row', lock: 'd.t index PRIMARY' }],
    );
    assert.deepEqual(
      metadataLockWaits([
        { thread: 21, OBJECT_SCHEMA: 'd', OBJECT_NAME: 'r', LOCK_STATUS: 'PENDING' },
        { thread: 22, OBJECT_SCHEMA: 'd', OBJECT_NAME: 'r', LOCK_STATUS: 'GRANTED' },
        { thread: 23, OBJECT_SCHEMA: 'd', OBJECT_NAME: 'other', LOCK_STATUS: 'GRANTED' },
      ]),
      [{ waiter: 21, blocker: 22, kind: 'metadata', lock: 'd.r' }],
    );
  });

  it('TiDB: DATA_LOCK_WAITS mapped to sessions by TIDB_TRX', () => {
    const trx = [
      { ID: '4410', SESSION_ID: 31 },
      { ID: '4411', SESSION_ID: 32 },
    ];
    const waits = [
      { KEY: '7480', KEY_INFO: '{"table_name":"t"}', TRX_ID: '4410', CURRENT_HOLDING_TRX_ID: '4411' },
    ];
    assert.deepEqual(tidbWaits(waits, trx), [
      { waiter: 31, blocker: 32, kind: 'row', lock: '{"table_name":"t"}' },
    ]);
  });

  it('MariaDB metadata locks: from the metadata_lock_info plugin, else inferred from open transactions', () => {
    const threads = threadsFrom([
      { ID: 1, COMMAND: 'Query', STATE: 'Waiting for table metadata lock', TIME: 3, INFO: 'DROP TABLE `r`' },
      { ID: 2, COMMAND: 'Sleep', STATE: '', TIME: 3, INFO: null },
      { ID: 3, COMMAND: 'Sleep', STATE: '', TIME: 3, INFO: null },
    ]);
    assert.deepEqual(
      metadataLockInfoWaits(threads, [
        { THREAD_ID: 2, LOCK_MODE: 'MDL_SHARED_READ', TABLE_SCHEMA: 'd', TABLE_NAME: 'r' },
      ]),
      [{ waiter: 1, blocker: 2, kind: 'metadata', lock: 'd.r' }],
    );
    // without the plugin: the case's threads in a transaction, those that touched the table first
    const known = {
      inTransaction: (id: number) => id !== 1,
      touched: (id: number, table: string) => id === 3 && table === 'r',
    };
    assert.deepEqual(inferMetadataWaits(threads, known), [
      { waiter: 1, blocker: 3, kind: 'metadata', lock: 'r', inferred: true },
    ]);
    assert.deepEqual(
      inferMetadataWaits(threads, { ...known, touched: () => false }).map((w) => w.blocker),
      [2, 3],
    );
    assert.equal(tableOf('DROP TABLE IF EXISTS `d`.`r`'), 'r');
    assert.equal(tableOf('ALTER TABLE r ADD c INT'), 'r');
  });
});

describe('deadlock records (canned)', () => {
  it("MySQL 8's LATEST DETECTED DEADLOCK, mapped to connections by thread id", () => {
    const status = `
=====================================
------------------------
LATEST DETECTED DEADLOCK
------------------------
2026-01-02 03:04:05 140000000000000
*** (1) TRANSACTION:
TRANSACTION 2000, ACTIVE 1 sec starting index read
mysql tables in use 1, locked 1
LOCK WAIT 3 lock struct(s), heap size 1128, 2 row lock(s)
MySQL thread id 41, OS thread handle 1, query id 10 localhost root updating
UPDATE pair SET v = 1 WHERE id = 2

*** (1) HOLDS THE LOCK(S):
RECORD LOCKS space id 2 page no 4 n bits 72 index PRIMARY of table \`d\`.\`pair\` trx id 2000 lock_mode X locks rec but not gap
Record lock, heap no 2

*** (1) WAITING FOR THIS LOCK TO BE GRANTED:
RECORD LOCKS space id 2 page no 4 n bits 72 index PRIMARY of table \`d\`.\`pair\` trx id 2000 lock_mode X locks rec but not gap waiting
Record lock, heap no 3

*** (2) TRANSACTION:
TRANSACTION 2001, ACTIVE 1 sec starting index read
MySQL thread id 42, OS thread handle 2, query id 11 localhost root updating
UPDATE pair SET v = 2 WHERE id = 1

*** (2) HOLDS THE LOCK(S):
RECORD LOCKS space id 2 page no 4 n bits 72 index PRIMARY of table \`d\`.\`pair\` trx id 2001 lock_mode X locks rec but not gap

*** (2) WAITING FOR THIS LOCK TO BE GRANTED:
RECORD LOCKS space id 2 page no 4 n bits 72 index PRIMARY of table \`d\`.\`pair\` trx id 2001 lock_mode X locks rec but not gap waiting

*** WE ROLL BACK TRANSACTION (2)
------------
TRANSACTIONS
------------
Trx id counter 2002
`;
    const d = parseInnodbDeadlock(status)!;
    assert.equal(d.time, '2026-01-02 03:04:05');
    const named = nameDeadlock(d, [
      { conn: 'a', threadId: 41, sql: 'x', startMs: 0 },
      { conn: 'b', threadId: 42, sql: 'y', startMs: 0 },
    ]);
    assert.deepEqual(
      named.transactions.map((t) => [t.conn, t.sql, t.victim]),
      [
        ['a', 'UPDATE pair SET v = 1 WHERE id = 2', false],
        ['b', 'UPDATE pair SET v = 2 WHERE id = 1', true],
      ],
    );
    assert.equal(
      named.transactions[0].holds,
      'index PRIMARY of table `d`.`pair` lock_mode X locks rec but not gap',
    );
    assert.match(named.transactions[0].waitsFor!, /waiting$/);
    assert.equal(parseInnodbDeadlock('no deadlock here'), undefined);
  });

  it("TiDB's information_schema.DEADLOCKS, mapped to connections by statement", () => {
    const rows = [
      {
        DEADLOCK_ID: 1,
        OCCUR_TIME: 't1',
        CURRENT_SQL_DIGEST_TEXT: 'update `old` set `v` = ?',
        KEY_INFO: 'k',
        TRX_HOLDING_LOCK: 1,
      },
      {
        DEADLOCK_ID: 2,
        OCCUR_TIME: 't2',
        CURRENT_SQL_DIGEST_TEXT: 'update `pair` set `v` = ? where `id` = ?',
        KEY_INFO: 'k1',
        TRX_HOLDING_LOCK: 7,
      },
      {
        DEADLOCK_ID: 2,
        OCCUR_TIME: 't2',
        CURRENT_SQL_DIGEST_TEXT: 'update `pair` set `v` = ? where `id` = ? and 1',
        KEY_INFO: 'k2',
        TRX_HOLDING_LOCK: 8,
      },
    ];
    const d = nameDeadlock(tidbDeadlock(rows)!, [
      { conn: 'a', threadId: 1, sql: 'UPDATE pair SET v = 1 WHERE id = 2', startMs: 0 },
      { conn: 'b', threadId: 2, sql: 'UPDATE pair SET v = 2 WHERE id = 1 AND 1', startMs: 1 },
    ]);
    assert.equal(d.time, 't2');
    assert.deepEqual(
      d.transactions.map((t) => [t.conn, t.victim]),
      [
        ['a', true],
        ['b', false],
      ],
    );
    assert.equal(normalizeSql("UPDATE `t` SET v='x' WHERE id = 10"), 'update t set v=? where id=?');
  });
});
