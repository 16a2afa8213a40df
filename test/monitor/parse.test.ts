// The row parser: examples per layout and fast-check properties (random layouts,
// column order, case, nulls, odd strings, unknown columns).
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  formatWall,
  parseHms,
  parseImportJobRow,
  parseSize,
  parseSpeed,
  wallMs,
} from '../../ts/monitor/parse.js';

const L1 = {
  Job_ID: 7,
  Data_Source: '/data/a.csv',
  Target_Table: '`db`.`t`',
  Table_ID: 116,
  Phase: 'importing',
  Status: 'running',
  Source_File_Size: '1.192KiB',
  Imported_Rows: 950,
  Result_Message: '',
  Create_Time: '2024-03-01 10:00:00.123456',
  Start_Time: '2024-03-01 10:00:01.000000',
  End_Time: null,
  Created_By: 'root@%',
};
const L2_EXTRA = {
  Last_Update_Time: '2024-03-01 10:00:05.000000',
  Cur_Step: 'import',
  Cur_Step_Processed_Size: '4.55GB',
  Cur_Step_Total_Size: '298GB',
  Cur_Step_Progress_Pct: '1',
  Cur_Step_Speed: '10.96MB/s',
  Cur_Step_ETA: '07:26:03',
};

describe('monitor row parser', () => {
  it('parses the 13-column layout', () => {
    const j = parseImportJobRow(L1)!;
    assert.equal(j.layout, 'L1');
    assert.equal(j.id, 7);
    assert.equal(j.sourceFileBytes, 1.192 * 1024);
    assert.equal(j.importedRows, 950);
    assert.equal(j.startTime, '2024-03-01 10:00:01.000000');
    assert.equal(j.curStepProgressPct, null);
    assert.deepEqual(j.extra, {});
  });

  it('parses the 20- and 21-column layouts', () => {
    const l2 = parseImportJobRow({ ...L1, ...L2_EXTRA })!;
    assert.equal(l2.layout, 'L2');
    assert.equal(l2.curStepProcessedBytes, 4.55e9);
    assert.equal(l2.curStepTotalBytes, 298e9);
    assert.equal(l2.curStepProgressPct, 1);
    assert.equal(l2.curStepSpeedBytesPerSec, 10.96e6);
    assert.equal(l2.curStepEtaSeconds, 7 * 3600 + 26 * 60 + 3);
    const l3 = parseImportJobRow({ Group_Key: 'g1', ...L1, ...L2_EXTRA })!;
    assert.equal(l3.layout, 'L3');
    assert.equal(l3.groupKey, 'g1');
  });

  it('parses RAW rows into session wall-clock times', () => {
    const raw = {
      Job_ID: 3,
      Group_Key: '',
      Raw_Stats: JSON.stringify({
        job_id: 3,
        status: 'canceled',
        phase: '',
        source_file_size_bytes: 2048,
        imported_rows: 10,
        error_message: 'cancelled by user',
        current_step: { name: 'import', processed_bytes: 512, total_bytes: 2048, remaining_seconds: 9 },
        start_time_unix: 1700000000,
        future_field: 1,
      }),
    };
    const j = parseImportJobRow(raw, { tzOffsetMs: 5.5 * 3600 * 1000 })!;
    assert.equal(j.layout, 'RAW');
    assert.equal(j.status, 'cancelled');
    assert.equal(j.curStepProgressPct, 25);
    assert.equal(j.startTime, '2023-11-15 03:43:20.000000'); // 22:13:20Z + 05:30
    assert.equal(j.extra.future_field, 1);
  });

  it('reads sizes, speeds and ETAs in the formats TiDB prints', () => {
    assert.equal(parseSize('16B'), 16);
    assert.equal(parseSize('277.5GiB'), 277.5 * 1024 ** 3);
    assert.equal(parseSize('1.194TB'), 1.194e12);
    assert.equal(parseSize('12 conflicts'), null);
    assert.equal(parseSpeed('3 conflicts/s'), null);
    assert.equal(parseHms('123:04:05'), 123 * 3600 + 245);
    assert.equal(parseHms('N/A'), null);
  });

  it('handles mysql2 Dates by their local wall-clock fields', () => {
    const d = new Date(2024, 0, 2, 3, 4, 5, 600);
    assert.equal(wallMs(d), Date.UTC(2024, 0, 2, 3, 4, 5, 600));
  });

  // ---------------------------------------------------------------- properties

  const odd = fc.oneof(
    fc.string(),
    fc.constantFrom('', ' ', '\n', 'NULL', '__proto__', 'constructor', '\u0000', '💥', '1e309', '-0'),
  );
  const value = fc.oneof(odd, fc.integer(), fc.double(), fc.constant(null), fc.bigInt(), fc.boolean());

  it('never throws and keeps every unknown column (random layouts, nulls, odd strings)', () => {
    const known = [...Object.keys(L1), 'Group_Key', ...Object.keys(L2_EXTRA)].filter((k) => k !== 'Job_ID');
    fc.assert(
      fc.property(
        fc.subarray(known),
        fc.dictionary(
          odd.filter(
            (k) => !['job_id', 'raw_stats', ...known.map((n) => n.toLowerCase())].includes(k.toLowerCase()),
          ),
          value,
        ),
        fc.array(value, { minLength: 30, maxLength: 30 }),
        fc.integer({ min: 1, max: 2 ** 40 }),
        fc.boolean(),
        (cols, unknown, values, id, upper) => {
          const row: Record<string, unknown> = {};
          cols.forEach((c, i) =>
            Object.defineProperty(row, upper ? c.toUpperCase() : c, { value: values[i], enumerable: true }),
          );
          for (const [k, v] of Object.entries(unknown))
            Object.defineProperty(row, k, { value: v, enumerable: true });
          Object.defineProperty(row, 'Job_ID', { value: id, enumerable: true });
          const j = parseImportJobRow(row);
          assert.ok(j);
          assert.equal(j.id, id);
          assert.deepEqual(Object.keys(j.extra).sort(), Object.keys(unknown).sort());
          for (const k of Object.keys(unknown)) assert.equal(j.extra[k], unknown[k]);
          assert.ok(j.status === j.status.toLowerCase());
          if (j.curStepProgressPct !== null)
            assert.ok(j.curStepProgressPct >= 0 && j.curStepProgressPct <= 100);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('returns null for rows without a usable Job_ID and never throws on garbage', () => {
    fc.assert(
      fc.property(fc.dictionary(odd, value), (row) => {
        const j = parseImportJobRow(row);
        if (j) assert.ok(Number.isInteger(j.id));
      }),
    );
    assert.equal(parseImportJobRow({ Job_ID: null, Status: 'running' }), null);
    assert.equal(parseImportJobRow({ Job_ID: 'x' }), null);
  });

  it('round-trips column values independent of column order and name case', () => {
    fc.assert(
      fc.property(
        fc.shuffledSubarray(Object.keys(L1), { minLength: 13, maxLength: 13 }),
        fc.boolean(),
        (order, lower) => {
          const row: Record<string, unknown> = {};
          for (const k of order) row[lower ? k.toLowerCase() : k] = L1[k as keyof typeof L1];
          assert.deepEqual(parseImportJobRow(row), parseImportJobRow(L1));
        },
      ),
    );
  });

  it('formatWall inverts wallMs, and sizes survive BytesSize-style rounding', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4102444800000 }), (ms) => {
        assert.equal(wallMs(formatWall(ms, true)), ms);
      }),
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 50 }), (bytes) => {
        let v = bytes;
        let i = 0;
        const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
        while (v >= 1024 && i < units.length - 1) {
          v /= 1024;
          i++;
        }
        const parsed = parseSize(`${Number(v.toPrecision(4))}${units[i]}`)!;
        assert.ok(Math.abs(parsed - bytes) <= bytes * 0.001 + 1);
      }),
    );
  });
});
