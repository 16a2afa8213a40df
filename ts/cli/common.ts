// What every connecting subcommand shares: the flags, configuration and password
// resolution, the logger, `--local`, and error → exit code mapping.
import fs from 'node:fs';
import { Writable } from 'node:stream';
import { Command, InvalidArgumentError, Option } from 'commander';
import { openOutputFile, writeToOutput } from '../io/output-file.js';
import {
  ConfigError,
  PasswordError,
  SettingsError,
  findConfigFile,
  loadConfigFile,
  obtainPassword,
  resolveSettings,
  type LoadedConfig,
  type Settings,
  type SharedFlags,
} from '../config/index.js';
import { LEVELS, Logger, parseLogFilter } from '../log/logger.js';
import { LocalServerError, startLocalServer, type LocalServer } from '../local-server/index.js';
import { MAX_TIMER_SECS } from '../config/schema.js';
import { AddressError, formatHostPort } from '../db/address.js';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from '../exit-codes.js';
import { errorLine, explainError } from './error-line.js';

/** An error that ends the command with a one-line message and a given exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_FAILED,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

// Numeric flags: parsed strictly (no `1e3`, `0x10` or `-1` where a count is
// meant) and bounded, so no value can overflow a timer or exhaust the machine.
// Commander turns InvalidArgumentError into one line and exit code 2.

/** A whole number in [min, max] (`-j`, `--retries`, `--max-steps`). */
export function wholeNumberArg(min: number, max: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!/^\s*\d+\s*$/.test(v) || n < min || n > max)
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return n;
  };
}

/** Seconds: a decimal number in [min, MAX_TIMER_SECS] (or (0, …] when min is 0 and zero is not allowed). */
export function secondsArg({ allowZero = false }: { allowZero?: boolean } = {}): (v: string) => number {
  return (v) => {
    const n = Number(v);
    const ok = /^\s*\d*\.?\d+(?:[eE][-+]?\d+)?\s*$/.test(v) && Number.isFinite(n);
    // a timer rounds to whole milliseconds: less than 1 ms would be no time at all
    if (!ok || (allowZero ? n < 0 : n < 0.001) || n > MAX_TIMER_SECS)
      throw new InvalidArgumentError(
        `expected seconds from ${allowZero ? 0 : 0.001} to ${MAX_TIMER_SECS} (about 24 days)`,
      );
    return n;
  };
}

export function addSharedOptions(
  cmd: Command,
  { local = true, multiHost = false }: { local?: boolean; multiHost?: boolean } = {},
): Command {
  if (multiHost) {
    cmd.addOption(
      new Option(
        '-H, --host <host:port>',
        'server address; repeat for several servers, used round-robin (env TIDB_HOST, TIDB_PORT)',
      )
        .default('localhost:4000')
        .argParser((v: string, prev: unknown) => (Array.isArray(prev) ? [...(prev as string[]), v] : [v])),
    );
  } else {
    cmd.option('-H, --host <host:port>', 'server address (env TIDB_HOST, TIDB_PORT)', 'localhost:4000');
  }
  // As the mysql client: -h host -P port (so -h is not help here: use --help), no -p means
  // no password, -p alone prompts, -pSECRET / --password=SECRET gives it.
  cmd.helpOption('--help', 'display help for command');
  cmd
    .option('-h, --hostname <host>', 'server host, as the mysql client takes it (instead of -H)')
    .option('-P, --port <port>', 'server port, as the mysql client takes it (instead of -H)')
    .option('-u, --user <name>', 'user name (env TIDB_USER)', 'root')
    .option('-d, --database <name>', 'default database (env TIDB_DATABASE)')
    .option(
      '-p, --password [password]',
      'password (-pSECRET or --password=SECRET; alone: prompt for it; none given: empty, or TIDB_PASSWORD); on the command line it is visible to other users',
    )
    .option('--no-password-prompt', 'never prompt for a password; fail if -p asks for one')
    .option(
      '-c, --config <file>',
      'config file (.json, .toml, .yaml); default: first of test-rig.{json,toml,yaml}, tidb_config.{json,toml}, config/tidb.{json,toml}',
    )
    .option('--show-sql', 'print each SQL statement to stderr')
    .option('--show-output', 'print query results and handler output')
    .addOption(new Option('--log-level <level>', 'log level (env TEST_RIG_LOG)').choices(LEVELS))
    .option('--log-file <path>', 'also write the log to this file')
    .option('-v, --verbose', 'verbose output (log level debug)')
    .option('--json [file]', "machine-readable JSON, to FILE or stdout (no value or '-')")
    .option('--ssl-ca <file>', 'CA certificate (PEM)')
    .option('--ssl-cert <file>', 'client certificate (PEM)')
    .option('--ssl-key <file>', 'client key (PEM)')
    .addOption(
      new Option('--ssl-mode <mode>', 'TLS mode').choices([
        'disabled',
        'preferred',
        'required',
        'verify_ca',
        'verify_identity',
      ]),
    );
  if (local) {
    cmd.option(
      '--local',
      'start a throwaway MariaDB/MySQL server for this run (root, empty password, database test)',
    );
  }
  return cmd;
}

