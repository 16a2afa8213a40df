// `test-rig run`: runs Python suites (ts/runner). This file only turns flags,
// configuration and environment into RunnerOptions.
import { Command, Option } from 'commander';
import { addSharedOptions, CliError, secondsArg, wholeNumberArg, withRuntime } from './common.js';
import { machineConnectionOptions } from './chain.js';
import { RunnerUsageError, runSuites, type RunnerOptions } from '../runner/command.js';
import type { ServerParams } from '../runner/run.js';
import { MAX_LOCK_WAIT_SECS } from '../config/schema.js';
import { EXIT_USAGE } from '../exit-codes.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** More parallel cases than any server accepts connections for. */
const MAX_JOBS = 1000;

/** `key=value`; the value is JSON when it parses as JSON (numbers, true/false, lists), else the string. */
export function parseParam(s: string): [string, unknown] {
  const i = s.indexOf('=');
  if (i <= 0) throw new CliError(`--param expects key=value, got '${s}'`, EXIT_USAGE);
  const raw = s.slice(i + 1);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    /* a plain string */
  }
  return [s.slice(0, i), value];
}

/** Whole seconds ≥ 1: what MySQL, MariaDB and TiDB all accept for their lock wait timeouts. */
export function parseLockWaitTimeout(v: string): number {
  const n = Number(v);
  if (!/^\s*\d+\s*$/.test(v) || !Number.isSafeInteger(n) || n < 1 || n > MAX_LOCK_WAIT_SECS)
    throw new CliError(
      `--lock-wait-timeout expects whole seconds from 1 to ${MAX_LOCK_WAIT_SECS}, got '${v}'`,
      EXIT_USAGE,
      'e.g. --lock-wait-timeout 5',
    );
  return n;
}

const truthy = (v: string | undefined) =>
  v !== undefined && ['1', 'true', 'yes', 'on'].includes(v.trim().toLowerCase());

