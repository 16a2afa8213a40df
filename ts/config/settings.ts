// Resolving effective settings: explicit flag > environment > config file > default.
import fs from 'node:fs';
import { DEFAULTS, SSL_MODES, type SslMode, type TestRigConfig } from './schema.js';
import { parseLogFilter, type Level } from '../log/logger.js';
import { AddressError, DEFAULT_PORT, formatHostPort, parseHostPort, type HostPort } from '../db/address.js';

export type Source = 'flag' | 'env' | 'config' | 'default' | 'local' | 'prompt';

/** The CLI's shared flags as commander hands them over (all optional). */
export interface SharedFlags {
  host?: string;
  /** mysql-client style `-h host` (with `-P port`), instead of `-H host:port`. */
  hostname?: string;
  port?: string;
  user?: string;
  database?: string;
  /** `-p`/`--password` with no value is `true`: prompt for it, as the mysql client does. */
  password?: string | boolean;
  passwordPrompt?: boolean;
  config?: string;
  showSql?: boolean;
  showOutput?: boolean;
  logLevel?: string;
  logFile?: string;
  verbose?: boolean;
  json?: boolean;
  sslCa?: string;
  sslCert?: string;
  sslKey?: string;
  sslMode?: string;
  local?: boolean;
}

export interface Settings {
  host: string;
  port: number;
  user: string;
  /** undefined until resolved (flag, env or config); the prompt happens later. */
  password: string | undefined;
  database: string | undefined;
  poolSize: number;
  timeoutSecs: number;
  ssl: { mode: SslMode; ca?: string; cert?: string; key?: string };
  logLevel: Level;
  logFile: string | undefined;
  logFormat: 'text' | 'json';
  logConsole: boolean;
  showSql: boolean;
  showOutput: boolean;
  verbose: boolean;
  json: boolean;
  test: {
    rows: number;
    timeoutSecs: number;
    verbose: boolean;
    params: Record<string, unknown>;
    /** Lock wait timeout of case connections (`test-rig run`); undefined: the server's default. */
    lockWaitTimeoutSecs: number | undefined;
  };
  monitor: { interval: number; duration: number; showDetails: boolean };
  sources: Record<string, Source>;
}

export class SettingsError extends Error {
  override name = 'SettingsError';
}

/** A `host:port` setting, read by the one parser (ts/db/address.ts); a bad one is a SettingsError. */
function hostPortSetting(s: string, defaultPort = DEFAULT_PORT): HostPort {
  try {
    return parseHostPort(s, defaultPort);
  } catch (e) {
    if (e instanceof AddressError) throw new SettingsError(e.message);
    throw e;
  }
}

function checkPort(p: string, whole: string): number {
  const n = Number(p);
  if (!/^\d+$/.test(p) || n < 1 || n > 65535)
    throw new SettingsError(`invalid port in "${whole}": expected 1-65535`);
  return n;
}

/** The TLS files must come as a usable set: each readable, a certificate with its key. */
function checkTlsFiles(
  files: { ca?: string; cert?: string; key?: string },
  sources: Record<string, Source>,
): void {
  const flag = { ca: 'ssl-ca', cert: 'ssl-cert', key: 'ssl-key' } as const;
  const named = (k: keyof typeof flag) =>
    sources[`ssl${k[0].toUpperCase()}${k.slice(1)}`] === 'config' ? `database.ssl_${k}` : `--${flag[k]}`;
  if (files.cert && !files.key)
    throw new SettingsError(`${named('cert')} needs a key: add --ssl-key (or database.ssl_key)`);
  if (files.key && !files.cert)
    throw new SettingsError(`${named('key')} needs a certificate: add --ssl-cert (or database.ssl_cert)`);
  for (const k of ['ca', 'cert', 'key'] as const) {
    const f = files[k];
    if (!f) continue;
    try {
      fs.accessSync(f, fs.constants.R_OK);
      if (!fs.statSync(f).isFile()) throw Object.assign(new Error('not a file'), { code: 'EISDIR' });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : 'not a file';
      throw new SettingsError(`${named(k)} ${f}: ${why}`);
    }
  }
}

export interface ResolveInput {
  flags: SharedFlags;
  /** Names of flags given explicitly on the command line (commander value source "cli"). */
  explicit: Set<string>;
  env: NodeJS.ProcessEnv;
  config: TestRigConfig;
}

/** Records where each setting came from (`sources`) while picking flag > env > config > default. */
type Picker = <T>(name: string, flag: T | undefined, envV: T | undefined, cfg: T | undefined, def: T) => T;

