// What mysql2 reads from the wire and then drops, kept for Connection:
//
// - the EOF packet that ends a result set carries the statement's warning count
//   and the server status (NO_BACKSLASH_ESCAPES among its flags); mysql2 checks
//   it only for "more results", so a SELECT's warnings were invisible;
// - a GEOMETRY value is the server's bytes (4-byte little-endian SRID, then
//   WKB); mysql2 turns it into {x, y} objects, losing its SRID and, for
//   collections, its kind. It is kept as those bytes instead.
//
// Both are patches of mysql2's classes, loaded by file path (its package
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
  isEOF(): boolean;
  eofWarningCount(): number;
  eofStatusFlags(): number;
  readLengthCodedBuffer(): Buffer | null;
}

type RowStep = (this: EofInfo, packet: PacketLike, connection: unknown) => unknown;

let patched = false;

/** Applies both patches once (idempotent). */
export function patchMysql2(): void {
  if (patched) return;
  patched = true;
  const require = createRequire(import.meta.url);
  const lib = path.join(path.dirname(require.resolve('mysql2')), 'lib');
  const Query = require(path.join(lib, 'commands/query.js')) as { prototype: { row?: RowStep } };
  const Packet = require(path.join(lib, 'packets/packet.js')) as {
    prototype: { parseGeometryValue?: (this: PacketLike) => unknown };
  };
  const row = Query.prototype.row;
  if (typeof row !== 'function' || typeof Packet.prototype.parseGeometryValue !== 'function') {
    throw new Error('this mysql2 version has no Query.prototype.row or Packet.prototype.parseGeometryValue');
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
}
