// Query results packed into one buffer (ts/python/packed-rows.ts) and built into
// Python rows natively (native/rows.cc): values arrive exactly as the per-value
// path gave them, on every path a handler reads rows on.
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ResultSet } from '../../ts/db/connection.js';
import { packResultSets } from '../../ts/python/packed-rows.js';
import {
  Connection,
  PythonRuntime,
  StateContext,
  StateMachine,
  loadPythonHandlers,
  type LoadResult,
} from '../../ts/index.js';
import { testServer } from '../helpers/db.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../../test/python/fixtures');
const handlersFile = path.join(fixtures, 'packed_rows.py');

/** A result set of array rows with the given [key, MySQL type code] columns. */
function set(columns: [string, number][], rows: unknown[][]): ResultSet {
  return {
    columns: columns.map(([key, type]) => ({
      name: key,
      key,
      table: '',
      type,
      typeName: '',
      flags: 0,
      decimals: 0,
      charsetNr: 0,
    })),
    rows,
  };
}

describe('Python: packed query results', function () {
  this.timeout(120_000);
  const loads: LoadResult[] = [];
  const open: StateContext[] = [];
  afterEach(async () => {
    for (const ctx of open.splice(0)) {
      await PythonRuntime.get().release(ctx);
      await ctx.closeConnections();
    }
    for (const l of loads.splice(0)) l.dispose();
  });

  /** repr() of every value Python builds from the packed sets, per row (tracked= last). */
  async function describe(sets: ResultSet[]): Promise<string[][][]> {
    const rt = PythonRuntime.get();
    rt.addImportPath(fixtures);
    const packed = packResultSets(sets);
    assert.ok(packed, 'these values have a packed form');
    return rt.call(rt.importModule('packed_rows'), 'describe', [packed]) as string[][][];
  }

  it('converts every column type exactly (decimals, big ints, temporal values, binary, NULL, JSON, UTF-8)', async () => {
    const sets = await describe([
      set(
        [
          ['d', 246],
          ['big', 8],
          ['jsbig', 8],
          ['n', 3],
          ['dbl', 5],
          ['whole', 5],
          ['day', 10],
          ['zero', 10],
          ['bad', 10],
          ['ts', 12],
          ['t', 11],
          ['bin', 252],
          ['null', 253],
          ['text', 253],
        ],
        [
          [
            '12345678901234567890.123456789',
            '18446744073709551615',
            2n ** 70n,
            -42,
            0.1,
            3,
            '2024-02-29',
            '0000-00-00',
            '2023-02-29',
            '2024-02-29 13:14:15.123',
            '-01:02:03.5',
            Buffer.from([0, 255, 16]),
            null,
            'héllo ☃ 😀',
          ],
          [
            '1.50',
            '9007199254740993',
            1n,
            7,
            2.5,
            -0,
            '1999-12-31',
            '2000-01-01',
            '2000-02-29',
            '2000-01-01 00:00:00',
            '00:00:01',
            Buffer.alloc(0),
            null,
            '',
          ],
        ],
      ),
      set([['j', 245]], [['{"k": 9007199254740993, "f": 1.5, "s": [null, true]}']]),
    ]);
    const [[plain, second], [json]] = sets;
    assert.deepEqual(plain, [
      "Decimal('12345678901234567890.123456789')",
      '18446744073709551615',
      '1180591620717411303424',
      '-42',
      '0.1',
      '3.0',
      'datetime.date(2024, 2, 29)',
      "'0000-00-00'",
      "'2023-02-29'",
      'datetime.datetime(2024, 2, 29, 13, 14, 15, 123000)',
      'datetime.timedelta(days=-1, seconds=82676, microseconds=500000)',
      "b'\\x00\\xff\\x10'",
      'None',
      "'héllo ☃ 😀'",
      'tracked=False',
    ]);
    assert.deepEqual(second, [
      "Decimal('1.50')",
      '9007199254740993',
      '1',
      '7',
      '2.5',
      '-0.0',
      'datetime.date(1999, 12, 31)',
      'datetime.date(2000, 1, 1)',
      'datetime.date(2000, 2, 29)',
      'datetime.datetime(2000, 1, 1, 0, 0)',
      'datetime.timedelta(seconds=1)',
      "b''",
      'None',
      "''",
      'tracked=False',
    ]);
    assert.deepEqual(json, ["{'k': 9007199254740993, 'f': 1.5, 's': [None, True]}", 'tracked=True']);
  });

  it('keeps every result set, empty ones included, and the rows of each', async () => {
    const sets = await describe([
      set([['a', 3]], [[1], [2]]),
      set([['b', 253]], []),
      set(
        [
          ['c', 253],
          ['d', 3],
        ],
        [['x', null]],
      ),
    ]);
    assert.deepEqual(sets, [
      [
        ['1', 'tracked=False'],
        ['2', 'tracked=False'],
      ],
      [],
      [["'x'", 'None', 'tracked=False']],
    ]);
  });

  it('leaves a result with a value it has no form for to the per-value path', () => {
    assert.equal(packResultSets([set([['g', 255]], [[{ x: 1, y: 2 }]])]), undefined);
    assert.equal(packResultSets([set([['a', 3]], [[1, 2]])]), undefined, 'a row wider than its columns');
  });

  for (const state of ['PackedSync', 'PackedAsync', 'PackedInline']) {
    it(`gives a handler exact, untracked rows from the server (${state})`, async () => {
      const machine = new StateMachine();
      loads.push(await loadPythonHandlers(machine, handlersFile));
      const ctx = new StateContext({
        host: testServer.host,
        port: testServer.port,
        username: testServer.user,
        password: testServer.password,
      });
      open.push(ctx);
      ctx.connection = await Connection.open(testServer);
      ctx.connections.set('main', ctx.connection);
      const result = await machine.run(ctx, { initialState: state });
      assert.equal(result.finalState, 'Completed');
    });
  }
});
