// One named MySQL/TiDB connection over mysql2, used by TypeScript and Python
// handlers alike: exact values, statement echo and timing, transactions,
// classified errors, and retry/circuit breaking on the connect path.
import { createReadStream } from 'node:fs';
import tls from 'node:tls';
import mysql from 'mysql2/promise';
import { DatabaseError } from '../errors.js';
import { redactSecrets } from '../log/redact.js';
import { columnTypeName } from './column-types.js';
import { describeConnectError } from './connect-errors.js';
import { patchMysql2, type EofInfo } from './mysql2-internals.js';
import { RetryPresets, withRetry, type CircuitBreaker, type RetryPolicy } from './retry.js';
import { detectServer, type ServerInfo } from './server.js';
import { formatQuery } from './sql-values.js';
import type { Timeline } from './timeline.js';

export type SslMode = 'DISABLED' | 'PREFERRED' | 'REQUIRED' | 'VERIFY_CA' | 'VERIFY_IDENTITY';

export interface SslOptions {
  mode?: SslMode;
  /** PEM contents (not paths). */
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
}

export interface ConnectionParams {
  host: string;
  port: number;
  user: string;
  password?: string;
  database?: string;
  ssl?: SslOptions;
  connectTimeoutMs?: number;
  /** Allow LOAD DATA LOCAL INFILE reading files from this machine. */
  localInfile?: boolean;
  /**
   * Session variables set right after connecting, and again after every
   * reconnect (e.g. `innodb_lock_wait_timeout`; see lockWaitVariables).
   */
  sessionVariables?: Readonly<Record<string, number>>;
}

export interface OpenOptions {
  name?: string;
  /** Receives `[<name>] <sql>` for every statement (the caller decides where to print). */
  echo?: (line: string) => void;
  /** Retry policy for connecting (default RetryPresets.DEFAULT; only transient errors are retried). */
  retry?: RetryPolicy;
  breaker?: CircuitBreaker;
  /** Records every statement of this connection (the case's timeline). */
  timeline?: Timeline;
}

export interface ColumnInfo {
  name: string;
  /** The key of this column in object rows (and Python rows): `name`, or `table.name` for a repeated name (see withKeys). */
  key: string;
  /** The table (as the query aliased it) the column comes from; '' for an expression. */
  table: string;
  /** mysql2 column type code. */
  type: number;
  typeName: string;
  flags: number;
  decimals: number;
  charsetNr: number;
}

export interface ResultSet {
  rows: Record<string, unknown>[] | unknown[][];
  columns: ColumnInfo[];
}

export interface QueryResult {
  /** The rows of the (first) result set. */
  rows: Record<string, unknown>[] | unknown[][];
  columns: ColumnInfo[];
  /**
   * Every result set, in order: a CALL of a procedure that selects several
   * times gives several (`rows`/`columns` are the first). One entry for a
   * SELECT, none for a statement without rows.
   */
  resultSets: ResultSet[];
  affectedRows: number;
  insertId: number | string;
  warningCount: number;
  durationMs: number;
}

export interface QueryOptions {
  rowsAsArray?: boolean;
  /**
   * Retry transient failures. A lost connection is reopened before the next
   * attempt (session state such as variables is lost). Only for idempotent
   * statements outside transactions: inside one, a retry would run against a
   * rolled-back transaction, so it is refused.
   */
  retry?: RetryPolicy;
  /**
   * Abandons the statement when aborted (e.g. ctx.signal after a machine timeout):
   * the connection is destroyed, which is the only way to stop a running
   * statement from the client side, and the query rejects with errorClass 'aborted'.
   */
  signal?: AbortSignal;
}

// Constant driver settings chosen so values arrive exactly as the server sent them.
const EXACT_VALUES = {
  supportBigNumbers: true,
  bigNumberStrings: false,
  dateStrings: true,
  decimalNumbers: false,
  jsonStrings: true,
  multipleStatements: false,
} as const;

// Settings for a cheap hot path: every statement is sent in mysql2's plain
// `query(sql, values)` form (its object form costs a few µs more per statement,
// and mixing the two in one process makes both slower), rows always arrive as
// arrays (made into objects here when asked), and no stack is captured per call
// (errors are wrapped with the statement and connection name instead).
const HOT_PATH = {
  rowsAsArray: true,
  trace: false,
} as const;

