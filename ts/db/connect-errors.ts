// Turns a failed connection attempt into one line that says what happened and
// what to check. Messages are built from host, port, user and database only,
// so a password can never appear in them.
import { ConnectError, DatabaseError, classifyError, type ErrorClass } from '../errors.js';
import { formatHostPort } from './address.js';

export interface ConnectTarget {
  host: string;
  port: number;
  user: string;
  database?: string;
  connectTimeoutMs?: number;
}

export function describeConnectError(err: unknown, target: ConnectTarget): ConnectError {
  const where = formatHostPort(target.host, target.port);
  const errorClass = classifyError(err);
  const [what, hint] = explain(errorClass, err, target);
  const base = DatabaseError.from(err);
  return new ConnectError(`cannot connect to ${where}: ${what} — ${hint}`, {
    host: target.host,
    port: target.port,
    hint,
    errno: base.errno,
    code: base.code,
    sqlState: base.sqlState,
    errorClass,
    cause: err,
  });
}

function explain(errorClass: ErrorClass, err: unknown, t: ConnectTarget): [string, string] {
  switch (errorClass) {
    case 'access_denied':
      return [`access denied for user '${t.user}'`, 'check -u/--user and --password (or TIDB_PASSWORD)'];
    case 'connection_refused':
      return ['connection refused', 'is the server running? check -H host:port'];
    case 'host_unreachable':
      return ['host unreachable', 'check the network route and -H host:port'];
    case 'dns':
      return [`unknown host '${t.host}'`, 'check the host name in -H host:port'];
    case 'timeout':
      return [
        `timed out${t.connectTimeoutMs ? ` after ${t.connectTimeoutMs} ms` : ''}`,
        'is the host reachable and the port open? check -H host:port and firewalls',
      ];
    case 'unknown_database':
      return [`unknown database '${t.database ?? ''}'`, 'create it first or check -d/--database'];
    case 'circuit_open':
      return [messageOf(err), 'the server failed repeatedly; wait for it to recover'];
    default:
      return [messageOf(err), 'check the server log and the connection settings'];
  }
}

function messageOf(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0] ?? text;
}
