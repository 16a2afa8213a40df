// Wire-level writers for the emulator's server side. mysql2's own server helpers
// hard-code the SQLSTATE ('#_____') and its writeTextResult() mis-sizes rows, so the
// emulator builds packets itself and hands them to mysql2's writePacket(), which only
// needs length(), writeHeader() and buffer.

/** Column types used by the emulator (MySQL protocol constants). */
export const ColumnType = {
  LONGLONG: 0x08,
  TIMESTAMP: 0x07,
  DATETIME: 0x0c,
  VAR_STRING: 0xfd,
  BLOB: 0xfc,
} as const;

const UTF8MB4_GENERAL_CI = 45;
const BINARY_CHARSET = 63;
const NOT_NULL_FLAG = 1;
const UNSIGNED_FLAG = 32;
const BINARY_FLAG = 128;

export const SERVER_STATUS_AUTOCOMMIT = 0x0002;
export const SERVER_STATUS_IN_TRANS = 0x0001;

/** A column definition as sent in a result-set header. */
export interface ColumnDef {
  name: string;
  columnType: number;
  schema?: string;
  table?: string;
  orgTable?: string;
  orgName?: string;
  characterSet?: number;
  columnLength?: number;
  flags?: number;
  decimals?: number;
}

/** The subset of mysql2's server-side Connection the emulator touches. */
export interface ServerConnection {
  writePacket(packet: RawPacket): void;
  serverHandshake(args: Record<string, unknown>): void;
  on(event: string, listener: (...args: never[]) => void): this;
  stream: NodeJS.ReadWriteStream & { remoteAddress?: string; destroy(): void };
  clientHelloReply?: { user?: string; database?: string };
}

/** Duck-typed stand-in for mysql2's Packet: 4 header bytes then the payload. */
export class RawPacket {
  readonly buffer: Buffer;
  readonly _name = 'Raw';
  constructor(payload: Buffer) {
    this.buffer = Buffer.allocUnsafe(payload.length + 4);
    payload.copy(this.buffer, 4);
  }
  length(): number {
    return this.buffer.length;
  }
  writeHeader(sequenceId: number): void {
    this.buffer.writeUIntLE(this.buffer.length - 4, 0, 3);
    this.buffer[3] = sequenceId & 0xff;
  }
}

function lenencInt(n: number): Buffer {
  if (n < 251) return Buffer.from([n]);
  if (n < 0x10000) {
    const b = Buffer.alloc(3);
    b[0] = 0xfc;
    b.writeUInt16LE(n, 1);
    return b;
  }
  if (n < 0x1000000) {
    const b = Buffer.alloc(4);
    b[0] = 0xfd;
    b.writeUIntLE(n, 1, 3);
    return b;
  }
  const b = Buffer.alloc(9);
  b[0] = 0xfe;
  b.writeBigUInt64LE(BigInt(n), 1);
  return b;
}

function lenencBytes(v: Buffer): Buffer {
  return Buffer.concat([lenencInt(v.length), v]);
}

function lenencStr(s: string): Buffer {
  return lenencBytes(Buffer.from(s, 'utf8'));
}

export function okPacket(
  args: {
    affectedRows?: number;
    insertId?: number;
    serverStatus?: number;
    warnings?: number;
    info?: string;
  } = {},
): RawPacket {
  const head = Buffer.from([0x00]);
  const status = Buffer.alloc(4);
  status.writeUInt16LE(args.serverStatus ?? SERVER_STATUS_AUTOCOMMIT, 0);
  status.writeUInt16LE(args.warnings ?? 0, 2);
  return new RawPacket(
    Buffer.concat([
      head,
      lenencInt(args.affectedRows ?? 0),
      lenencInt(args.insertId ?? 0),
      status,
      Buffer.from(args.info ?? '', 'utf8'),
    ]),
  );
}

/** An ERR packet carrying the real errno and SQLSTATE. */
export function errorPacket(errno: number, sqlState: string, message: string): RawPacket {
  const head = Buffer.alloc(3);
  head[0] = 0xff;
  head.writeUInt16LE(errno, 1);
  const state = Buffer.from(`#${(sqlState || 'HY000').padEnd(5, '0').slice(0, 5)}`, 'latin1');
  return new RawPacket(Buffer.concat([head, state, Buffer.from(message, 'utf8')]));
}

export function eofPacket(serverStatus = SERVER_STATUS_AUTOCOMMIT, warnings = 0): RawPacket {
  const b = Buffer.alloc(5);
  b[0] = 0xfe;
  b.writeUInt16LE(warnings, 1);
  b.writeUInt16LE(serverStatus, 3);
  return new RawPacket(b);
}

function columnPacket(c: ColumnDef): RawPacket {
  const isString = c.columnType === ColumnType.VAR_STRING || c.columnType === ColumnType.BLOB;
  const fixed = Buffer.alloc(13);
  fixed[0] = 0x0c;
  fixed.writeUInt16LE(c.characterSet ?? (isString ? UTF8MB4_GENERAL_CI : BINARY_CHARSET), 1);
  fixed.writeUInt32LE(c.columnLength ?? (isString ? 1024 : 21), 3);
  fixed[7] = c.columnType;
  fixed.writeUInt16LE(c.flags ?? (isString ? 0 : BINARY_FLAG), 8);
  fixed[10] = c.decimals ?? 0;
  return new RawPacket(
    Buffer.concat([
      lenencStr('def'),
      lenencStr(c.schema ?? ''),
      lenencStr(c.table ?? ''),
      lenencStr(c.orgTable ?? ''),
      lenencStr(c.name),
      lenencStr(c.orgName ?? c.name),
      fixed,
    ]),
  );
}

/** One text-protocol row; null is SQL NULL, Buffers are sent verbatim. */
export function rowPacket(values: ReadonlyArray<string | number | bigint | Buffer | null>): RawPacket {
  const parts: Buffer[] = [];
  for (const v of values) {
    if (v === null) parts.push(Buffer.from([0xfb]));
    else if (Buffer.isBuffer(v)) parts.push(lenencBytes(v));
    else parts.push(lenencStr(String(v)));
  }
  return new RawPacket(Buffer.concat(parts));
}

/** Writes a complete text result set (header, columns, EOF, rows, EOF). */
export function writeResultSet(
  conn: ServerConnection,
  columns: readonly ColumnDef[],
  rows: ReadonlyArray<ReadonlyArray<string | number | bigint | Buffer | null>>,
  serverStatus = SERVER_STATUS_AUTOCOMMIT,
): void {
  // One TCP segment per result set rather than one per packet.
  const sock = conn.stream as unknown as { cork?: () => void; uncork?: () => void };
  sock.cork?.();
  conn.writePacket(new RawPacket(lenencInt(columns.length)));
  for (const c of columns) conn.writePacket(columnPacket(c));
  conn.writePacket(eofPacket(serverStatus));
  for (const r of rows) conn.writePacket(rowPacket(r));
  conn.writePacket(eofPacket(serverStatus));
  sock.uncork?.();
}

export const Flags = { NOT_NULL_FLAG, UNSIGNED_FLAG, BINARY_FLAG };
