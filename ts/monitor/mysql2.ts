// Adapter from a raw mysql2/promise connection (or pool) to the monitor's QueryRunner.
import type { Connection, Pool, PoolConnection } from 'mysql2/promise';
import type { QueryRunner } from './types.js';

/**
 * Wraps a mysql2/promise connection. Dates must come back as strings so server times keep
 * the session's wall-clock fields instead of being re-read in Node's local zone. A
 * connection opened with `dateStrings: true` (as `test-rig monitor` opens its own) is
 * queried with the plain string form; any other gets the per-query option, whose object
 * form costs mysql2 a few microseconds more per statement.
 */
export function fromMysql2(conn: Connection | PoolConnection | Pool): QueryRunner {
  const config = (conn as { config?: { dateStrings?: unknown } }).config;
  const hasDateStrings = config?.dateStrings === true;
  return {
    async query(sql: string) {
      const [rows] = hasDateStrings ? await conn.query(sql) : await conn.query({ sql, dateStrings: true });
      return { rows: Array.isArray(rows) ? (rows as Record<string, unknown>[]) : [] };
    },
  };
}