/** One precedence rule for every plain setting, so `sources` always says which layer won. */
function picker(explicit: Set<string>, sources: Record<string, Source>): Picker {
  return <T>(name: string, flag: T | undefined, envV: T | undefined, cfg: T | undefined, def: T): T => {
    if (explicit.has(name) && flag !== undefined) {
      sources[name] = 'flag';
      return flag;
    }
    if (envV !== undefined) {
      sources[name] = 'env';
      return envV;
    }
    if (cfg !== undefined && cfg !== null) {
      sources[name] = 'config';
      return cfg;
    }
    sources[name] = 'default';
    return def;
  };
}

type DbConfig = NonNullable<TestRigConfig['database']>;

/**
 * The server address: -H host:port as a unit; env TIDB_HOST (host or host:port) and TIDB_PORT;
 * -h/-P override one part each. Host and port can come from different layers, so no `pick`.
 */
function resolveAddress(
  flags: SharedFlags,
  explicit: Set<string>,
  env: NodeJS.ProcessEnv,
  db: DbConfig,
  sources: Record<string, Source>,
): HostPort {
  let host: string;
  let port: number;
  const mysqlStyle = explicit.has('hostname') || explicit.has('port');
  if (mysqlStyle && explicit.has('host') && flags.host !== undefined) {
    throw new SettingsError(
      `give the server address once: -H host:port, or -h host -P port as the mysql client takes them`,
    );
  }
  if (explicit.has('host') && flags.host !== undefined) {
    ({ host, port } = hostPortSetting(flags.host));
    sources.host = sources.port = 'flag';
    return { host, port };
  }
  const cfgHP = db.host ? hostPortSetting(db.host) : undefined;
  const defHP = hostPortSetting(DEFAULTS.database.host);
  const envHP = env.TIDB_HOST ? hostPortSetting(env.TIDB_HOST, NaN) : undefined;
  if (envHP) {
    host = envHP.host;
    sources.host = 'env';
  } else if (cfgHP) {
    host = cfgHP.host;
    sources.host = 'config';
  } else {
    host = defHP.host;
    sources.host = 'default';
  }
  if (env.TIDB_PORT !== undefined && env.TIDB_PORT !== '') {
    port = checkPort(env.TIDB_PORT.trim(), `TIDB_PORT=${env.TIDB_PORT}`);
    sources.port = 'env';
  } else if (envHP && !Number.isNaN(envHP.port)) {
    port = envHP.port;
    sources.port = 'env';
  } else if (cfgHP) {
    port = cfgHP.port;
    sources.port = 'config';
  } else {
    port = defHP.port;
    sources.port = 'default';
  }
  // -h and -P override one part each, as TIDB_HOST and TIDB_PORT do.
  if (explicit.has('hostname') && flags.hostname !== undefined) {
    host = flags.hostname.replace(/^\[(.*)\]$/, '$1');
    sources.host = 'flag';
  }
  if (explicit.has('port') && flags.port !== undefined) {
    port = checkPort(flags.port, `-P ${flags.port}`);
    sources.port = 'flag';
  }
  return { host, port };
}

/**
 * The password, as the mysql client: `-p`/`--password` alone prompts (unresolved here, the
 * prompt happens later); else flag value (even empty) > TIDB_PASSWORD (even empty) >
 * config > none (an empty password: TiDB's and MariaDB's default root has none).
 */
function resolvePassword(
  flags: SharedFlags,
  explicit: Set<string>,
  env: NodeJS.ProcessEnv,
  db: DbConfig,
  sources: Record<string, Source>,
): string | undefined {
  if (explicit.has('password') && flags.password === true) {
    sources.password = 'prompt';
    return undefined;
  }
  if (explicit.has('password') && typeof flags.password === 'string') {
    sources.password = 'flag';
    return flags.password;
  }
  if (env.TIDB_PASSWORD !== undefined) {
    sources.password = 'env';
    return env.TIDB_PASSWORD;
  }
  if (typeof db.password === 'string') {
    sources.password = 'config';
    return db.password;
  }
  sources.password = 'default';
  return '';
}

/** Log level and file; `--verbose` raises the level to debug unless a level was given explicitly. */
function resolveLogging(
  pick: Picker,
  flags: SharedFlags,
  explicit: Set<string>,
  env: NodeJS.ProcessEnv,
  log: NonNullable<TestRigConfig['logging']>,
): { logLevel: Level; logFile: string | undefined; verbose: boolean } {
  const envLevel = parseLogFilter(env.TEST_RIG_LOG).level;
  let logLevel = pick<Level>(
    'logLevel',
    flags.logLevel as Level | undefined,
    envLevel,
    log.level,
    DEFAULTS.logging.level,
  );
  const verbose = Boolean(flags.verbose);
  if (verbose && !(explicit.has('logLevel') && flags.logLevel)) {
    if (logLevel !== 'trace') logLevel = 'debug';
  }
  const logFile = pick<string | undefined>(
    'logFile',
    flags.logFile,
    undefined,
    log.file ?? undefined,
    undefined,
  );
  return { logLevel, logFile, verbose };
}