export function runCommand(): Command {
  const cmd = new Command('run')
    .description('run Python test suites (suites/<name>/test_*.py, or --suite-dir DIR) against the server')
    .argument('[suites...]', 'suite names, case-insensitive (default: all; `import` = load_data)')
    .option('--suite <name>', 'run this suite (repeatable)', collect)
    .option('--all', 'run every suite (the default)')
    .option('--suite-dir <dir>', 'run the test_*.py files of this folder as a suite (repeatable)', collect)
    .option('--suites-dir <dir>', 'where suites live (default ./suites, else the bundled suites)')
    .option('--file <name>', 'only this test file, name or glob (repeatable)', collect)
    .option('--test-file <file>', 'old spelling of --file')
    .option('--handler <glob>', 'only handler classes matching this glob (repeatable)', collect)
    .option('--tag <tag>', 'only cases with this tag (repeatable)', collect)
    .option('-k <expr>', "only cases whose suite/file/class/tags match, e.g. -k 'txn and not deadlock'")
    .option('--list', 'list the collected cases (suite, file, class, tags) without connecting')
    .option(
      '-j, --jobs <n>',
      'run N cases in parallel, each on its own connection',
      wholeNumberArg(1, MAX_JOBS),
      1,
    )
    .option('--shard <i/n>', 'run the i-th of n deterministic shards (CI matrices)')
    .option('--fail-fast', 'stop starting cases after the first failure')
    .option(
      '--retries <n>',
      're-run a failed case up to N times; a later pass is reported as flaky',
      wholeNumberArg(0, 1000),
      0,
    )
    .option('--timeout <secs>', 'per-case timeout in seconds (default: test.timeout_secs, 300)', secondsArg())
    .option(
      '--max-steps <n>',
      'per-case limit of execute() calls',
      wholeNumberArg(1, Number.MAX_SAFE_INTEGER),
    )
    .option(
      '--lock-wait-timeout <secs>',
      "bound each case connection's lock waits (innodb_lock_wait_timeout, and lock_wait_timeout for metadata locks on MySQL/MariaDB)",
      parseLockWaitTimeout,
    )
    .option(
      '--strict-legacy',
      'fail a handler written for the old rig (importing test_rig_python) that executed no SQL statement',
    )
    .option('--junit <file>', 'write a JUnit XML report')
    .option(
      '--param <key=value>',
      'case parameter for handler __init__ arguments and `config` (repeatable)',
      collect,
    )
    .addOption(
      new Option('--output-level <level>', 'output detail')
        .choices(['normal', 'verbose', 'debug'])
        .default('normal'),
    )
    .addOption(
      new Option('--db-type <type>', 'old flag: the rig always runs against a real server').choices([
        'tidb',
        'mysql',
        'mariadb',
        'real',
        'mock',
      ]),
    )
    .option('--real-db', 'old flag: accepted, runs are always against a real server')
    .option(
      '--watch',
      'after the run, re-run the cases of test files that change (or whose helper modules change) until Ctrl-C',
    );
  addSharedOptions(cmd);
  // `--json FILE` here (JSON lines per case) instead of the shared `--json` switch
  (cmd as unknown as { options: Option[] }).options = cmd.options.filter((o) => o.long !== '--json');
  (cmd as unknown as NodeJS.EventEmitter).removeAllListeners('option:json');
  cmd.option('--json <file>', "write one JSON line per case as it finishes ('-' = stdout)");

  cmd.action(async (suiteArgs: string[], _opts, command: Command) => {
    const o = command.opts();
    if (o.dbType === 'mock') {
      process.stderr.write(
        'error: --db-type mock is gone: test-rig always runs against a real server (hint: use --local for a throwaway MariaDB/MySQL server)\n',
      );
      process.exitCode = EXIT_USAGE;
      return;
    }
    const list = Boolean(o.list);
    await withRuntime(
      command,
      async ({ settings, log }) => {
        const showSql = settings.showSql || truthy(process.env.SHOW_SQL);
        const params: Record<string, unknown> = { ...(settings.test.params ?? {}) };
        for (const p of (o.param as string[] | undefined) ?? []) {
          const [k, v] = parseParam(p);
          params[k] = v;
        }
        const files = [
          ...((o.file as string[] | undefined) ?? []),
          ...(o.testFile ? [o.testFile as string] : []),
        ];
        try {
          // a real run is supervised (../runner/supervise.ts); --list and --watch run here
          const supervised = !list && !o.watch;
          const run = o.watch && !list ? (await import('../runner/watch.js')).watchSuites : runSuites;
          const options: RunnerOptions & { server: () => ServerParams } = {
            suites: [...suiteArgs, ...((o.suite as string[] | undefined) ?? [])],
            suitesDir: o.suitesDir as string | undefined,
            suiteDirs: o.suiteDir as string[] | undefined,
            files,
            handlers: o.handler as string[] | undefined,
            tags: o.tag as string[] | undefined,
            keyword: o.k as string | undefined,
            shard: o.shard as string | undefined,
            list,
            jobs: o.jobs as number,
            timeoutSecs: (o.timeout as number | undefined) ?? settings.test.timeoutSecs,
            retries: o.retries as number,
            failFast: Boolean(o.failFast),
            maxSteps: o.maxSteps as number | undefined,
            lockWaitTimeoutSecs:
              (o.lockWaitTimeout as number | undefined) ?? settings.test.lockWaitTimeoutSecs,
            strictLegacy: Boolean(o.strictLegacy),
            junit: o.junit as string | undefined,
            json: typeof o.json === 'string' ? o.json : undefined,
            outputLevel:
              settings.verbose && o.outputLevel === 'normal'
                ? 'verbose'
                : (o.outputLevel as 'normal' | 'verbose' | 'debug'),
            showOutput: settings.showOutput,
            showSql,
            params,
            // the runner masks the free text of its lines itself (see RunnerOptions.out)
            out: (t) => log.out(t.replace(/\n$/, ''), true),
            err: (t) => log.errOut(t.replace(/\n$/, ''), true),
            redact: (t) => log.redact(t),
            server: () => {
              const mc = machineConnectionOptions(settings, log);
              return {
                host: settings.host,
                port: settings.port,
                user: settings.user,
                password: settings.password ?? '',
                ssl: mc.ssl,
                connectTimeoutMs: mc.connectTimeoutMs,
              };
            },
          };
          if (!supervised) return await run(options);
          const { superviseRun } = await import('../runner/supervise.js');
          return await superviseRun({
            ...options,
            log: {
              level: settings.logLevel,
              file: settings.logFile,
              format: settings.logFormat,
              console: settings.logConsole,
            },
            secrets: settings.password ? [settings.password] : [],
          });
        } catch (e) {
          if (e instanceof RunnerUsageError) throw new CliError(e.message, EXIT_USAGE, e.hint);
          throw e;
        }
      },
      { needsPassword: !list, localServerSignals: false },
    );
    // lanes left running by abandoned (timed-out) handlers must not keep the process alive
    if (!list) process.exit(process.exitCode ?? 0);
  });
  return cmd;
}
