// Tells TiDB, MySQL and MariaDB apart from their VERSION() string, so tests
// can gate on the server kind and version.

export type ServerKind = 'tidb' | 'mysql' | 'mariadb' | 'unknown';

export interface ServerInfo {
  kind: ServerKind;
  /** The product's own version, 'x.y.z' (for TiDB the TiDB version, not the MySQL one it emulates). */
  version: string;
  /** The VERSION() string as the server sent it. */
  raw: string;
  /** For TiDB: the MySQL version it reports compatibility with, e.g. '8.0.11'. */
  mysqlCompat?: string;
  /** Anything after the version, e.g. 'beta.2.pre-1895-g5c9198e948' or 'serverless'. */
  suffix?: string;
}

const TIDB = /^(\d+\.\d+\.\d+)-TiDB-v?(\d+\.\d+\.\d+)(?:-(.+))?$/i;
// MariaDB may prefix its version with '5.5.5-' for old replication clients.
const MARIADB = /^(?:5\.5\.5-)?(\d+\.\d+\.\d+)-MariaDB(?:-(.+))?$/i;
const MYSQL = /^(\d+\.\d+\.\d+)(?:-(.+))?$/;

export function detectServer(versionString: string): ServerInfo {
  const raw = versionString.trim();
  let m = TIDB.exec(raw);
  if (m) return withSuffix({ kind: 'tidb', version: m[2]!, raw, mysqlCompat: m[1] }, m[3]);
  m = MARIADB.exec(raw);
  if (m) return withSuffix({ kind: 'mariadb', version: m[1]!, raw }, m[2]);
  m = MYSQL.exec(raw);
  if (m) return withSuffix({ kind: 'mysql', version: m[1]!, raw }, m[2]);
  const loose = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(raw);
  return { kind: 'unknown', version: loose ? `${loose[1]}.${loose[2]}.${loose[3] ?? 0}` : '0.0.0', raw };
}

function withSuffix(info: ServerInfo, suffix: string | undefined): ServerInfo {
  return suffix ? { ...info, suffix } : info;
}

/** True if the server's own version is at least `minimum` ('6.2', '8.0.11'). */
export function versionAtLeast(server: Pick<ServerInfo, 'version'> | string, minimum: string): boolean {
  const have = parts(typeof server === 'string' ? server : server.version);
  const want = parts(minimum);
  for (let i = 0; i < Math.max(have.length, want.length); i++) {
    const a = have[i] ?? 0;
    const b = want[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}

function parts(version: string): number[] {
  // Only the leading numeric run counts: '9.0.0-beta.2' is 9.0.0.
  const numeric = /^v?(\d+(?:\.\d+)*)/i.exec(version.trim());
  return numeric ? numeric[1]!.split('.').map(Number) : [];
}

/**
 * The session variables that bound lock waits to `seconds` on this kind of server.
 * Row locks: `innodb_lock_wait_timeout` everywhere (TiDB applies it to its
 * pessimistic transactions). Metadata locks (a DROP TABLE waiting for another
 * session's open transaction): `lock_wait_timeout` on MySQL and MariaDB, whose
 * default is a day or a year; TiDB's DDL waits for such transactions with no
 * session setting, so it gets only the first.
 */
export function lockWaitVariables(kind: ServerKind, seconds: number): Record<string, number> {
  if (kind === 'tidb') return { innodb_lock_wait_timeout: seconds };
  return { innodb_lock_wait_timeout: seconds, lock_wait_timeout: seconds };
}
