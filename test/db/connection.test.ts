import assert from 'node:assert/strict';
import { Connection } from '../../ts/db/connection.js';
import { DatabaseError } from '../../ts/errors.js';
import { scratchDatabase, testServer } from '../helpers/db.js';

describe('Connection (against the test server)', () => {
  let db: Awaited<ReturnType<typeof scratchDatabase>>;
  let conn: Connection;
  const echoed: string[] = [];

  before(async () => {
    db = await scratchDatabase('trt_conn');
    conn = await Connection.open(
      { ...testServer, database: db.name },
      { name: 'c1', echo: (l) => echoed.push(l) },
    );
  });
  after(async () => {
    await conn?.close();
    await db.drop();
  });

  it('returns values exactly as the server sent them', async () => {
    await conn.query(`CREATE TABLE vals (
      id INT PRIMARY KEY, big BIGINT, small BIGINT, dec_ DECIMAL(30,10), d DATE, dt DATETIME(6),
      ts TIMESTAMP NULL, t TIME(3), j JSON, b BLOB, bin VARBINARY(4), s VARCHAR(10), n INT)`);
    await conn.query(
      `INSERT INTO vals VALUES (1, 9223372036854775807, 42, '12345678901234567890.0123456789', '2024-02-29',
       '2024-02-29 23:59:59.123456', '2038-01-19 03:14:07', '-838:59:59.000', '{"a": [1, 2.50]}', x'00ff10', x'cafe',
       'héllo', NULL)`,
    );
    const { rows, columns } = await conn.query('SELECT * FROM vals');
    const row = (rows as Record<string, unknown>[])[0]!;
    assert.equal(row.big, '9223372036854775807');
    assert.equal(row.small, 42);
    assert.equal(row.dec_, '12345678901234567890.0123456789');
    assert.equal(row.d, '2024-02-29');
    assert.equal(row.dt, '2024-02-29 23:59:59.123456');
    assert.equal(row.ts, '2038-01-19 03:14:07');
    assert.equal(row.t, '-838:59:59.000');
    assert.equal(typeof row.j, 'string');
    assert.deepEqual(JSON.parse(row.j as string), { a: [1, 2.5] });
    assert.deepEqual(row.b, Buffer.from([0x00, 0xff, 0x10]));
    assert.deepEqual(row.bin, Buffer.from([0xca, 0xfe]));
    assert.equal(row.s, 'héllo');
    assert.equal(row.n, null);
    assert.deepEqual(
      columns.map((c) => c.name),
      ['id', 'big', 'small', 'dec_', 'd', 'dt', 'ts', 't', 'j', 'b', 'bin', 's', 'n'],
    );
    const byName = new Map(columns.map((c) => [c.name, c]));
    assert.equal(byName.get('big')!.typeName, 'LONGLONG');
    assert.equal(byName.get('dec_')!.typeName, 'NEWDECIMAL');
    assert.equal(byName.get('dec_')!.decimals, 10);
    assert.equal(byName.get('d')!.typeName, 'DATE');
    assert.equal(byName.get('id')!.type, 3);
  });

  it('supports parameters and rows as arrays', async () => {
    const { rows } = await conn.query('SELECT ? + 1 AS x, ? AS s', [41, 'a'], { rowsAsArray: true });
    assert.deepEqual(rows, [[42, 'a']]);
  });

  it('reports affected rows and insert ids for non-SELECT statements', async () => {
    await conn.query('CREATE TABLE auto (id BIGINT AUTO_INCREMENT PRIMARY KEY, v INT)');
    const ins = await conn.query('INSERT INTO auto (v) VALUES (?), (?)', [1, 2]);
    assert.deepEqual(ins.rows, []);
    assert.deepEqual(ins.columns, []);
    assert.equal(ins.affectedRows, 2);
    assert.equal(ins.insertId, 1);
    const upd = await conn.query('UPDATE auto SET v = v + 1');
    assert.equal(upd.affectedRows, 2);
    const warn = await conn.query("INSERT IGNORE INTO auto (id, v) VALUES (1, 'x')");
    assert.ok(warn.warningCount >= 1);
    assert.ok(conn.lastStatementMs >= 0);
    assert.ok(warn.durationMs >= 0);
  });

  it('commits and rolls back transactions', async () => {
    await conn.query('CREATE TABLE tx (id INT PRIMARY KEY) ENGINE=InnoDB');
    await conn.beginTransaction();
    assert.ok(conn.inTransaction);
    await conn.query('INSERT INTO tx VALUES (1)');
    await conn.rollback();
    assert.ok(!conn.inTransaction);
    await conn.beginTransaction();
    await conn.query('INSERT INTO tx VALUES (2)');
    await conn.commit();
    const { rows } = await conn.query('SELECT id FROM tx');
    assert.deepEqual(rows, [{ id: 2 }]);
  });

  it('throws classified DatabaseErrors', async () => {
    await assert.rejects(conn.query('SELEKT 1'), (e: unknown) => {
      assert.ok(e instanceof DatabaseError);
      assert.equal(e.errno, 1064);
      assert.equal(e.code, 'ER_PARSE_ERROR');
      assert.equal(e.sqlState, '42000');
      assert.equal(e.errorClass, 'syntax');
      assert.equal(e.transient, false);
      assert.equal(e.connectionName, 'c1');
      return true;
    });
  });

  it('echoes each statement with the connection name, hiding literal passwords', async () => {
    await conn.query('SELECT 7');
    assert.ok(echoed.includes('[c1] SELECT 7'));
    const line = echoed.find((l) => l.startsWith('[c1] SELECT * FROM vals'));
    assert.ok(line);
    // a statement carrying a password is echoed redacted (it fails: the user does not matter here)
    await conn.query("SET PASSWORD FOR 'nobody_trt'@'%' = PASSWORD('s3cret-pw')").catch(() => undefined);
    assert.ok(echoed.some((l) => l.includes("PASSWORD('***')")));
    assert.ok(echoed.every((l) => !l.includes('s3cret-pw')));
  });

  it('records the server after detection and exposes the thread id', async () => {
    const server = await conn.detectServer();
    assert.equal(conn.server, server);
    assert.ok(conn.threadId > 0);
  });

  it('abandons a running statement when its signal aborts', async () => {
    const victim = await Connection.open(testServer, { name: 'sleepy' });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('state timed out')), 100);
    await assert.rejects(
      victim.query('SELECT SLEEP(20)', undefined, { signal: controller.signal }),
      (e: unknown) =>
        e instanceof DatabaseError &&
        e.errorClass === 'aborted' &&
        /statement aborted: state timed out/.test(e.message),
    );
    assert.ok(victim.lost);
    victim.destroy();
  });

  it('enables LOCAL INFILE only when asked', async () => {
    const local = await Connection.open(
      { ...testServer, database: db.name, localInfile: true },
      { name: 'li' },
    );
    try {
      const { writeFile, rm } = await import('node:fs/promises');
      const file = `/tmp/trt_infile_${process.pid}.csv`;
      await writeFile(file, '1\n2\n3\n');
      await local.query('CREATE TABLE loaded (id INT)');
      try {
        const res = await local.query(`LOAD DATA LOCAL INFILE '${file}' INTO TABLE loaded`);
        assert.equal(res.affectedRows, 3);
      } catch (err) {
        // the server may have local_infile disabled; the client side must not be the reason
        assert.match((err as Error).message, /local|disabled|not allowed/i);
      } finally {
        await rm(file, { force: true });
      }
    } finally {
      await local.close();
    }
    // without the option the client refuses to read local files
    await conn.query('CREATE TABLE IF NOT EXISTS loaded_too (id INT)');
    await assert.rejects(
      conn.query("LOAD DATA LOCAL INFILE '/etc/hostname' INTO TABLE loaded_too"),
      /LOCAL INFILE/,
    );
    assert.deepEqual((await conn.query('SELECT 1 AS ok')).rows, [{ ok: 1 }]);
  });
});