export class Connection {
  readonly name: string;
  readonly params: Readonly<ConnectionParams>;
  server?: ServerInfo;
  /** Duration of the last statement in milliseconds. */
  lastStatementMs = 0;
  #inner: mysql.Connection;
  /**
   * Whether the session reads backslashes in strings literally (sql_mode
   * NO_BACKSLASH_ESCAPES), from the status flags of the server's greeting and
   * of every response since: parameters are quoted for it (see sql-values.ts).
   */
  #noBackslashEscapes = false;
  #lost = false;
  #inTransaction = false;
  readonly #echo?: (line: string) => void;
  readonly #timeline?: Timeline;
  readonly #openOptions: OpenOptions;
  /** Statements (and a close) in flight: the socket keeps the process alive only while this is > 0. */
  #busy = 0;

  private constructor(inner: mysql.Connection, params: ConnectionParams, options: OpenOptions) {
    this.#inner = inner;
    this.params = params;
    this.name = options.name ?? 'main';
    this.#echo = options.echo;
    this.#timeline = options.timeline;
    this.#openOptions = options;
    this.#adopt(inner);
    socketOf(inner)?.unref();
  }

  // An idle connection does not keep Node running: a script ends when its work is done
  // (like a pool's idle connections), yet a statement or close in flight holds the process.
  #hold(): void {
    if (this.#busy++ === 0) socketOf(this.#inner)?.ref();
  }
  #letGo(): void {
    if (--this.#busy === 0) socketOf(this.#inner)?.unref();
  }

  /** Opens a connection, retrying transient failures and honouring the circuit breaker. Throws ConnectError. */
  static async open(params: ConnectionParams, options: OpenOptions = {}): Promise<Connection> {
    const inner = await connectRaw(params, options);
    return new Connection(inner, params, options);
  }

  get threadId(): number {
    return this.#inner.threadId;
  }

  get inTransaction(): boolean {
    return this.#inTransaction;
  }

  /** True once the server closed the connection or it was closed here. */
  get lost(): boolean {
    return this.#lost;
  }