/** TLS mode and files; the mode defaults from which files were given, and the files are checked early. */
function resolveTls(
  pick: Picker,
  flags: SharedFlags,
  db: DbConfig,
  sources: Record<string, Source>,
): Settings['ssl'] {
  const sslMode = pick<string | undefined>(
    'sslMode',
    flags.sslMode,
    undefined,
    db.ssl_mode ?? undefined,
    undefined,
  );
  const ca = pick<string | undefined>('sslCa', flags.sslCa, undefined, db.ssl_ca ?? undefined, undefined);
  const cert = pick<string | undefined>(
    'sslCert',
    flags.sslCert,
    undefined,
    db.ssl_cert ?? undefined,
    undefined,
  );
  const key = pick<string | undefined>('sslKey', flags.sslKey, undefined, db.ssl_key ?? undefined, undefined);
  if (sslMode !== undefined && !(SSL_MODES as readonly string[]).includes(sslMode)) {
    throw new SettingsError(`invalid --ssl-mode "${sslMode}": expected one of ${SSL_MODES.join(', ')}`);
  }
  const mode: SslMode =
    (sslMode as SslMode | undefined) ?? (ca ? 'verify_ca' : cert || key ? 'required' : 'disabled');
  if (mode !== 'disabled') checkTlsFiles({ ca, cert, key }, sources);
  return { mode, ca, cert, key };
}

export function resolveSettings({ flags, explicit, env, config }: ResolveInput): Settings {
  const sources: Record<string, Source> = {};
  const db = config.database ?? {};
  const pick = picker(explicit, sources);
  const { host, port } = resolveAddress(flags, explicit, env, db, sources);
  const user = pick('user', flags.user, env.TIDB_USER, db.username, DEFAULTS.database.username);
  const database = pick<string | undefined>(
    'database',
    flags.database,
    env.TIDB_DATABASE !== '' ? env.TIDB_DATABASE : undefined,
    db.database ?? undefined,
    undefined,
  );
  const password = resolvePassword(flags, explicit, env, db, sources);
  const log = config.logging ?? {};
  const { logLevel, logFile, verbose } = resolveLogging(pick, flags, explicit, env, log);
  const ssl = resolveTls(pick, flags, db, sources);

  const t = config.test ?? {};
  const m = config.monitor ?? {};
  return {
    host,
    port,
    user,
    password,
    database,
    poolSize: db.pool_size ?? DEFAULTS.database.pool_size,
    timeoutSecs: db.timeout_secs ?? DEFAULTS.database.timeout_secs,
    ssl,
    logLevel,
    logFile,
    logFormat: log.format ?? DEFAULTS.logging.format,
    logConsole: log.console ?? DEFAULTS.logging.console,
    showSql: Boolean(flags.showSql),
    showOutput: Boolean(flags.showOutput),
    verbose: verbose || Boolean(t.verbose),
    json: Boolean(flags.json),
    test: {
      rows: t.rows ?? DEFAULTS.test.rows,
      timeoutSecs: t.timeout_secs ?? DEFAULTS.test.timeout_secs,
      verbose: t.verbose ?? DEFAULTS.test.verbose,
      params: t.params ?? {},
      lockWaitTimeoutSecs: t.lock_wait_timeout_secs,
    },
    monitor: {
      interval: m.interval ?? DEFAULTS.monitor.interval,
      duration: m.duration ?? DEFAULTS.monitor.duration,
      showDetails: m.show_details ?? DEFAULTS.monitor.show_details,
    },
    sources,
  };
}

/** A config dump safe to print: the password is replaced. */
export function describeSettings(s: Settings): Record<string, unknown> {
  return {
    host: formatHostPort(s.host, s.port),
    user: s.user,
    password: s.password === undefined ? '(not set)' : s.password === '' ? '(empty)' : '(set)',
    database: s.database ?? null,
    pool_size: s.poolSize,
    timeout_secs: s.timeoutSecs,
    ssl_mode: s.ssl.mode,
    log_level: s.logLevel,
    log_file: s.logFile ?? null,
    sources: s.sources,
  };
}
