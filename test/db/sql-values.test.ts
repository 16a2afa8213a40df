// Parameters become exact, injection-safe literals (ts/db/sql-values.ts), and
// results keep what a user looks at: all of a CALL's result sets, repeated
// column names, a SELECT's warnings, GEOMETRY's kind and SRID, zero dates.
import assert from 'node:assert/strict';
import { Connection } from '../../ts/db/connection.js';
import { SqlLiteral, formatQuery, placeholderOffsets } from '../../ts/db/sql-values.js';
import { rawConnection, scratchDatabase, testServer } from '../helpers/db.js';

describe('SQL parameter values (against the test server)', () => {
  let db: Awaited<ReturnType<typeof scratchDatabase>>;
  let conn: Connection;
  const echoed: string[] = [];

  before(async () => {
    db = await scratchDatabase('trt_vals');
    conn = await Connection.open({ ...testServer, database: db.name }, { echo: (l) => echoed.push(l) });
  });
  after(async () => {
    await conn?.close();
    await db.drop();
  });

  const one = async (sql: string, params?: unknown[]): Promise<unknown> =>
    ((await conn.query(sql, params, { rowsAsArray: true })).rows as unknown[][])[0]?.[0];

  it('sends decimals as exact DECIMAL literals, so arithmetic on money stays exact', async () => {
    await conn.query('CREATE TABLE acct (id INT PRIMARY KEY, bal DECIMAL(30,2))');
    await conn.query('INSERT INTO acct VALUES (1, 12345678901234567.89)');
    await conn.query('UPDATE acct SET bal = bal + ? WHERE id = 1', [SqlLiteral.decimal('0.01')]);
    assert.equal(await one('SELECT bal FROM acct'), '12345678901234567.90');
    assert.equal(await one('SELECT ? * 3', [SqlLiteral.decimal('0.1')]), '0.3');
    assert.equal(await one('SELECT ? + ?', [SqlLiteral.decimal('0.1'), SqlLiteral.decimal('0.2')]), '0.3');
    const max = '-' + '9'.repeat(35) + '.' + '9'.repeat(30);
    assert.equal(await one('SELECT ?', [SqlLiteral.decimal(max)]), max);
    assert.throws(() => SqlLiteral.decimal('1e3'), /not a decimal: "1e3"/);
    assert.throws(
      () => SqlLiteral.decimal('0.' + '1'.repeat(31)),
      /at most 65 digits and 30 after the point/,
    );
    assert.throws(() => SqlLiteral.decimal("1' OR 1=1"), TypeError);
  });

  it('sends integers of any size as integer literals, never through a float', async () => {
    assert.equal(await one('SELECT ? + 1', [2n ** 53n]), '9007199254740993');
    assert.equal(await one('SELECT ? + 1', [-(2n ** 53n)]), -9007199254740991);
    assert.equal(await one('SELECT ? + 0', [2n ** 64n - 1n]), '18446744073709551615');
    assert.equal(await one('SELECT ? + 0', [-(2n ** 63n)]), '-9223372036854775808');
    assert.equal(await one('SELECT ? + 0', [-(2n ** 63n) - 1n]), '-9223372036854775809');
    assert.equal(await one('SELECT ? + 0', [10n ** 64n]), '1' + '0'.repeat(64));
    assert.throws(() => formatQuery('SELECT ?', [10n ** 65n], false), /66 digits: DECIMAL holds at most 65/);
  });

  it('sends JS numbers that are not safe integers as DOUBLEs, and refuses NaN and Infinity', async () => {
    assert.equal(await one('SELECT ? * 3', [0.1]), 0.30000000000000004);
    assert.equal(await one('SELECT ?', [5e-324]), 5e-324);
    assert.equal(await one('SELECT ?', [-1.5]), -1.5);
    for (const bad of [NaN, Infinity, -Infinity]) {
      await assert.rejects(conn.query('SELECT ?', [bad]), (err: Error) => {
        assert.equal(err.name, 'TypeError');
        assert.match(err.message, /no NaN or Infinity/);
        return true;
      });
    }
  });

  it('sends temporal values as typed literals with microseconds, and refuses a JS Date', async () => {
    const { rows, columns } = await conn.query(
      'SELECT ?, ?, ?, ?',
      [
        SqlLiteral.datetime('2024-02-29 23:59:59.000001'),
        SqlLiteral.date('2024-02-29'),
        SqlLiteral.time('-838:59:59.999999'),
        SqlLiteral.datetime('1000-01-01 00:00:00'),
      ],
      { rowsAsArray: true },
    );
    assert.deepEqual(rows, [
      ['2024-02-29 23:59:59.000001', '2024-02-29', '-838:59:59.999999', '1000-01-01 00:00:00'],
    ]);
    assert.deepEqual(
      columns.map((c) => c.typeName),
      ['DATETIME', 'DATE', 'TIME', 'DATETIME'],
    );
    assert.throws(() => SqlLiteral.time('839:00:00'), /within ±838:59:59.999999/);
    assert.throws(() => SqlLiteral.datetime('2024-02-29T23:59:59+00:00'), /not a datetime/);
    await assert.rejects(conn.query('SELECT ?', [new Date()]), /JS Date: it is an instant/);
  });

  it('sends bytes as binary literals, every byte exact', async () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    assert.deepEqual(await one('SELECT ?', [all]), all);
    assert.deepEqual(await one('SELECT ?', [new Uint8Array([0, 0x27, 0x5c])]), Buffer.from([0, 0x27, 0x5c]));
  });

  it('refuses a placeholder count mismatch before sending, naming both counts', async () => {
    const before = echoed.length;
    await assert.rejects(
      conn.query('SELECT ?', [1, 2]),
      /the statement has 1 placeholder but 2 parameters were given/,
    );
    await assert.rejects(
      conn.query('SELECT ?, ?', [1]),
      /the statement has 2 placeholders but 1 parameter was given/,
    );
    await assert.rejects(conn.query('SELECT ?', []), /1 placeholder but 0 parameters/);
    assert.equal(echoed.length, before, 'nothing was sent');
    assert.equal(await one('SELECT 7'), 7);
  });

  it('does not count ? inside strings, quoted identifiers or comments', async () => {
    const sql = "SELECT '?''?', \"?\\\"?\", 1 AS `a?``b` /* ? */, ? -- ?\n, ? # ?\n/*! , ? */";
    assert.equal(placeholderOffsets(sql, false).length, 3);
    const { rows, columns } = await conn.query(sql, ['x', 'y', 'z'], { rowsAsArray: true });
    assert.deepEqual(rows, [["?'?", '?"?', 1, 'x', 'y', 'z']]);
    assert.equal(columns[2].name, 'a?`b');
    // Under NO_BACKSLASH_ESCAPES a backslash ends nothing: 'C:\' is a whole literal.
    assert.equal(placeholderOffsets("SELECT 'C:\\', ?", true).length, 1);
    assert.equal(placeholderOffsets("SELECT 'C:\\', ?", false).length, 0);
  });

  describe('under NO_BACKSLASH_ESCAPES', () => {
    const hostile = [
      "nobody' OR 1=1 -- ",
      "\\' OR 1=1 -- ",
      "\\\\' OR 1=1 #",
      'a\\',
      '\\',
      "'",
      "''\\'",
      'C:\\dir\\',
    ];

    async function assertSafe(c: Connection): Promise<void> {
      await c.query('CREATE TABLE IF NOT EXISTS users (name VARCHAR(50))');
      await c.query('DELETE FROM users');
      await c.query("INSERT INTO users VALUES ('alice'), ('bob')");
      for (const value of hostile) {
        const { rows } = await c.query('SELECT name FROM users WHERE name = ?', [value]);
        assert.deepEqual(rows, [], `${JSON.stringify(value)} matched rows`);
        const back = (
          (await c.query('SELECT ?, ? = ?', [value, value, value], { rowsAsArray: true })).rows as unknown[][]
        )[0];
        assert.deepEqual(back, [value, 1], JSON.stringify(value));
      }
    }

    it('keeps string parameters exact and unable to inject, in the session mode and back', async () => {
      await conn.query("SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')");
      assert.equal(conn.noBackslashEscapes, true);
      await assertSafe(conn);
      // SET STATEMENT: MariaDB reports that statement's mode, not the session's afterwards.
      await conn.query("SET STATEMENT sql_mode = '' FOR SELECT 1");
      await assertSafe(conn);
      await conn.query("SET SESSION sql_mode = REPLACE(@@sql_mode, 'NO_BACKSLASH_ESCAPES', '')");
      assert.equal(conn.noBackslashEscapes, false);
      await assertSafe(conn);
      await conn.query("SET STATEMENT sql_mode = 'NO_BACKSLASH_ESCAPES' FOR SELECT 1");
      assert.equal(conn.noBackslashEscapes, true, 'the status flag of that statement');
      await assertSafe(conn);
    });

    it("follows the server's global mode from a new session's first packet", async () => {
      // The server is shared: the global mode is changed only while one session opens.
      const admin = await rawConnection();
      let fresh: Connection;
      try {
        const [[{ mode }]] = (await admin.query('SELECT @@GLOBAL.sql_mode AS mode')) as unknown as [
          [{ mode: string }],
        ];
        await admin.query("SET GLOBAL sql_mode = CONCAT(@@GLOBAL.sql_mode, ',NO_BACKSLASH_ESCAPES')");
        try {
          fresh = await Connection.open({ ...testServer, database: db.name });
        } finally {
          await admin.query('SET GLOBAL sql_mode = ?', [mode]);
        }
      } finally {
        await admin.end();
      }
      try {
        assert.equal(fresh.noBackslashEscapes, true);
        await assertSafe(fresh);
      } finally {
        await fresh.close();
      }
    });
  });

  describe('results', () => {
    it('gives every result set of a CALL, in order', async () => {
      await conn.query('CREATE PROCEDURE two_sets() BEGIN SELECT 1 AS a; SELECT 2 AS b, 3 AS c; END');
      const r = await conn.query('CALL two_sets()');
      assert.deepEqual(r.rows, [{ a: 1 }]);
      assert.deepEqual(
        r.resultSets.map((s) => s.rows),
        [[{ a: 1 }], [{ b: 2, c: 3 }]],
      );
      assert.deepEqual(
        r.resultSets[1].columns.map((c) => c.name),
        ['b', 'c'],
      );
      assert.deepEqual((await conn.query('SELECT 1 AS x')).resultSets.length, 1);
      assert.deepEqual((await conn.query('DO 1')).resultSets, []);
    });

    it('keeps repeated column names reachable (table.name), warning once', async () => {
      await conn.query('CREATE TABLE pa (id INT, v INT)');
      await conn.query('CREATE TABLE pb (id INT, v INT)');
      await conn.query('INSERT INTO pa VALUES (1, 10)');
      await conn.query('INSERT INTO pb VALUES (1, 20)');
      const warnings: string[] = [];
      const onWarning = (w: Error) => warnings.push(w.message);
      process.on('warning', onWarning);
      try {
        const { rows, columns } = await conn.query('SELECT * FROM pa JOIN pb ON pa.id = pb.id');
        assert.deepEqual(rows, [{ id: 1, v: 10, 'pb.id': 1, 'pb.v': 20 }]);
        assert.deepEqual(
          columns.map((c) => c.key),
          ['id', 'v', 'pb.id', 'pb.v'],
        );
        const exprs = await conn.query('SELECT 1 AS x, 2 AS x, pa.v, pa.v, pa.v FROM pa');
        assert.deepEqual(exprs.rows, [{ x: 1, x_1: 2, v: 10, 'pa.v': 10, v_4: 10 }]);
        await new Promise((resolve) => setImmediate(resolve));
      } finally {
        process.off('warning', onWarning);
      }
      assert.ok(warnings.length <= 1, warnings.join('\n'));
    });

    it('reports the warning count of a SELECT', async () => {
      const r = await conn.query("SELECT CAST('1x' AS SIGNED) AS n, CAST('2y' AS SIGNED) AS m");
      assert.deepEqual(r.rows, [{ n: 1, m: 2 }]);
      assert.equal(r.warningCount, 2);
      assert.equal((await conn.query('SELECT 1')).warningCount, 0);
    });

    it('reads DOUBLE results exactly as JavaScript parses their text', async () => {
      // mysql2 reads short numbers digit by digit in floating point: 900719925474100.5 came back .4
      const values = [
        900719925474100.5, 0.1, 2.2250738585072014e-308, 123456.789012345, -7.2057594037927936e16,
      ];
      const sql = `SELECT ${values.map((v, i) => `${String(v)}${String(v).includes('e') ? '' : 'e0'} AS v${i}`).join(', ')}`;
      const r = await conn.query(sql, undefined, { rowsAsArray: true });
      assert.deepEqual((r.rows as number[][])[0], values);
      const [[half]] = (await conn.query('SELECT ? / 2e0', [1801439850948201], { rowsAsArray: true }))
        .rows as number[][];
      assert.equal(half, 900719925474100.5);
    });

    it('keeps GEOMETRY as the server bytes: SRID then WKB (kind and SRID kept)', async () => {
      const r = await conn.query(
        "SELECT ST_GeomFromText('POINT(1 2)', 4326) AS p, ST_GeomFromText('GEOMETRYCOLLECTION(POINT(0 0))', 0) AS c",
        undefined,
        { rowsAsArray: true },
      );
      const [p, c] = (r.rows as Buffer[][])[0];
      assert.equal(p.readUInt32LE(0), 4326);
      assert.equal(p.readUInt32LE(5), 1, 'WKB type 1: POINT');
      assert.equal(p.readDoubleLE(9), 1);
      assert.equal(p.readDoubleLE(17), 2);
      assert.equal(c.readUInt32LE(5), 7, 'WKB type 7: GEOMETRYCOLLECTION');
      const [[wkb]] = (
        await conn.query("SELECT ST_AsWKB(ST_GeomFromText('POINT(1 2)'))", undefined, { rowsAsArray: true })
      ).rows as Buffer[][];
      assert.deepEqual(p.subarray(4), wkb);
    });

    it('returns zero and invalid dates as the server text', async () => {
      await conn.query("SET SESSION sql_mode = ''");
      await conn.query('CREATE TABLE zd (d DATE, dt DATETIME(6))');
      await conn.query(
        "INSERT INTO zd VALUES ('0000-00-00', '0000-00-00 00:00:00'), ('2024-00-10', '2024-02-00 01:02:03.5')",
      );
      const { rows } = await conn.query('SELECT d, dt FROM zd', undefined, { rowsAsArray: true });
      assert.deepEqual(rows, [
        ['0000-00-00', '0000-00-00 00:00:00.000000'],
        ['2024-00-10', '2024-02-00 01:02:03.500000'],
      ]);
    });
  });
});
