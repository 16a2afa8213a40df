// Property tests against the real server: what `SELECT ?` and arithmetic on a
// parameter return is exactly what exact arithmetic predicts, per column type,
// in both sql_modes that change how strings are read. Each property runs with
// a fixed seed (CI is reproducible) and then a random one (new cases each run);
// fast-check prints the seed of a failure, and TEST_RIG_PROPERTY_SEED replays it.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Connection } from '../../ts/db/connection.js';
import { SqlLiteral } from '../../ts/db/sql-values.js';
import { scratchDatabase, testServer } from '../helpers/db.js';

const FIXED_SEED = 20261204;
const seeds = (): number[] => {
  const forced = process.env.TEST_RIG_PROPERTY_SEED;
  if (forced) return [Number(forced)];
  return [FIXED_SEED, Math.floor(Math.random() * 2 ** 31)];
};

async function check<T>(
  arb: fc.Arbitrary<T>,
  property: (v: T) => Promise<void>,
  numRuns = 150,
): Promise<void> {
  for (const seed of seeds()) {
    await fc.assert(fc.asyncProperty(arb, property), { seed, numRuns });
  }
}

/** A decimal text of up to `maxWhole` digits before the point and 30 after (DECIMAL(65,30) at most). */
const decimalText = (maxWhole = 35): fc.Arbitrary<string> =>
  fc
    .tuple(fc.integer({ min: 0, max: maxWhole }), fc.integer({ min: 0, max: 30 }))
    .chain(([whole, scale]) =>
      fc.tuple(
        fc.constant(scale),
        fc.bigInt({ min: 0n, max: 10n ** BigInt(Math.max(1, whole + scale)) - 1n }),
        fc.boolean(),
      ),
    )
    .map(([scale, n, negative]) => {
      const digits = n.toString().padStart(scale + 1, '0');
      const whole = digits.slice(0, digits.length - scale);
      const text = scale ? `${whole}.${digits.slice(-scale)}` : whole;
      return negative && n !== 0n ? `-${text}` : text;
    });

/** Exact decimal arithmetic on texts, as scaled bigints. */
function scaled(text: string): [bigint, number] {
  const [whole, fraction = ''] = text.split('.');
  return [BigInt(whole.replace('-', '') + fraction) * (text.startsWith('-') ? -1n : 1n), fraction.length];
}
function decimalSum(a: string, b: string): string {
  const [x, sx] = scaled(a);
  const [y, sy] = scaled(b);
  const scale = Math.max(sx, sy);
  const sum = x * 10n ** BigInt(scale - sx) + y * 10n ** BigInt(scale - sy);
  const digits = (sum < 0n ? -sum : sum).toString().padStart(scale + 1, '0');
  const text = scale ? `${digits.slice(0, digits.length - scale)}.${digits.slice(-scale)}` : digits;
  return sum < 0n ? `-${text}` : text;
}

/** '-0.00' and '0.00' are one value. */
const unsignedZero = (text: string): string => text.replace(/^-(?=0(\.0*)?$)/, '');

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

