// What mysql2 reads from the wire and then drops, kept for Connection:
//
// - the EOF packet that ends a result set carries the statement's warning count
//   and the server status (NO_BACKSLASH_ESCAPES among its flags); mysql2 checks
//   it only for "more results", so a SELECT's warnings were invisible;
// - a GEOMETRY value is the server's bytes (4-byte little-endian SRID, then
//   WKB); mysql2 turns it into {x, y} objects, losing its SRID and, for
//   collections, its kind. It is kept as those bytes instead.
//
// - a DOUBLE or FLOAT value is text; mysql2 reads texts of up to 17 characters
//   digit by digit in floating point, which is off by one unit in the last
//   place for many values (900719925474100.5 came back as 900719925474100.4).
//   It is read with Number.parseFloat instead: exact, as JavaScript reads it.
//
// All are patches of mysql2's classes, loaded by file path (its package
// exports hide them) from the same files mysql2 itself uses. They apply to
// every mysql2 connection in the process; each is checked to exist, and the
// tests of Connection fail if an upgrade of mysql2 moves them.
import { createRequire } from 'node:module';
import path from 'node:path';

/** Set on a mysql2 Query command by the patched `row`, when its last result set ended. */
export interface EofInfo {
  eofWarnings?: number;
  eofStatus?: number;
}

interface PacketLike {
  buffer: Buffer;
  offset: number;
  isEOF(): boolean;
  eofWarningCount(): number;
  eofStatusFlags(): number;
  readLengthCodedBuffer(): Buffer | null;
}

type RowStep = (this: EofInfo, packet: PacketLike, connection: unknown) => unknown;

let patched = false;

/** Applies the patches once (idempotent). */
export function patchMysql2(): void {
  if (patched) return;
  patched = true;
  const require = createRequire(import.meta.url);
  const lib = path.join(path.dirname(require.resolve('mysql2')), 'lib');
  const Query = require(path.join(lib, 'commands/query.js')) as { prototype: { row?: RowStep } };
  const Packet = require(path.join(lib, 'packets/packet.js')) as {
    prototype: {
      parseGeometryValue?: (this: PacketLike) => unknown;
      parseFloat?: (this: PacketLike, len: number | null) => number | null;
    };
  };
  const row = Query.prototype.row;
  if (
    typeof row !== 'function' ||
    typeof Packet.prototype.parseGeometryValue !== 'function' ||
    typeof Packet.prototype.parseFloat !== 'function'
  ) {
    throw new Error(
      'this mysql2 version has no Query.prototype.row, Packet.prototype.parseGeometryValue or Packet.prototype.parseFloat',
    );
  }
  // `row` is looked up on the prototype for every packet (it returns
  // Query.prototype.row as its next step), so the wrapper sees the EOF.
  Query.prototype.row = function (packet, connection) {
    if (packet.isEOF()) {
      this.eofWarnings = packet.eofWarningCount();
      this.eofStatus = packet.eofStatusFlags();
    }
    return row.call(this, packet, connection);
  };
  Packet.prototype.parseGeometryValue = function () {
    return this.readLengthCodedBuffer();
  };
  Packet.prototype.parseFloat = function (len) {
    if (len === null) return null;
    if (len === 0) return 0; // as mysql2 does
    const text = this.buffer.toString('latin1', this.offset, this.offset + len);
    this.offset += len;
    return Number.parseFloat(text);
  };
}
