// The TiDB import emulator itself: forwarding, VERSION(), IMPORT INTO rules and the
// SHOW IMPORT JOB(S) layouts, since every monitor test relies on them.
import assert from 'node:assert/strict';
import type mysql from 'mysql2/promise';
import { LAYOUT_COLUMNS } from '../emulator/jobs.js';
import { setUp, TABLE_DDL, until, type Fixture } from './fixtures.js';

describe('TiDB import emulator', function () {
  let f: Fixture;
  let c: mysql.Connection;

  beforeEach(async () => {
    f = await setUp();
    c = await f.connect();
    await c.query(`CREATE TABLE t ${TABLE_DDL}`);
  });
  afterEach(async () => f.close());

  it('answers VERSION() like TiDB and forwards everything else', async () => {
    const [v] = await c.query<mysql.RowDataPacket[]>('SELECT VERSION()');
    assert.equal(v[0]['VERSION()'], '8.0.11-TiDB-v7.5.1');
    const [r] = await c.query<mysql.RowDataPacket[]>('SELECT 1 + 1 AS two, NULL AS n, DATABASE() AS db');
    assert.deepEqual({ ...r[0] }, { two: 2, n: null, db: f.db });
    const [ok] = await c.query<mysql.ResultSetHeader>("INSERT INTO t VALUES (1, 'a', 3), (2, 'b', 4)");
    assert.equal(ok.affectedRows, 2);
    await assert.rejects(c.query('SELECT * FROM no_such_table'), (e: { errno: number; sqlState: string }) => {
      assert.equal(e.errno, 1146);
      assert.equal(e.sqlState, '42S02');
      return true;
    });
    await c.query('CREATE DATABASE IF NOT EXISTS `' + f.db + '_b`');
    await c.query('USE `' + f.db + '_b`');
    const [d] = await c.query<mysql.RowDataPacket[]>('SELECT DATABASE() AS db');
    assert.equal(d[0].db, f.db + '_b');
    await c.query('DROP DATABASE `' + f.db + '_b`');
  });

  it('blocks without DETACHED and returns the finished job row', async () => {
    const file = await f.csv('a.csv', 12);
    const [rows, fields] = await c.query<mysql.RowDataPacket[]>(`IMPORT INTO t FROM '${file}'`);
    assert.deepEqual(
      fields.map((x) => x.name),
      LAYOUT_COLUMNS[13].map((x) => x.name),
    );
    assert.equal(rows[0].Status, 'finished');
    assert.equal(rows[0].Imported_Rows, 12);
    assert.equal(rows[0].Target_Table, `\`${f.db}\`.\`t\``);
    const [n] = await c.query<mysql.RowDataPacket[]>('SELECT COUNT(*) AS n FROM t');
    assert.equal(n[0].n, 12);
  });

  it('returns a pending row at once WITH DETACHED and honours the CSV options', async () => {
    const file = `${f.dir}/b.tsv`;
    await import('node:fs/promises').then((fs) =>
      fs.writeFile(file, 'id|name|age;1|"x|y"|5;2|\\N|6;3|z|7;', 'utf8'),
    );
    const [rows] = await c.query<mysql.RowDataPacket[]>(
      `IMPORT INTO t (id, name, age) FROM '${file}' FORMAT 'csv' WITH fields_terminated_by='|', ` +
        `lines_terminated_by=';', skip_rows=1, thread=2, DETACHED`,
    );
    assert.equal(rows[0].Status, 'pending');
    assert.equal(rows[0].Start_Time, null);
    assert.equal(rows[0].Imported_Rows, null);
    assert.equal(rows[0].Source_File_Size, '35B');
    const id = rows[0].Job_ID as number;
    await until(async () => {
      const [r] = await c.query<mysql.RowDataPacket[]>(`SHOW IMPORT JOB ${id}`);
      return r[0].Status === 'finished';
    });
    const [t] = await c.query<mysql.RowDataPacket[]>('SELECT id, name, age FROM t ORDER BY id');
    assert.deepEqual(
      t.map((r) => [r.id, r.name, r.age]),
      [
        [1, 'x|y', 5],
        [2, null, 6],
        [3, 'z', 7],
      ],
    );
  });

  it("enforces TiDB's rules: empty target, existing file, no explicit transaction, known options", async () => {
    const file = await f.csv('c.csv', 3);
    await assert.rejects(c.query(`IMPORT INTO t FROM '${f.dir}/missing.csv'`), /no file matched/);
    await assert.rejects(c.query(`IMPORT INTO t FROM '${file}' WITH bogus=1`), /Unknown option bogus/);
    await c.query('BEGIN');
    await assert.rejects(c.query(`IMPORT INTO t FROM '${file}'`), /explicit transaction/);
    await c.query('ROLLBACK');
    await c.query("INSERT INTO t VALUES (99, 'x', 1)");
    await assert.rejects(c.query(`IMPORT INTO t FROM '${file}'`), (e: { errno: number; message: string }) => {
      assert.equal(e.errno, 8173);
      assert.match(e.message, /target table is not empty/);
      return true;
    });
    await assert.rejects(c.query('SHOW IMPORT JOB 4242'), /Job ID 4242 doesn't exist/);
  });

  it('fails a job on bad data with a Result_Message', async () => {
    const wrongCount = await f.csv('bad1.csv', 7, '8,only-two\n');
    await assert.rejects(
      c.query(`IMPORT INTO t FROM '${wrongCount}'`),
      /column count mismatch, expected 3, got 2/,
    );
    await c.query('CREATE TABLE t2 ' + TABLE_DDL);
    const typeError = await f.csv('bad2.csv', 3, '4,n,not-a-number\n');
    const [r] = await c.query<mysql.RowDataPacket[]>(`IMPORT INTO t2 FROM '${typeError}' WITH DETACHED`);
    await until(async () => {
      const [x] = await c.query<mysql.RowDataPacket[]>(`SHOW IMPORT JOB ${r[0].Job_ID}`);
      return x[0].Status === 'failed';
    });
    const [x] = await c.query<mysql.RowDataPacket[]>(`SHOW IMPORT JOB ${r[0].Job_ID}`);
    assert.match(x[0].Result_Message, /Incorrect integer value/);
    assert.notEqual(x[0].End_Time, null);
  });

  it('cancels a running job', async () => {
    f.emu.settings.rowsPerSecond = 50;
    const file = await f.csv('d.csv', 500);
    const [r] = await c.query<mysql.RowDataPacket[]>(`IMPORT INTO t FROM '${file}' WITH DETACHED`);
    const id = r[0].Job_ID as number;
    await until(async () => {
      const [x] = await c.query<mysql.RowDataPacket[]>(`SHOW IMPORT JOB ${id}`);
      return x[0].Status === 'running';
    });
    await c.query(`CANCEL IMPORT JOB ${id}`);
    await until(async () => {
      const [x] = await c.query<mysql.RowDataPacket[]>(`SHOW IMPORT JOB ${id}`);
      return x[0].Status === 'cancelled';
    });
    await assert.rejects(c.query(`CANCEL IMPORT JOB ${id}`), /cannot perform the operation/);
  });

  for (const layout of [13, 20, 21] as const) {
    it(`reports ${layout} columns with TiDB's field types in layout ${layout}`, async () => {
      f.emu.settings.layout = layout;
      const [, fields] = await c.query<mysql.RowDataPacket[]>('SHOW IMPORT JOBS');
      assert.equal(fields.length, layout);
      const byName = Object.fromEntries(fields.map((x) => [x.name, x.columnType]));
      assert.equal(byName.Job_ID, 8); // LONGLONG
      assert.equal(byName.Imported_Rows, 8);
      assert.equal(byName.Start_Time, 7); // TIMESTAMP
      if (layout === 21) assert.equal(fields[1].name, 'Group_Key');
    });
  }

  it('renders job times in the session time zone, consistent with NOW()', async () => {
    await c.query("SET time_zone = '+05:30'");
    const file = await f.csv('e.csv', 3);
    const [[now]] = await c.query<mysql.RowDataPacket[]>({ sql: 'SELECT NOW(6) AS now', dateStrings: true });
    const [rows] = await c.query<mysql.RowDataPacket[]>({
      sql: `IMPORT INTO t FROM '${file}'`,
      dateStrings: true,
    });
    const gap =
      Date.parse(rows[0].Create_Time.replace(' ', 'T') + 'Z') - Date.parse(now.now.replace(' ', 'T') + 'Z');
    assert.ok(gap >= -1000 && gap < 5000, `Create_Time ${rows[0].Create_Time} vs NOW() ${now.now}`);
    await c.query("SET time_zone = '+00:00'");
    const [again] = await c.query<mysql.RowDataPacket[]>({ sql: 'SHOW IMPORT JOBS', dateStrings: true });
    const shift =
      Date.parse(rows[0].Create_Time.replace(' ', 'T') + 'Z') -
      Date.parse(again[0].Create_Time.replace(' ', 'T') + 'Z');
    assert.equal(shift, 5.5 * 3600 * 1000);
  });

  it('answers SHOW RAW IMPORT JOBS with a Raw_Stats document', async () => {
    const file = await f.csv('g.csv', 4);
    await c.query(`IMPORT INTO t FROM '${file}'`);
    const [rows, fields] = await c.query<mysql.RowDataPacket[]>('SHOW RAW IMPORT JOBS');
    assert.deepEqual(
      fields.map((x) => x.name),
      ['Job_ID', 'Group_Key', 'Raw_Stats'],
    );
    const stats = JSON.parse(rows[0].Raw_Stats);
    assert.equal(stats.status, 'finished');
    assert.equal(stats.imported_rows, 4);
  });
});
