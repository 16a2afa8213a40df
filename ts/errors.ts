// Error types shared by the state machine and the database layer, and the one
// place that decides whether a database error is worth retrying.

/** What went wrong, coarse enough to branch on (retry, assert, print a hint). */
export const ERROR_CLASSES = [
  'connection_lost',
  'connection_refused',
  'host_unreachable',
  'dns',
  'timeout',
  'access_denied',
  'unknown_database',
  'syntax',
  'lock_wait_timeout',
  'deadlock',
  'write_conflict',
  'server_busy',
  'duplicate_key',
  'foreign_key',
  'check_constraint',
  'not_null',
  'no_such_table',
  'unsupported',
  'circuit_open',
  'aborted',
  'other',
] as const;

export type ErrorClass = (typeof ERROR_CLASSES)[number];

export function isErrorClass(s: string): s is ErrorClass {
  return (ERROR_CLASSES as readonly string[]).includes(s);
}

/** Error classes a retry can cure: the same statement may well succeed a moment later. */
const TRANSIENT_CLASSES: ReadonlySet<ErrorClass> = new Set([
  'connection_lost',
  'lock_wait_timeout',
  'deadlock',
  'write_conflict',
  'server_busy',
]);

/** Error classes that say the server is unhealthy or unreachable (what a circuit breaker counts). */
const OUTAGE_CLASSES: ReadonlySet<ErrorClass> = new Set([
  'connection_lost',
  'connection_refused',
  'host_unreachable',
  'timeout',
  'server_busy',
]);

/**
 * The one errno → class table. Python handlers get the class with the error
 * (encodeErrorForPython) and python/test_rig/errors.py maps the class name to
 * its exception class; Python keeps no errno table of its own.
 */
export const ERRNO_CLASSES: ReadonlyMap<number, ErrorClass> = new Map([
  [1040, 'server_busy'], // too many connections
  [1045, 'access_denied'],
  [1044, 'access_denied'], // access denied to database
  [1698, 'access_denied'], // MariaDB, for a user that does not exist (or a socket-auth one)
  [1049, 'unknown_database'],
  [1053, 'connection_lost'], // server shutdown in progress
  [1062, 'duplicate_key'],
  [1586, 'duplicate_key'], // duplicate entry for a unique key (partitioned tables)
  [1064, 'syntax'],
  [1149, 'syntax'],
  [1142, 'access_denied'], // command denied on a table
  [1227, 'access_denied'], // missing privilege (SUPER & co.)
  [1146, 'no_such_table'],
  [1216, 'foreign_key'],
  [1217, 'foreign_key'],
  [1451, 'foreign_key'],
  [1452, 'foreign_key'],
  [3819, 'check_constraint'], // MySQL/TiDB
  [4025, 'check_constraint'], // MariaDB
  [1048, 'not_null'],
  [1364, 'not_null'], // field has no default value
  [1178, 'unsupported'], // the storage engine does not support it
  [1235, 'unsupported'], // this version does not support it yet
  [1205, 'lock_wait_timeout'],
  [1213, 'deadlock'],
  [1927, 'connection_lost'], // MariaDB: connection was killed
  [2002, 'connection_refused'],
  [2003, 'connection_refused'],
  [2005, 'dns'],
  [2006, 'connection_lost'], // server has gone away
  [2013, 'connection_lost'], // lost connection during query
  [4031, 'connection_lost'], // MySQL: disconnected by the server
  [8022, 'write_conflict'], // TiDB: transaction retryable error
  [8028, 'write_conflict'], // TiDB: information schema changed
  [9001, 'server_busy'], // TiDB: PD server timeout
  [9002, 'server_busy'], // TiKV server timeout
  [9003, 'server_busy'], // TiKV server busy
  [9004, 'server_busy'], // resolve lock timeout
  [9005, 'server_busy'], // region unavailable
  [9006, 'server_busy'], // GC too early
  [9007, 'write_conflict'], // TiDB: write conflict
]);

/** Driver and socket error codes (no errno) → class. */
export const CODE_CLASSES: ReadonlyMap<string, ErrorClass> = new Map([
  ['PROTOCOL_CONNECTION_LOST', 'connection_lost'],
  ['ECONNRESET', 'connection_lost'],
  ['EPIPE', 'connection_lost'],
  ['ECONNREFUSED', 'connection_refused'],
  ['EHOSTUNREACH', 'host_unreachable'],
  ['ENETUNREACH', 'host_unreachable'],
  ['EHOSTDOWN', 'host_unreachable'],
  ['ENOTFOUND', 'dns'],
  ['EAI_AGAIN', 'dns'],
  ['ETIMEDOUT', 'timeout'],
  ['PROTOCOL_SEQUENCE_TIMEOUT', 'timeout'],
  ['CIRCUIT_OPEN', 'circuit_open'],
]);

