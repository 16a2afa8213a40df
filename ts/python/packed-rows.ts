// A query's result sets packed into one buffer for Python (native/rows.cc reads
// it): crossing the bridge as one bytes value costs one copy, where rows as a
// value tree cost N-API calls and allocations per value.
//
// Layout, little-endian: u32 set count; per set: u32 column count, per column
// u32 MySQL type code and a string (its key), u32 row count, then the values
// row by row, each a Tag byte and its payload. A string is a u32 byte length
// and UTF-8; a number an f64; bytes a u32 length and the bytes; a BigInt its
// decimal digits as a string.
import type { ResultSet } from '../db/connection.js';

/** Value tags; native/rows.cc has the same list. */
const enum Tag {
  Null = 0,
  Number = 1,
  String = 2,
  Bytes = 3,
  BigInt = 4,
  True = 5,
  False = 6,
}

class Writer {
  // Not zeroed (every byte sent is written); small ones come from Node's pool (a slice:
  // the DataView takes its offset).
  bytes: Buffer;
  view: DataView;
  at = 0;

  constructor(size: number) {
    this.bytes = Buffer.allocUnsafe(size);
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.length);
  }

  ensure(n: number): void {
    if (this.at + n <= this.bytes.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.at + n));
    this.bytes.copy(grown, 0, 0, this.at);
    this.bytes = grown;
    this.view = new DataView(grown.buffer, grown.byteOffset, grown.length);
  }

  u8(v: number): void {
    this.ensure(1);
    this.bytes[this.at++] = v;
  }

  u32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.at, v, true);
    this.at += 4;
  }

  f64(v: number): void {
    this.ensure(9);
    this.bytes[this.at] = Tag.Number;
    this.view.setFloat64(this.at + 1, v, true);
    this.at += 9;
  }

  /** A u32 byte length, then the UTF-8 bytes. */
  string(s: string): void {
    const n = s.length;
    this.ensure(4 + n * 3);
    const start = this.at + 4;
    let k = 0;
    // Short ASCII strings (most values) are copied here; anything else by Buffer's encoder.
    if (n <= 64) {
      const bytes = this.bytes;
      for (; k < n; k++) {
        const c = s.charCodeAt(k);
        if (c >= 0x80) break;
        bytes[start + k] = c;
      }
    }
    const len = k === n ? n : this.bytes.write(s, start, 'utf8');
    this.view.setUint32(this.at, len, true);
    this.at = start + len;
  }

  raw(b: Uint8Array): void {
    this.u32(b.length);
    this.ensure(b.length);
    this.bytes.set(b, this.at);
    this.at += b.length;
  }

  done(): Uint8Array {
    return this.bytes.subarray(0, this.at);
  }
}

/**
 * Packs result sets of array rows (rowsAsArray) with their columns' keys and type codes.
 * Returns undefined when a value has no packed form (e.g. a geometry object): the caller
 * then sends the rows as they are.
 */
export function packResultSets(sets: ResultSet[]): Uint8Array | undefined {
  let estimate = 16;
  for (const set of sets) estimate += 64 * set.columns.length + 12 * set.columns.length * set.rows.length;
  const w = new Writer(estimate);
  w.u32(sets.length);
  for (const set of sets) {
    w.u32(set.columns.length);
    for (const c of set.columns) {
      w.u32(c.type);
      w.string(c.key);
    }
    const rows = set.rows as unknown[][];
    w.u32(rows.length);
    const width = set.columns.length;
    for (const row of rows) {
      if (row.length !== width) return undefined;
      for (let k = 0; k < row.length; k++) {
        const v = row[k];
        if (typeof v === 'string') {
          w.u8(Tag.String);
          w.string(v);
        } else if (typeof v === 'number') w.f64(v);
        else if (v === null || v === undefined) w.u8(Tag.Null);
        else if (v instanceof Uint8Array) {
          w.u8(Tag.Bytes);
          w.raw(v);
        } else if (typeof v === 'bigint') {
          w.u8(Tag.BigInt);
          w.string(v.toString());
        } else if (typeof v === 'boolean') w.u8(v ? Tag.True : Tag.False);
        else return undefined;
      }
    }
  }
  return w.done();
}