/**
 * The one meaning of `--json [FILE|-]` in every command: absent → undefined,
 * given alone or as '-' → '-' (stdout), else the file to write.
 */
export function jsonTarget(value: unknown): string | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true || value === '-') return '-';
  return String(value);
}

/** A stream writing synchronously to a file: what a command prints to stdout with `--json FILE` goes there. */
export function jsonFileStream(file: string): Writable {
  const what = 'the JSON output';
  const fd = openOutputFile(what, file);
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      try {
        writeToOutput(what, file, fd, chunk);
        done();
      } catch (e) {
        done(e as Error);
      }
    },
    final(done) {
      fs.closeSync(fd);
      done();
    },
  });
}

/** Refuses `--json` on a command that prints no JSON (rather than accepting and ignoring it). */
export function refuseJson(cmd: Command, hint: string): void {
  cmd.hook('preAction', (_this, action) => {
    if (action.opts().json !== undefined)
      throw new CliError(`${action.name()} has no JSON output: --json is not accepted`, EXIT_USAGE, hint);
  });
}

export interface Runtime {
  cmd: Command;
  /** Every -H given (multi); otherwise just the resolved host:port. */
  hosts: string[];
  flags: SharedFlags & Record<string, unknown>;
  settings: Settings;
  log: Logger;
  config?: LoadedConfig;
  local?: LocalServer;
  /** Where JSON goes: the `--json FILE` stream, else stdout. */
  jsonOutput: NodeJS.WritableStream;
}

const SHARED_KEYS = [
  'host',
  'hostname',
  'port',
  'user',
  'database',
  'password',
  'passwordPrompt',
  'config',
  'showSql',
  'showOutput',
  'logLevel',
  'logFile',
  'verbose',
  'json',
  'sslCa',
  'sslCert',
  'sslKey',
  'sslMode',
  'local',
];

/** Options given explicitly on the command line (commander's value source, not a sentinel). */
export function explicitOptions(cmd: Command): Set<string> {
  const set = new Set<string>();
  for (const k of [...SHARED_KEYS, ...Object.keys(cmd.opts())]) {
    if (cmd.getOptionValueSource(k) === 'cli') set.add(k);
  }
  return set;
}

/** Loads the config file named by -c, or the first default one. */
export function loadConfig(flags: { config?: string }): LoadedConfig | undefined {
  if (flags.config) return loadConfigFile(flags.config);
  const found = findConfigFile();
  return found ? loadConfigFile(found) : undefined;
}

/** A logger for commands that do not connect (or before settings are known). */
export function plainLogger(): Logger {
  const f = parseLogFilter(process.env.TEST_RIG_LOG);
  return new Logger({ level: f.level ?? 'info', scopes: f.scopes });
}

export interface RuntimeOptions {
  /** Resolve the password (prompt if needed). Default true. */
  needsPassword?: boolean;
  /**
   * Let --local's server stop itself and exit on SIGINT/SIGTERM (default true).
   * False when the command stops gracefully on those signals itself (run):
   * the server is then stopped after the command, as on a normal end.
   */
  localServerSignals?: boolean;
  /** The command writes `--json FILE` itself (run's JSON lines); otherwise its stdout goes there. */
  jsonFileItself?: boolean;
}

/**
 * Builds the Runtime for a connecting subcommand, runs `body`, and turns the result
 * or error into an exit code. Cleans up the local server and the log file.
 */