interface RawDriverError {
  errno?: unknown;
  code?: unknown;
  sqlState?: unknown;
  fatal?: unknown;
  message?: unknown;
}

/** Classifies any error the driver (mysql2 or Node's net layer) can throw. */
export function classifyError(err: unknown): ErrorClass {
  if (err instanceof DatabaseError) return err.errorClass;
  const raw = (err ?? {}) as RawDriverError;
  if (typeof raw.errno === 'number' && ERRNO_CLASSES.has(raw.errno)) return ERRNO_CLASSES.get(raw.errno)!;
  if (typeof raw.code === 'string' && CODE_CLASSES.has(raw.code)) return CODE_CLASSES.get(raw.code)!;
  // mysql2 rejects commands on a connection the server already closed with a
  // fatal error that has neither errno nor code.
  if (raw.fatal === true) return 'connection_lost';
  return 'other';
}

export function isTransientClass(c: ErrorClass): boolean {
  return TRANSIENT_CLASSES.has(c);
}

export function isOutageClass(c: ErrorClass): boolean {
  return OUTAGE_CLASSES.has(c);
}

export interface DatabaseErrorFields {
  errno?: number;
  code?: string;
  sqlState?: string;
  errorClass?: ErrorClass;
  sql?: string;
  connectionName?: string;
  cause?: unknown;
}

/** Any failure talking to the server. `transient` says whether retrying can help. */
export class DatabaseError extends Error {
  readonly errno?: number;
  readonly code?: string;
  readonly sqlState?: string;
  readonly errorClass: ErrorClass;
  readonly transient: boolean;
  readonly sql?: string;
  readonly connectionName?: string;
  /** Set by withRetry when the error is the last of several attempts. */
  attempts?: number;

  constructor(message: string, fields: DatabaseErrorFields = {}) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.name = 'DatabaseError';
    this.errno = fields.errno;
    this.code = fields.code;
    this.sqlState = fields.sqlState;
    this.sql = fields.sql;
    this.connectionName = fields.connectionName;
    this.errorClass = fields.errorClass ?? classifyError(fields);
    this.transient = isTransientClass(this.errorClass);
  }

  /** Wraps a driver error, keeping its numbers and the original as `cause`. */
  static from(err: unknown, extra: { sql?: string; connectionName?: string } = {}): DatabaseError {
    if (err instanceof DatabaseError) return err;
    const raw = (err ?? {}) as RawDriverError;
    const message = typeof raw.message === 'string' ? raw.message : String(err);
    return new DatabaseError(message, {
      errno: typeof raw.errno === 'number' && raw.errno > 0 ? raw.errno : undefined,
      code: typeof raw.code === 'string' ? raw.code : undefined,
      sqlState: typeof raw.sqlState === 'string' ? raw.sqlState : undefined,
      errorClass: classifyError(err),
      cause: err,
      ...extra,
    });
  }
}

/** A connection attempt failed; the message is one line with a hint and never contains a password. */
export class ConnectError extends DatabaseError {
  readonly host: string;
  readonly port: number;
  readonly hint: string;

  constructor(message: string, fields: DatabaseErrorFields & { host: string; port: number; hint: string }) {
    super(message, fields);
    this.name = 'ConnectError';
    this.host = fields.host;
    this.port = fields.port;
    this.hint = fields.hint;
  }
}

/** The circuit breaker refused a call without trying it. */
export class CircuitOpenError extends DatabaseError {
  readonly retryAfterMs: number;

  constructor(message: string, retryAfterMs: number) {
    super(message, { code: 'CIRCUIT_OPEN', errorClass: 'circuit_open' });
    this.name = 'CircuitOpenError';
    this.retryAfterMs = retryAfterMs;
  }
}

/** A state machine run failed: an error state, a guard, a bad transition or a handler exception. */
export class StateMachineError extends Error {
  /** The state the machine was in when it failed. */
  readonly state: string;
  readonly method?: 'enter' | 'execute' | 'exit';
  readonly handler?: string;
  readonly step: number;

  constructor(
    message: string,
    fields: {
      state: string;
      step: number;
      method?: 'enter' | 'execute' | 'exit';
      handler?: string;
      cause?: unknown;
    },
  ) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause });
    this.name = 'StateMachineError';
    this.state = fields.state;
    this.step = fields.step;
    this.method = fields.method;
    this.handler = fields.handler;
  }
}