  async query(sql: string, params?: unknown[], options: QueryOptions = {}): Promise<QueryResult> {
    if (!options.retry) return this.#queryOnce(sql, params, options);
    if (this.#inTransaction) {
      throw new DatabaseError(
        `[${this.name}] refusing to retry a statement inside a transaction; retry the whole transaction`,
        {
          sql,
          connectionName: this.name,
        },
      );
    }
    return withRetry(options.retry, async (attempt) => {
      if (attempt > 1 && this.#lost) await this.reconnect();
      return this.#queryOnce(sql, params, options);
    });
  }

  /** Runs `SELECT VERSION()` and records the detected server on this connection. */
  async detectServer(signal?: AbortSignal): Promise<ServerInfo> {
    const { rows } = await this.query('SELECT VERSION()', undefined, { rowsAsArray: true, signal });
    const version = String((rows as unknown[][])[0]?.[0] ?? '');
    this.server = detectServer(version);
    return this.server;
  }

  async beginTransaction(): Promise<void> {
    await this.query('BEGIN');
    this.#inTransaction = true;
  }

  async commit(): Promise<void> {
    try {
      await this.query('COMMIT');
    } finally {
      this.#inTransaction = false;
    }
  }

  async rollback(): Promise<void> {
    try {
      await this.query('ROLLBACK');
    } finally {
      this.#inTransaction = false;
    }
  }

  /** Replaces a lost connection with a new one to the same server (new thread id, fresh session). */
  async reconnect(): Promise<void> {
    const fresh = await connectRaw(this.params, this.#openOptions);
    this.#inner.destroy();
    this.#inner = fresh;
    this.#lost = false;
    this.#inTransaction = false;
    this.#adopt(fresh);
    if (this.#busy === 0) socketOf(fresh)?.unref();
  }

  /** Closes gracefully (sends COM_QUIT). */
  async close(): Promise<void> {
    if (this.#lost) return;
    this.#lost = true;
    this.#hold();
    try {
      await this.#inner.end();
    } finally {
      this.#letGo();
    }
  }

  /** Closes the socket immediately, abandoning any running statement. */
  destroy(): void {
    this.#lost = true;
    this.#inner.destroy();
  }

  /** True while the session has sql_mode NO_BACKSLASH_ESCAPES (as the server last reported). */
  get noBackslashEscapes(): boolean {
    return this.#noBackslashEscapes;
  }

  async #queryOnce(sql: string, params: unknown[] | undefined, options: QueryOptions): Promise<QueryResult> {
    // Refused values and placeholder mismatches throw here, before anything is sent.
    const text = params === undefined ? sql : formatQuery(sql, params, this.#noBackslashEscapes);
    this.#echo?.(`[${this.name}] ${redactSecrets(sql)}`);
    if (this.#lost) {
      throw new DatabaseError(`[${this.name}] the connection is closed or was lost`, {
        code: 'PROTOCOL_CONNECTION_LOST',
        sql,
        connectionName: this.name,
      });
    }
    if (options.signal?.aborted) throw this.#abortError(sql, options.signal);
    const started = performance.now();
    const entry = this.#timeline?.begin(this.name, this.threadId, sql);
    this.#hold();
    try {
      const running = this.#send(text);
      const sent = options.signal ? await this.#abortable(running, sql, options.signal) : await running;
      this.lastStatementMs = performance.now() - started;
      const out = toQueryResult(sent, this.lastStatementMs, options.rowsAsArray === true);
      if (sent.status !== undefined) this.#noBackslashEscapes = (sent.status & NO_BACKSLASH_ESCAPES) !== 0;
      if (entry) this.#timeline!.end(entry, out.rows.length, out.affectedRows);
      return out;
    } catch (err) {
      this.lastStatementMs = performance.now() - started;
      if (!(err instanceof DatabaseError) && (err as { fatal?: boolean }).fatal) this.#lost = true;
      const e = DatabaseError.from(err, { sql, connectionName: this.name });
      if (entry) this.#timeline!.fail(entry, e);
      throw e;
    } finally {
      this.#letGo();
    }
  }

  /**
   * mysql2 does not settle a running query when its connection is destroyed, so an
   * abort rejects on its own and the connection is destroyed behind it.
   */
  async #abortable<T>(running: Promise<T>, sql: string, signal: AbortSignal): Promise<T> {
    running.catch(() => undefined); // may reject after an abort already settled this call
    let onAbort: (() => void) | undefined;
    const abortion = new Promise<never>((_, reject) => {
      onAbort = () => {
        this.destroy();
        reject(this.#abortError(sql, signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([running, abortion]);
    } finally {
      signal.removeEventListener('abort', onAbort!);
    }
  }

  #abortError(sql: string, signal: AbortSignal): DatabaseError {
    return new DatabaseError(`[${this.name}] statement aborted: ${reasonText(signal.reason)}`, {
      code: 'ABORTED',
      errorClass: 'aborted',
      sql,
      connectionName: this.name,
    });
  }

  /**
   * One statement through mysql2's callback API, which hands back the command:
   * the patched command records what the result set's EOF packet said.
   */
  #send(sql: string): Promise<Sent> {
    const core = (this.#inner as unknown as { connection: CoreConnection }).connection;
    return new Promise((resolve, reject) => {
      const command = core.query(sql, (err, result, fields) => {
        if (err) reject(err);
        else resolve(sentResult(result, fields, command));
      });
    });
  }

  #adopt(inner: mysql.Connection): void {
    const greeting = (inner as unknown as { connection: CoreConnection }).connection._handshakePacket;
    this.#noBackslashEscapes = ((greeting?.statusFlags ?? 0) & NO_BACKSLASH_ESCAPES) !== 0;
    // mysql2 emits fatal errors on idle connections as events; without a listener they would crash the process.
    inner.on('error', () => {
      if (inner === this.#inner) this.#lost = true;
    });
  }
}

/** SERVER_STATUS_NO_BACKSLASH_ESCAPES in the status flags of OK, EOF and greeting packets. */
const NO_BACKSLASH_ESCAPES = 0x200;

/** The parts of mysql2's callback-API connection used here. */
interface CoreConnection {
  query(sql: string, cb: (err: Error | null, result: unknown, fields: unknown) => void): EofInfo;
  _handshakePacket?: { statusFlags?: number };
}

/** A statement's outcome as mysql2 gave it, with what its last packet said. */
interface Sent {
  result: unknown;
  fields: unknown;
  warnings: number;
  /** Server status flags after the statement, when the server sent them. */
  status?: number;
}

function sentResult(result: unknown, fields: unknown, command: EofInfo): Sent {
  if (!Array.isArray(result)) {
    const header = result as mysql.ResultSetHeader;
    return { result, fields, warnings: header.warningStatus ?? 0, status: header.serverStatus };
  }
  // A CALL ends with an OK packet (its header is the last element); a SELECT with an EOF.
  const last: unknown = result[result.length - 1];
  if (Array.isArray((fields as unknown[] | undefined)?.[0]) && isHeader(last)) {
    return { result, fields, warnings: last.warningStatus ?? 0, status: last.serverStatus };
  }
  return { result, fields, warnings: command.eofWarnings ?? 0, status: command.eofStatus };
}

function isHeader(x: unknown): x is mysql.ResultSetHeader {
  return typeof x === 'object' && x !== null && !Array.isArray(x) && 'affectedRows' in x;
}

/** mysql2's socket (net.Socket or tls.TLSSocket) under a connection. */
function socketOf(conn: mysql.Connection): { ref(): unknown; unref(): unknown } | undefined {
  const stream = (conn as unknown as { connection?: { stream?: { ref?: unknown; unref?: unknown } } })
    .connection?.stream;
  return typeof stream?.ref === 'function' && typeof stream.unref === 'function'
    ? (stream as { ref(): unknown; unref(): unknown })
    : undefined;
}

async function connectRaw(params: ConnectionParams, options: OpenOptions): Promise<mysql.Connection> {
  patchMysql2();
  const attempt = async () => {
    let conn: mysql.Connection;
    try {
      conn = await mysql.createConnection(driverOptions(params));
    } catch (err) {
      throw describeConnectError(err, params);
    }
    const mismatch = identityMismatch(conn, params);
    if (mismatch) {
      conn.destroy();
      throw describeConnectError(mismatch, params);
    }
    await setSessionVariables(conn, params, options.name ?? 'main');
    return conn;
  };
  return withRetry(options.retry ?? RetryPresets.DEFAULT, attempt, { breaker: options.breaker });
}

/** `SET SESSION a = 1, b = 2` for the connection's session variables (not echoed: the rig's, not the handler's). */
async function setSessionVariables(conn: mysql.Connection, params: ConnectionParams, name: string) {
  const entries = Object.entries(params.sessionVariables ?? {});
  if (entries.length === 0) return;
  for (const [key, value] of entries)
    if (!/^[a-z_][a-z0-9_]*$/i.test(key) || !Number.isFinite(value))
      throw new Error(`invalid session variable ${key} = ${value}`);
  const sql = `SET SESSION ${entries.map(([k, v]) => `${k} = ${v}`).join(', ')}`;
  try {
    await conn.query(sql);
  } catch (err) {
    conn.destroy();
    const e = DatabaseError.from(err, { sql, connectionName: name });
    e.message = `[${name}] ${sql} failed: ${e.message}`;
    throw e;
  }
}

/**
 * VERIFY_IDENTITY: the server certificate must name the host we connected to.
 * mysql2 only checks the name when it is a DNS name (for an IP address it
 * sends no SNI and Node falls back to checking 'localhost'), so the check is
 * done here, on the certificate of the established session, for every host.
 */
function identityMismatch(conn: mysql.Connection, params: ConnectionParams): Error | undefined {
  if (params.ssl?.mode !== 'VERIFY_IDENTITY') return undefined;
  const stream = (conn as unknown as { connection?: { stream?: unknown } }).connection?.stream;
  if (!(stream instanceof tls.TLSSocket))
    return new Error('VERIFY_IDENTITY: the connection is not encrypted');
  const cert = stream.getPeerCertificate();
  const host = params.host.replace(/^\[(.*)\]$/, '$1');
  const err = tls.checkServerIdentity(host, cert);
  return err ? Object.assign(err, { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }) : undefined;
}

function driverOptions(params: ConnectionParams): mysql.ConnectionOptions {
  return {
    host: params.host,
    port: params.port,
    user: params.user,
    password: params.password ?? '',
    database: params.database,
    connectTimeout: params.connectTimeoutMs ?? 10_000,
    ssl: sslOptions(params.ssl),
    ...EXACT_VALUES,
    ...HOT_PATH,
    ...(params.localInfile ? { infileStreamFactory: (path: string) => createReadStream(path) } : {}),
  };
}

function sslOptions(ssl: SslOptions | undefined): mysql.SslOptions | undefined {
  const mode = ssl?.mode ?? (ssl?.ca || ssl?.cert ? 'VERIFY_CA' : 'DISABLED');
  if (mode === 'DISABLED') return undefined;
  const material = { ca: ssl?.ca, cert: ssl?.cert, key: ssl?.key };
  switch (mode) {
    // mysql2 cannot fall back to plain text, so PREFERRED means "TLS, unverified".
    case 'PREFERRED':
    case 'REQUIRED':
      return { ...material, rejectUnauthorized: false };
    case 'VERIFY_CA':
      // Verify the chain but not the host name.
      return { ...material, rejectUnauthorized: true, verifyIdentity: false };
    case 'VERIFY_IDENTITY':
      // mysql2 checks the host name only when asked (verifyIdentity); without it a
      // certificate for another host signed by the CA would be accepted.
      return { ...material, rejectUnauthorized: true, verifyIdentity: true };
  }
}

function toQueryResult(sent: Sent, durationMs: number, asArrays: boolean): QueryResult {
  const { result, fields } = sent;
  if (!Array.isArray(result)) {
    const header = result as mysql.ResultSetHeader;
    return {
      rows: [],
      columns: [],
      resultSets: [],
      affectedRows: header.affectedRows ?? 0,
      insertId: header.insertId ?? 0,
      warningCount: sent.warnings,
      durationMs,
    };
  }
  let header: mysql.ResultSetHeader | undefined;
  const sets: ResultSet[] = [];
  if (Array.isArray((fields as unknown[] | undefined)?.[0])) {
    // A CALL: [rows, ..., okPacket] with fields per result set.
    const fieldSets = fields as (mysql.FieldPacket[] | undefined)[];
    result.forEach((part: unknown, i) => {
      if (Array.isArray(part)) sets.push(resultSet(part as unknown[][], fieldSets[i] ?? [], asArrays));
      else header = part as mysql.ResultSetHeader;
    });
  } else {
    sets.push(resultSet(result as unknown[][], (fields as mysql.FieldPacket[] | undefined) ?? [], asArrays));
  }
  return {
    rows: sets[0]?.rows ?? [],
    columns: sets[0]?.columns ?? [],
    resultSets: sets,
    affectedRows: header?.affectedRows ?? 0,
    insertId: header?.insertId ?? 0,
    warningCount: sent.warnings,
    durationMs,
  };
}

function resultSet(rows: unknown[][], fields: mysql.FieldPacket[], asArrays: boolean): ResultSet {
  const columns = withKeys(fields.map(toColumnInfo));
  return { rows: asArrays ? rows : rowObjects(rows, columns), columns };
}

let warnedDuplicateColumns = false;

/**
 * Gives each column a distinct key for object rows: its name, or, for a name an
 * earlier column already has (`a.id, b.id` in a join), `table.name`, then
 * `name_N` (N its position) if that is taken too. The first time a statement
 * repeats a name, a warning says how the columns are reached.
 */
function withKeys(columns: ColumnInfo[]): ColumnInfo[] {
  const seen = new Set<string>();
  let repeated: string | undefined;
  columns.forEach((c, i) => {
    let key = c.name;
    if (seen.has(key)) {
      repeated ??= c.name;
      key = c.table && !seen.has(`${c.table}.${c.name}`) ? `${c.table}.${c.name}` : `${c.name}_${i}`;
    }
    seen.add(key);
    c.key = key;
  });
  if (repeated !== undefined && !warnedDuplicateColumns) {
    warnedDuplicateColumns = true;
    process.emitWarning(
      `a result has more than one column named '${repeated}': the first keeps the name, later ones are keyed 'table.${repeated}' (or '${repeated}_N' by position); alias them (AS) to choose`,
      { code: 'TEST_RIG_DUPLICATE_COLUMN' },
    );
  }
  return columns;
}

/** Array rows as objects keyed by each column's key. */
function rowObjects(rows: unknown[][], columns: ColumnInfo[]): Record<string, unknown>[] {
  const keys = columns.map((c) => c.key);
  return rows.map((row) => {
    const obj: Record<string, unknown> = {};
    for (let i = 0; i < keys.length; i++) obj[keys[i]] = row[i];
    return obj;
  });
}

function toColumnInfo(field: mysql.FieldPacket): ColumnInfo {
  const type = field.columnType ?? field.type ?? 0;
  return {
    name: field.name,
    key: field.name,
    table: field.table ?? '',
    type,
    typeName: columnTypeName(type),
    flags: typeof field.flags === 'number' ? field.flags : 0,
    decimals: field.decimals,
    charsetNr: field.characterSet ?? field.charsetNr ?? 0,
  };
}

function reasonText(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  return reason === undefined ? 'aborted' : String(reason);
}
