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
import { RetryPresets, withRetry, type CircuitBreaker, type RetryPolicy } from './retry.js';
import { detectServer, type ServerInfo } from './server.js';

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
}

export interface OpenOptions {
  name?: string;
  /** Receives `[<name>] <sql>` for every statement (the caller decides where to print). */
  echo?: (line: string) => void;
  /** Retry policy for connecting (default RetryPresets.DEFAULT; only transient errors are retried). */
  retry?: RetryPolicy;
  breaker?: CircuitBreaker;
}

export interface ColumnInfo {
  name: string;
  /** mysql2 column type code. */
  type: number;
  typeName: string;
  flags: number;
  decimals: number;
  charsetNr: number;
}

export interface QueryResult {
  rows: Record<string, unknown>[] | unknown[][];
  columns: ColumnInfo[];
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
  #lost = false;
  #inTransaction = false;
  readonly #echo?: (line: string) => void;
  readonly #openOptions: OpenOptions;
  /** Statements (and a close) in flight: the socket keeps the process alive only while this is > 0. */
  #busy = 0;

  private constructor(inner: mysql.Connection, params: ConnectionParams, options: OpenOptions) {
    this.#inner = inner;
    this.params = params;
    this.name = options.name ?? 'main';
    this.#echo = options.echo;
    this.#openOptions = options;
    this.#watch(inner);
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
    this.#watch(fresh);
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

  async #queryOnce(sql: string, params: unknown[] | undefined, options: QueryOptions): Promise<QueryResult> {
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
    this.#hold();
    try {
      const running = params === undefined ? this.#inner.query(sql) : this.#inner.query(sql, params);
      const [result, fields] = options.signal
        ? await this.#abortable(running, sql, options.signal)
        : await running;
      this.lastStatementMs = performance.now() - started;
      return toQueryResult(result, fields, this.lastStatementMs, options.rowsAsArray === true);
    } catch (err) {
      this.lastStatementMs = performance.now() - started;
      if (err instanceof DatabaseError) throw err;
      if ((err as { fatal?: boolean }).fatal) this.#lost = true;
      throw DatabaseError.from(err, { sql, connectionName: this.name });
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

  /** mysql2 emits fatal errors on idle connections as events; without a listener they would crash the process. */
  #watch(inner: mysql.Connection): void {
    inner.on('error', () => {
      if (inner === this.#inner) this.#lost = true;
    });
  }
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
    return conn;
  };
  return withRetry(options.retry ?? RetryPresets.DEFAULT, attempt, { breaker: options.breaker });
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

function toQueryResult(
  result: unknown,
  fields: mysql.FieldPacket[] | undefined,
  durationMs: number,
  asArrays: boolean,
): QueryResult {
  if (Array.isArray(result)) {
    // CALL returns [rows, ..., okPacket] with fields per result set; keep the first.
    const sets = Array.isArray(fields?.[0]);
    const rows = (sets ? result[0] : result) as unknown[][];
    const fieldList = (sets ? fields![0] : fields) as mysql.FieldPacket[] | undefined;
    const columns = (fieldList ?? []).map(toColumnInfo);
    return {
      rows: asArrays ? rows : rowObjects(rows, columns),
      columns,
      affectedRows: 0,
      insertId: 0,
      warningCount: 0,
      durationMs,
    };
  }
  const header = result as mysql.ResultSetHeader;
  return {
    rows: [],
    columns: [],
    affectedRows: header.affectedRows ?? 0,
    insertId: header.insertId ?? 0,
    warningCount: header.warningStatus ?? 0,
    durationMs,
  };
}

/** Array rows as objects keyed by column name (a later column of the same name wins, as in mysql2). */
function rowObjects(rows: unknown[][], columns: ColumnInfo[]): Record<string, unknown>[] {
  const names = columns.map((c) => c.name);
  return rows.map((row) => {
    const obj: Record<string, unknown> = {};
    for (let i = 0; i < names.length; i++) obj[names[i]] = row[i];
    return obj;
  });
}

function toColumnInfo(field: mysql.FieldPacket): ColumnInfo {
  const type = field.columnType ?? field.type ?? 0;
  return {
    name: field.name,
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
