// The configuration file's schema: sections, keys, types and defaults.
import { LEVELS } from '../log/logger.js';

export type KeyType =
  | { kind: 'string'; nullable?: boolean }
  | { kind: 'enum'; values: readonly string[]; nullable?: boolean }
  | { kind: 'int'; min?: number; max: number }
  | { kind: 'number'; exclusiveMin?: number; max: number }
  | { kind: 'bool' }
  | { kind: 'table' };

/**
 * The longest time a Node timer can wait (2^31-1 ms, about 24.8 days), in whole
 * seconds: every duration test-rig arms a timer for is bounded by it.
 */
export const MAX_TIMER_SECS = Math.floor((2 ** 31 - 1) / 1000);
/** More connections than any server under test is configured to accept. */
export const MAX_POOL_SIZE = 10_000;
/** The largest innodb_lock_wait_timeout / lock_wait_timeout MySQL and MariaDB accept. */
export const MAX_LOCK_WAIT_SECS = 1_073_741_824;
/** Rows a test may be asked to generate. */
export const MAX_ROWS = 1_000_000_000;

export const SSL_MODES = ['disabled', 'preferred', 'required', 'verify_ca', 'verify_identity'] as const;
export type SslMode = (typeof SSL_MODES)[number];

export const SCHEMA: Record<string, Record<string, KeyType>> = {
  database: {
    host: { kind: 'string' },
    username: { kind: 'string' },
    password: { kind: 'string', nullable: true },
    database: { kind: 'string', nullable: true },
    pool_size: { kind: 'int', min: 1, max: MAX_POOL_SIZE },
    timeout_secs: { kind: 'number', exclusiveMin: 0, max: MAX_TIMER_SECS },
    ssl_ca: { kind: 'string', nullable: true },
    ssl_cert: { kind: 'string', nullable: true },
    ssl_key: { kind: 'string', nullable: true },
    ssl_mode: { kind: 'enum', values: SSL_MODES, nullable: true },
  },
  logging: {
    level: { kind: 'enum', values: LEVELS },
    format: { kind: 'enum', values: ['text', 'json'] },
    file: { kind: 'string', nullable: true },
    console: { kind: 'bool' },
  },
  test: {
    rows: { kind: 'int', min: 1, max: MAX_ROWS },
    timeout_secs: { kind: 'number', exclusiveMin: 0, max: MAX_TIMER_SECS },
    verbose: { kind: 'bool' },
    params: { kind: 'table' },
    lock_wait_timeout_secs: { kind: 'int', min: 1, max: MAX_LOCK_WAIT_SECS },
  },
  monitor: {
    interval: { kind: 'number', exclusiveMin: 0, max: MAX_TIMER_SECS },
    duration: { kind: 'number', exclusiveMin: 0, max: MAX_TIMER_SECS },
    show_details: { kind: 'bool' },
  },
};

export interface DatabaseSection {
  host?: string;
  username?: string;
  password?: string | null;
  database?: string | null;
  pool_size?: number;
  timeout_secs?: number;
  ssl_ca?: string | null;
  ssl_cert?: string | null;
  ssl_key?: string | null;
  ssl_mode?: SslMode | null;
}
export interface LoggingSection {
  level?: (typeof LEVELS)[number];
  format?: 'text' | 'json';
  file?: string | null;
  console?: boolean;
}
export interface TestSection {
  rows?: number;
  timeout_secs?: number;
  verbose?: boolean;
  params?: Record<string, unknown>;
  lock_wait_timeout_secs?: number;
}
export interface MonitorSection {
  interval?: number;
  duration?: number;
  show_details?: boolean;
}

/** A validated configuration file's content; every key optional. */
export interface TestRigConfig {
  database?: DatabaseSection;
  logging?: LoggingSection;
  test?: TestSection;
  monitor?: MonitorSection;
}

export const DEFAULTS = {
  database: { host: 'localhost:4000', username: 'root', pool_size: 5, timeout_secs: 30 },
  logging: { level: 'info', format: 'text', console: true },
  test: { rows: 10, timeout_secs: 300, verbose: false },
  monitor: { interval: 5, duration: 60, show_details: true },
} as const;

/** Checks one value; returns a problem description or undefined. */
export function checkValue(t: KeyType, v: unknown): string | undefined {
  const got = describe(v);
  if (v === null) {
    if ((t.kind === 'string' || t.kind === 'enum') && t.nullable) return undefined;
    return `must not be null`;
  }
  switch (t.kind) {
    case 'string':
      return typeof v === 'string' ? undefined : `must be a string, got ${got}`;
    case 'enum':
      return typeof v === 'string' && t.values.includes(v)
        ? undefined
        : `must be one of ${t.values.join('|')}, got ${got}`;
    case 'bool':
      return typeof v === 'boolean' ? undefined : `must be true or false, got ${got}`;
    case 'int':
      if (typeof v !== 'number' && typeof v !== 'bigint') return `must be an integer, got ${got}`;
      if (!Number.isInteger(Number(v))) return `must be an integer, got ${got}`;
      if (t.min !== undefined && Number(v) < t.min) return `must be at least ${t.min}, got ${got}`;
      if (Number(v) > t.max) return `must be at most ${t.max}, got ${got}`;
      return undefined;
    case 'number':
      if (typeof v !== 'number' && typeof v !== 'bigint') return `must be a number, got ${got}`;
      // 1e400 parses as Infinity
      if (!Number.isFinite(Number(v))) return `must be a finite number, got ${got}`;
      if (t.exclusiveMin !== undefined && Number(v) <= t.exclusiveMin)
        return `must be greater than ${t.exclusiveMin}, got ${got}`;
      if (Number(v) > t.max) return `must be at most ${t.max}, got ${got}`;
      return undefined;
    case 'table':
      return typeof v === 'object' && !Array.isArray(v) ? undefined : `must be a table/object, got ${got}`;
  }
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `string ${JSON.stringify(v)}`;
  if (typeof v === 'object') return 'a table';
  if (typeof v === 'bigint') return `integer ${v}`;
  return `${typeof v} ${String(v)}`;
}