describe('SQL parameter values: properties (against the test server)', function () {
  this.timeout(300_000);
  let db: Awaited<ReturnType<typeof scratchDatabase>>;
  let conn: Connection;

  before(async () => {
    db = await scratchDatabase('trt_prop');
    conn = await Connection.open({ ...testServer, database: db.name });
  });
  after(async () => {
    await conn?.close();
    await db.drop();
  });

  const row = async (sql: string, params: unknown[]): Promise<unknown[]> =>
    ((await conn.query(sql, params, { rowsAsArray: true })).rows as unknown[][])[0];

  it('integers at every boundary, to 65 digits', async () => {
    const bounds = [
      0n,
      1n,
      -1n,
      2n ** 53n,
      -(2n ** 53n),
      2n ** 63n - 1n,
      -(2n ** 63n),
      2n ** 64n - 1n,
      2n ** 64n,
    ];
    const ints = fc.oneof(
      fc.constantFrom(...bounds.flatMap((b) => [b - 1n, b, b + 1n])),
      fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }),
      fc.bigInt({ min: -(10n ** 65n) + 1n, max: 10n ** 65n - 1n }),
    );
    await check(ints, async (n) => {
      const [same, plus] = await row('SELECT ?, ? + 0', [n, n]);
      // mysql2 gives integers beyond 2^53 (and DECIMALs) as text
      assert.equal(BigInt(same as string | number), n);
      assert.equal(BigInt(plus as string | number), n);
    });
  });

  it('decimals up to DECIMAL(65,30), and their sums', async () => {
    // a sum of two DECIMAL(65,30)s may need 66 digits: the summands have at most 34 before the point
    await check(fc.tuple(decimalText(), decimalText(34), decimalText(34)), async ([a, b, c]) => {
      const [same, sum] = await row('SELECT ?, ? + ?', [
        SqlLiteral.decimal(a),
        SqlLiteral.decimal(b),
        SqlLiteral.decimal(c),
      ]);
      assert.equal(unsignedZero(String(same)), unsignedZero(a));
      assert.equal(unsignedZero(String(sum)), unsignedZero(decimalSum(b, c)));
    });
  });

  it('doubles, and arithmetic on them', async () => {
    await check(fc.double({ noNaN: true, noDefaultInfinity: true }), async (x) => {
      const [same, half] = await row('SELECT ?, ? / 2e0', [x, x]);
      assert.equal(same, x === 0 ? 0 : x); // the server has no -0
      assert.equal(half, x / 2 === 0 ? 0 : x / 2);
    });
  });

  it('datetimes with microseconds, dates and times', async () => {
    const stamp = fc.record({
      y: fc.integer({ min: 1000, max: 9999 }),
      mo: fc.integer({ min: 1, max: 12 }),
      d: fc.integer({ min: 1, max: 28 }),
      h: fc.integer({ min: 0, max: 23 }),
      mi: fc.integer({ min: 0, max: 59 }),
      s: fc.integer({ min: 0, max: 59 }),
      us: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 999_999 })),
      th: fc.integer({ min: -838, max: 838 }),
    });
    await check(stamp, async (t) => {
      const date = `${pad(t.y, 4)}-${pad(t.mo)}-${pad(t.d)}`;
      const frac = t.us ? `.${pad(t.us, 6)}` : '';
      const datetime = `${date} ${pad(t.h)}:${pad(t.mi)}:${pad(t.s)}${frac}`;
      const time = `${t.th < 0 ? '-' : ''}${pad(Math.abs(t.th))}:${pad(t.mi)}:${pad(t.s)}${frac}`;
      const [dt, d, tm, next] = await row('SELECT ?, ?, ?, ? + INTERVAL 1 DAY', [
        SqlLiteral.datetime(datetime),
        SqlLiteral.date(date),
        SqlLiteral.time(time),
        SqlLiteral.date(date),
      ]);
      assert.deepEqual([dt, d, tm], [datetime, date, time]);
      const expected = new Date(`${date}T00:00:00Z`);
      expected.setUTCDate(expected.getUTCDate() + 1);
      assert.equal(next, expected.toISOString().slice(0, 10));
    });
  });

  it('strings from every utf8mb4 plane, hostile characters included, in both backslash modes', async () => {
    const hostile = fc.constantFrom(
      "'",
      '\\',
      '"',
      '`',
      '?',
      '\0',
      '\n',
      '-- ',
      '#',
      '/*',
      '*/',
      "\\'",
      "''",
    );
    const text = fc
      .array(fc.oneof(fc.string({ unit: 'binary' }), hostile), { maxLength: 8 })
      .map((parts) => parts.join(''));
    for (const mode of ['NO_BACKSLASH_ESCAPES', '']) {
      await conn.query('SET SESSION sql_mode = ?', [mode]);
      await check(text, async (s) => {
        const [same, length, equal] = await row('SELECT ?, CHAR_LENGTH(?), ? = BINARY ?', [s, s, s, s]);
        assert.equal(same, s);
        assert.equal(length, [...s].length);
        assert.equal(equal, 1);
      });
    }
  });

  it('blobs with every byte', async () => {
    await check(fc.uint8Array({ maxLength: 300 }), async (bytes) => {
      const [same, length] = await row('SELECT ?, LENGTH(?)', [bytes, bytes]);
      assert.deepEqual(same, Buffer.from(bytes));
      assert.equal(length, bytes.length);
    });
  });
});
