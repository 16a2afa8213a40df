// `test-rig run`: runs Python suites (ts/runner). This file only turns flags,
// configuration and environment into RunnerOptions.
import fs from 'node:fs';
import { Command, Option } from 'commander';
import { addSharedOptions, CliError, jsonTarget, secondsArg, wholeNumberArg, withRuntime } from './common.js';
import { CACHE_DIR, RunCache } from '../runner/cache.js';
import type { OutputLevel } from '../runner/report/index.js';
import { serverFromSettings } from './chain.js';
import { RunnerUsageError, runSuites, type RunnerOptions } from '../runner/command.js';
import type { ServerParams } from '../runner/run.js';
import { MAX_LOCK_WAIT_SECS } from '../config/schema.js';
import { EXIT_USAGE } from '../exit-codes.js';
import { MAX_SHARDS } from '../runner/shard.js';

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

/**
 * `--json` takes an optional value, so `run --json txn/test_x.py::X` would take
 * the node id for the report's file name. A value that is a node id (has `::`,
 * ends in `.py`, or, being no file or folder here, starts with a suite's name)
 * is one: the JSON goes to stdout and the id is run. A folder stays a (refused) report path.
 */
export function splitJsonValue(
  json: string | undefined,
  suitesDir = 'suites',
): { json?: string; id?: string } {
  if (json === undefined || json === '-') return { json };
  const isDir = (p: string) => fs.existsSync(p) && fs.statSync(p).isDirectory();
  const first = json.split(/[\\/]/)[0];
  if (
    json.includes('::') ||
    /\.py$/i.test(json) ||
    (!fs.existsSync(json) && first !== '' && isDir(`${suitesDir}/${first}`))
  )
    return { json: '-', id: json };
  return { json };
}

const truthy = (v: string | undefined) =>
  v !== undefined && ['1', 'true', 'yes', 'on'].includes(v.trim().toLowerCase());

export function runCommand(): Command {
  const cmd = new Command('run')
    .description('run Python test suites (suites/<name>/test_*.py, or --suite-dir DIR) against the server')
    .argument(
      '[node ids...]',
      'what to run (default: all): suite names (`import` = load_data), `suite/test_x.py`, `suite/test_x.py::Class` as printed in failures, folder or file paths, JUnit `suite.Class`',
    )
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
    .option(
      '--shard <i/n|auto>',
      'run the i-th of n deterministic shards; auto: the shard the Kubernetes Indexed Job or CI matrix names in the environment',
    )
    .option(
      '--shard-count <n>',
      'the number of shards for --shard auto where the environment has none (Kubernetes: the completions; or TEST_RIG_SHARD_COUNT)',
      wholeNumberArg(1, MAX_SHARDS),
    )
    .option(
      '--durations-file <file>',
      "balance the shards by an earlier run's case durations (its --json report, a merged one, or an id-to-ms JSON object)",
    )
    .option('-x, --exitfirst', 'start no case after the first failure')
    .option('--fail-fast', 'the same as -x')
    .option('--maxfail <n>', 'start no case after N failures', wholeNumberArg(1, Number.MAX_SAFE_INTEGER))
    .option('--lf, --last-failed', 'run only the cases that failed last time (all when none did)')
    .option('--cache-clear', `remove the run cache (${CACHE_DIR}/) before the run`)
    .option(
      '--durations <n>',
      'print the N slowest cases after the summary (0: all)',
      wholeNumberArg(0, 1_000_000),
    )
    .option('-q, --quiet', 'print only failures and the totals')
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
      '--html <file>',
      'write a self-contained HTML report (summary, cases, a timeline chart per connection)',
    )
    .addOption(
      new Option(
        '--timeline <mode>',
        'statement timelines: kept for failed, timed-out and cancelled cases (default), for all cases, or not recorded',
      )
        .choices(['failed', 'all', 'off'])
        .default('failed'),
    )
    .option(
      '--param <key=value>',
      'case parameter for handler __init__ arguments and `config` (repeatable)',
      collect,
    )
    .addOption(
      new Option('--output-level <level>', 'output detail')
        .choices(['quiet', 'normal', 'verbose', 'debug'])
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
          if (o.cacheClear) new RunCache().clear();
          const { json, id } = splitJsonValue(jsonTarget(o.json), o.suitesDir as string | undefined);
          const options: RunnerOptions & { server: () => ServerParams } = {
            nodeIds: id ? [id, ...suiteArgs] : suiteArgs,
            suites: (o.suite as string[] | undefined) ?? [],
            suitesDir: o.suitesDir as string | undefined,
            suiteDirs: o.suiteDir as string[] | undefined,
            files,
            handlers: o.handler as string[] | undefined,
            tags: o.tag as string[] | undefined,
            keyword: o.k as string | undefined,
            shard: o.shard as string | undefined,
            shardCount: o.shardCount as number | undefined,
            durationsFile: o.durationsFile as string | undefined,
            list,
            jobs: o.jobs as number,
            timeoutSecs: (o.timeout as number | undefined) ?? settings.test.timeoutSecs,
            retries: o.retries as number,
            failFast: Boolean(o.failFast || o.exitfirst),
            maxFail: o.maxfail as number | undefined,
            lastFailed: Boolean(o.lastFailed),
            cacheDir: new RunCache().dir,
            durations: o.durations as number | undefined,
            maxSteps: o.maxSteps as number | undefined,
            lockWaitTimeoutSecs:
              (o.lockWaitTimeout as number | undefined) ?? settings.test.lockWaitTimeoutSecs,
            strictLegacy: Boolean(o.strictLegacy),
            junit: o.junit as string | undefined,
            html: o.html as string | undefined,
            timeline: o.timeline as 'failed' | 'all' | 'off',
            json,
            outputLevel:
              o.outputLevel !== 'normal'
                ? (o.outputLevel as OutputLevel)
                : settings.verbose
                  ? 'verbose'
                  : o.quiet
                    ? 'quiet'
                    : 'normal',
            showOutput: settings.showOutput,
            showSql,
            params,
            // the runner masks the free text of its lines itself (see RunnerOptions.out)
            out: (t) => log.out(t.replace(/\n$/, ''), true),
            err: (t) => log.errOut(t.replace(/\n$/, ''), true),
            redact: (t) => log.redact(t),
            server: () => serverFromSettings(settings, log),
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
      { needsPassword: !list, localServerSignals: false, jsonFileItself: true },
    );
    // lanes left running by abandoned (timed-out) handlers must not keep the process alive
    if (!list) process.exit(process.exitCode ?? 0);
  });
  return cmd;
}