export async function withRuntime(
  cmd: Command,
  body: (rt: Runtime) => Promise<number | void>,
  options: RuntimeOptions = {},
): Promise<void> {
  const flags = { ...(cmd.opts() as SharedFlags & Record<string, unknown>) };
  const hostList = Array.isArray(flags.host) ? (flags.host as string[]) : undefined;
  if (hostList) flags.host = hostList[0];
  let log = plainLogger();
  let local: LocalServer | undefined;
  let jsonOut: Writable | undefined;
  let code = EXIT_OK;
  try {
    const explicit = explicitOptions(cmd);
    const config = loadConfig(flags);
    const settings = resolveSettings({ flags, explicit, env: process.env, config: config?.config ?? {} });
    const filter = parseLogFilter(process.env.TEST_RIG_LOG);
    // `--json FILE`: what would go to stdout goes to the file (run writes its report itself)
    const json = jsonTarget(flags.json);
    if (json !== undefined && json !== '-' && !options.jsonFileItself) jsonOut = jsonFileStream(json);
    log = new Logger({
      stdout: jsonOut,
      level: settings.logLevel,
      scopes: filter.scopes,
      file: settings.logFile,
      format: settings.logFormat,
      console: settings.logConsole,
    });
    log.addSecret(settings.password);
    for (const w of config?.warnings ?? []) log.errOut(w);
    if (config) log.debug(`config file ${config.path} (${config.format})`);
    if (settings.sources.password === 'flag' && settings.password) {
      log.errOut(
        'warning: a password given with --password is visible to other users of this machine (ps, shell history); prefer TIDB_PASSWORD or the prompt',
      );
    }
    if (flags.local) {
      if (explicit.has('host'))
        throw new CliError(
          '-H and --local cannot be used together: --local starts its own server',
          EXIT_USAGE,
          'drop -H, or drop --local to use the server at -H',
        );
      log.info('starting a local throwaway server (--local)');
      local = await startLocalServer({
        database: settings.database ?? 'test',
        handleSignals: options.localServerSignals ?? true,
        log: (m) => log.child('local').debug(m),
      });
      settings.host = local.host;
      settings.port = local.port;
      settings.user = local.user;
      settings.password = local.password;
      settings.database = local.database;
      for (const k of ['host', 'port', 'user', 'password', 'database']) settings.sources[k] = 'local';
      log.info(
        `local ${local.kind} server on ${formatHostPort(local.host, local.port)} (data ${local.dataDir})`,
      );
    } else if (options.needsPassword !== false && settings.password === undefined) {
      const { password, prompted } = await obtainPassword({
        password: settings.password,
        promptAllowed: flags.passwordPrompt !== false,
        user: settings.user,
        host: formatHostPort(settings.host, settings.port),
      });
      settings.password = password;
      if (prompted) settings.sources.password = 'prompt';
      log.addSecret(password);
    }
    log.debug('settings', {
      host: formatHostPort(settings.host, settings.port),
      user: settings.user,
      database: settings.database ?? null,
      password: settings.password === undefined ? 'not set' : 'set',
      pool_size: settings.poolSize,
      timeout_secs: settings.timeoutSecs,
      sources: settings.sources,
    });
    const rt: Runtime = {
      cmd,
      hosts:
        hostList && explicitOptions(cmd).has('host') && !local
          ? hostList
          : [formatHostPort(settings.host, settings.port)],
      flags,
      settings,
      log,
      config,
      local,
      jsonOutput: jsonOut ?? process.stdout,
    };
    const r = await body(rt);
    code = typeof r === 'number' ? r : EXIT_OK;
  } catch (e) {
    code = reportError(log, e, Boolean(flags.json));
  } finally {
    if (local)
      await local.stop().catch((e: Error) => log.errOut(`warning: stopping the local server: ${e.message}`));
    log.close();
    jsonOut?.end();
  }
  process.exitCode = code;
}

/** Prints an error as one line (`error: …` plus hint) and returns its exit code. */
export function reportError(log: Logger, e: unknown, json = false): number {
  let code = EXIT_FAILED;
  const explained = explainError(e);
  const message = e instanceof ConfigError ? e.message : explained.message;
  let hint = explained.hint;
  // a bad address here came from the command line, the environment or the config file
  if (
    e instanceof ConfigError ||
    e instanceof SettingsError ||
    e instanceof PasswordError ||
    e instanceof AddressError
  )
    code = EXIT_USAGE;
  if (e instanceof CliError) {
    code = e.exitCode;
    hint = e.hint;
  } else if (e instanceof LocalServerError) {
    code = EXIT_FAILED;
  } else if (e && typeof e === 'object' && 'hint' in e && typeof (e as { hint: unknown }).hint === 'string') {
    hint = (e as { hint: string }).hint;
  }
  if (json) {
    log.out(JSON.stringify({ ok: false, error: message, hint: hint ?? null }));
  }
  if (e instanceof ConfigError) {
    // one line per problem, each `file:line: problem`
    log.errOut(
      message
        .split('\n')
        .map((l) => `error: ${l}`)
        .join('\n'),
    );
  } else {
    log.errOut(errorLine(message, hint));
  }
  return code;
}
