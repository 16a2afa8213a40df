// Adapter from a raw mysql2/promise connection (or pool) to the monitor's QueryRunner.
import type { Connection, Pool, PoolConnection } from 'mysql2/promise';
import type { QueryRunner } from './types.js';

/**
 * Wraps a mysql2/promise connection. Dates are requested as strings so server times
 * keep the session's wall-clock fields instead of being re-read in Node's local zone.
 */
export function fromMysql2(conn: Connection | PoolConnection | Pool): QueryRunner {
  return {
    async query(sql: string) {
      const [rows] = await conn.query({ sql, dateStrings: true });
      return { rows: Array.isArray(rows) ? (rows as Record<string, unknown>[]) : [] };
    },
  };
}
