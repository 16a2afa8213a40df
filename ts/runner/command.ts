// `test-rig run` as a function: discover → plan → run → report, returning the
// exit code. The CLI (ts/cli/run.ts) resolves flags and settings and calls it.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PythonRuntime } from '../python/runtime.js';
import {
  DiscoveryError,
  discoverCases,
  findSuites,
  importTestFile,
  selectSuites,
  SUITE_ALIASES,
  suiteFromDir,
  type Suite,
} from './discover.js';
import { fileMatcher, planCases } from './plan.js';
import { loadDurations, resolveShard, ShardError, shardCases, shardLabel, type Shard } from './shard.js';
import {
  fanOut,
  JsonLinesReporter,
  JUnitReporter,
  TerminalReporter,
  type OutputLevel,
} from './report/index.js';
import { escapeControls, redactingReporter } from './report/redact.js';
import {
  DEFAULT_TIMEOUT_MS,
  LEFT_BEHIND,
  runCases,
  summarize,
  type ServerParams,
  type TimelineMode,
} from './run.js';
import { HtmlReporter } from './report/html.js';
import { RunCache } from './cache.js';
import { parseNodeId, selectByNodeIds, suitesFor, type NodeId } from './select.js';
import { checkOutputFile, OutputFileError, writeOutputFile } from '../io/output-file.js';
import type { CaseResult, Reporter } from './types.js';
import { EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_TERMINATED, EXIT_USAGE } from '../exit-codes.js';

export class RunnerUsageError extends Error {
  override name = 'RunnerUsageError';
  readonly exitCode = EXIT_USAGE;
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

export interface RunnerOptions {
  /** Suite names (case-insensitive; `import` = `load_data`); empty = all. */
  suites?: string[];
  /**
   * Node ids, as printed in failures and --list: `suite/file.py::Class`, a suite,
   * `suite/file.py`, a folder or test file path (with `::Class`), JUnit's `suite.Class`.
   * Their union runs (with `suites` and `suiteDirs`); one that matches nothing is a usage error.
   */
  nodeIds?: string[];
  /** Where suites live (default: ./suites, else the package's suites folder). */
  suitesDir?: string;
  /** Folders run as suites of their own (--suite-dir). When given, suitesDir is only searched if suites are named too. */
  suiteDirs?: string[];
  files?: string[];
  handlers?: string[];
  tags?: string[];
  keyword?: string;
  /** `i/n` (1-based) or `auto` (from the environment of a Kubernetes Indexed Job or CI matrix). */
  shard?: string;
  /** The number of shards for `shard: 'auto'` where the environment has none (Kubernetes). */
  shardCount?: number;
  /** A JSON report of an earlier run, or an id → ms object: shards are balanced by these durations. */
  durationsFile?: string;
  list?: boolean;
  jobs?: number;
  timeoutSecs?: number;
  retries?: number;
  failFast?: boolean;
  /** Start no case after this many failures (`failFast` is 1). */
  maxFail?: number;
  /** Run only the cases that failed last time (from the cache); all when none did. */
  lastFailed?: boolean;
  /** The run cache folder (`.test-rig-cache`): read by `lastFailed`, written after the run. Unset: no cache. */
  cacheDir?: string;
  /** Print the N slowest cases after the summary (0: all). */
  durations?: number;
  maxSteps?: number;
  /** Lock wait timeout (seconds) of every case connection. */
  lockWaitTimeoutSecs?: number;
  /** Fail old-style (test_rig_python) handlers that executed no statement. */
  strictLegacy?: boolean;
  junit?: string;
  /** A self-contained HTML report. */
  html?: string;
  /** Statement timelines: kept for failed cases (default), all, or not recorded. */
  timeline?: TimelineMode;
  /** A file, or '-' for stdout. */
  json?: string;
  outputLevel?: OutputLevel;
  showOutput?: boolean;
  showSql?: boolean;
  params?: Record<string, unknown>;
  /** Resolved lazily: --list never connects. */
  server?: () => ServerParams | Promise<ServerParams>;
  /** Lines for the user. Their free text (case output, failures) is masked with `redact` already. */
  out?: (text: string) => void;
  err?: (text: string) => void;
  /** Masks secrets (the password) in the free text of every report; the CLI passes Logger.redact. */
  redact?: (text: string) => string;
  /** Install SIGINT handling (default true). */
  handleSigint?: boolean;
  /** More reporters, after the terminal and report files (the supervisor's messages). */
  reporters?: Reporter[];
  /** Run by `test-rig run`'s supervisor (./supervise.ts), whose core dumps are turned off too. */
  supervised?: boolean;
  /**
   * Only these planned cases (by id): the supervisor continuing a run whose run
   * process ended. The supervisor then prints the summary and writes the reports.
   */
  continueWith?: string[];
}

/** The suites folder: the given one, else ./suites, else the one shipped with the package. */
export function defaultSuitesDir(): string {
  const local = path.resolve('suites');
  if (fs.existsSync(local)) return local;
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const rel of ['../../../suites', '../../suites']) {
    const p = path.resolve(here, rel);
    if (fs.existsSync(p)) return p;
  }
  return local;
}

export function collectSuites(o: RunnerOptions): Suite[] {
  const names = o.suites ?? [];
  const dirs = (o.suiteDirs ?? []).map(suiteFromDir);
  const ids = parsedNodeIds(o);
  if (dirs.length && names.length === 0 && ids.length === 0) return dirs;
  // A folder named on purpose must exist; the default one may be absent (a project with --suite-dir only).
  if (o.suitesDir !== undefined && !fs.existsSync(o.suitesDir))
    throw new DiscoveryError(`--suites-dir ${o.suitesDir}: no such folder`);
  const root = o.suitesDir ?? defaultSuitesDir();
  const all = findSuites(root);
  let fromRoot = names.length ? selectSuites(all, names) : ids.length ? [] : all;
  if (ids.length) {
    // the suites the node ids need (all of them for a name that could be a class anywhere)
    const needed = suitesFor(ids, [...all, ...dirs]) ?? [...all, ...dirs];
    fromRoot = [...fromRoot, ...needed.filter((n) => !fromRoot.some((s) => s.dir === n.dir))];
  }
  return [...fromRoot, ...dirs.filter((d) => !fromRoot.some((s) => s.dir === d.dir))];
}

/** The suites named with `suites` (lower case, aliases resolved). */
function collectNamed(o: RunnerOptions): Set<string> {
  return new Set((o.suites ?? []).map((n) => SUITE_ALIASES[n.toLowerCase()] ?? n.toLowerCase()));
}

function parsedNodeIds(o: RunnerOptions): NodeId[] {
  if (!o.nodeIds?.length) return [];
  const root = o.suitesDir ?? defaultSuitesDir();
  const names =
    fs.existsSync(root) && fs.statSync(root).isDirectory() ? findSuites(root).map((s) => s.name) : [];
  return o.nodeIds.map((a) => parseNodeId(a, process.cwd(), names));
}

export async function runSuites(o: RunnerOptions): Promise<number> {
  const out = o.out ?? ((t: string) => process.stdout.write(t));
  const err = o.err ?? ((t: string) => process.stderr.write(t));
  const redact = o.redact ?? ((t: string) => t);
  let suites: Suite[];
  let shard: Shard | undefined;
  let durations: Map<string, number> | undefined;
  try {
    if (o.shardCount !== undefined && o.shard === undefined)
      throw new ShardError('--shard-count needs --shard auto', 'e.g. --shard auto --shard-count 4');
    shard = o.shard !== undefined ? resolveShard(o.shard, o.shardCount) : undefined;
    if (shard && o.durationsFile) durations = loadDurations(o.durationsFile);
    suites = collectSuites(o);
  } catch (e) {
    throw new RunnerUsageError((e as Error).message, (e as { hint?: string }).hint);
  }
  const cache = o.cacheDir !== undefined ? new RunCache(o.cacheDir) : undefined;
  const rt = PythonRuntime.get();
  // `--json -`: stdout carries the JSON lines only. They get their own copy of
  // fd 1, and fd 1 itself becomes stderr before any handler file is imported,
  // for whatever else writes there (a module printing at import, a thread of
  // its own, a subprocess).
  const jsonTarget = o.json === '-' && !o.list ? rt.takeStdout() : o.json;
  // Each test file is imported once per run, here, under the case timeout; cases
  // are created from the classes found (see importTestFile).
  const importMs = Math.round((o.timeoutSecs ?? DEFAULT_TIMEOUT_MS / 1000) * 1000);
  const discovered = await discoverCases(suites, (file) => importTestFile(rt, file, importMs), {
    fileFilter: fileMatcher(o.files),
  });
  let selected;
  try {
    const ids = parsedNodeIds(o);
    // --suite-dir folders and named suites run whole, next to the node ids' cases
    const whole = new Set([...(o.suiteDirs ?? []).map((d) => path.resolve(d))]);
    const named = collectNamed(o);
    const chosen = ids.length
      ? discovered.cases.filter((c) => whole.has(c.suiteDir) || named.has(c.suite.toLowerCase()))
      : discovered.cases;
    const chosenAll = ids.length
      ? [...new Set([...chosen, ...selectByNodeIds(discovered.cases, ids, suites)])]
      : chosen;
    // keep discovery order
    const order = new Map(discovered.cases.map((c, i) => [c, i]));
    chosenAll.sort((a, b) => order.get(a)! - order.get(b)!);
    selected = planCases(chosenAll, {
      files: o.files,
      handlers: o.handlers,
      tags: o.tags,
      keyword: o.keyword,
    });
  } catch (e) {
    throw new RunnerUsageError((e as Error).message, (e as { hint?: string }).hint);
  }
  let cases = shard ? shardCases(selected, shard, durations) : selected;
  if (o.lastFailed && cache) {
    const failed = new Set(cache.lastFailed());
    const again = cases.filter((c) => failed.has(c.id));
    if (again.length) {
      if (!o.continueWith)
        err(`--lf: running the ${again.length} case${again.length === 1 ? '' : 's'} that failed last time\n`);
      cases = again;
    } else if (!o.continueWith)
      err(`--lf: no case of this selection failed last time: running all ${cases.length}\n`);
  }
  if (o.continueWith) {
    const ids = new Set(o.continueWith);
    cases = cases.filter((c) => ids.has(c.id));
  }
  const filtered = Boolean(o.files?.length || o.handlers?.length || o.tags?.length || o.keyword);
  if (o.list && o.json !== undefined) {
    // the collected cases as JSON lines, one per case (to stdout or the file)
    const text = cases
      .map((c) =>
        JSON.stringify({
          event: 'collected',
          id: c.id,
          suite: c.suite,
          file: c.fileName,
          path: c.file,
          class: c.broken ? null : c.name,
          line: c.line,
          tags: c.tags,
          error: c.broken ? redact(c.broken.message) : null,
        }),
      )
      .map((l) => `${l}\n`)
      .join('');
    try {
      if (o.json === '-') {
        if (text) out(text);
      } else writeOutputFile('the JSON list', o.json, text);
    } catch (e) {
      throw new RunnerUsageError((e as Error).message, (e as OutputFileError).hint);
    }
    err(
      `${cases.length} case${cases.length === 1 ? '' : 's'} in ${suites.length} suite${suites.length === 1 ? '' : 's'}\n`,
    );
    return cases.some((c) => c.broken) ? EXIT_FAILED : EXIT_OK;
  }
  if (o.list) {
    for (const c of cases) {
      const tags = c.tags.length ? `  [${c.tags.join(', ')}]` : '';
      const broken = c.broken ? `  ✖ ${redact(c.broken.message.split('\n')[0])}` : '';
      out(`${c.suite}\t${c.fileName}\t${c.broken ? '-' : c.name}${tags}${broken}\n`);
    }
    const ofShard = shard
      ? ` (shard ${shardLabel(shard)}${shard.source ? ` from ${shard.source}` : ''}${durations ? ', balanced by durations' : ''})`
      : '';
    err(
      `${cases.length} case${cases.length === 1 ? '' : 's'} in ${suites.length} suite${suites.length === 1 ? '' : 's'}${ofShard}\n`,
    );
    return cases.some((c) => c.broken) ? EXIT_FAILED : EXIT_OK;
  }
  for (const f of discovered.empty)
    if (o.outputLevel === 'verbose' || o.outputLevel === 'debug')
      err(`note: ${f} defines no test case (classes named …Handler subclassing PyStateHandler)\n`);
  if (cases.length === 0) {
    if (filtered && discovered.cases.length > 0 && selected.length === 0)
      throw new RunnerUsageError('no case matches the filters (try --list)');
    if (shard && !o.continueWith) {
      // more shards than cases: this shard still reports (nothing), so that a merge finds every shard
      err(`shard ${shardLabel(shard)} has no case: nothing to run\n`);
      return writeEmptyReports(o, jsonTarget, shardLabel(shard), err);
    }
    err(suites.length === 0 ? 'no suites found: nothing to run\n' : 'no test cases found: nothing to run\n');
    return EXIT_OK;
  }
  // a report that cannot be written is found out before anything runs
  try {
    if (o.junit) checkOutputFile('the JUnit report', o.junit);
    if (o.html) checkOutputFile('the HTML report', o.html);
    if (o.json && o.json !== '-') checkOutputFile('the JSON report', o.json);
  } catch (e) {
    throw new RunnerUsageError((e as Error).message, (e as OutputFileError).hint);
  }
  if (!o.server) throw new RunnerUsageError('no server given');
  const server = await o.server();
  // this process now holds the password: no core dump of it
  if (server.password) {
    rt.disableCoreDumps();
    if (o.supervised) disableCoreDumpsOf(rt, process.ppid);
  }

  const reporters: Reporter[] = [
    redactingReporter(
      new TerminalReporter({
        level: o.outputLevel,
        showOutput: o.showOutput,
        showSql: o.showSql,
        out: o.json === '-' ? err : out,
        progress: process.stderr,
        summary: !o.continueWith,
        durations: o.durations,
      }),
      escapeControls,
    ),
  ];
  let jsonl: JsonLinesReporter | undefined;
  if (jsonTarget !== undefined) reporters.push((jsonl = new JsonLinesReporter(jsonTarget)));
  if (o.junit) reporters.push(new JUnitReporter(o.junit, undefined, { shard: shard && shardLabel(shard) }));
  if (o.html) reporters.push(new HtmlReporter(o.html));
  reporters.push(...(o.reporters ?? []));

  const controller = new AbortController();
  let interrupts = 0;
  let stoppedBy = 'SIGINT' as NodeJS.Signals;
  // SIGTERM (kill, CI cancellation, docker stop) stops the run like Ctrl-C
  const onSigint = (sig: NodeJS.Signals = 'SIGINT') => {
    interrupts++;
    if (interrupts === 1) {
      stoppedBy = sig;
      err(
        `\ninterrupted${sig === 'SIGINT' ? '' : ` (${sig})`}: cancelling running cases, dropping scratch databases, closing reports (Ctrl-C again to quit now)\n`,
      );
      controller.abort(new Error('interrupted'));
    } else {
      jsonl?.close();
      process.exit(EXIT_INTERRUPTED);
    }
  };
  if (o.handleSigint !== false) {
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigint);
  }
  // A report that could not be written fails the run: each failure once, as an error line.
  const reportFailures = new Set<string>();
  const onReporterError = (e: unknown) => {
    const msg =
      e instanceof OutputFileError
        ? `${e.message}${e.hint ? ` (hint: ${e.hint})` : ''}`
        : `a reporter failed: ${(e as Error).message}`;
    if (reportFailures.has(msg)) return;
    reportFailures.add(msg);
    err(`error: ${redact(msg)}\n`);
  };
  try {
    const { summary, results } = await runCases(cases, {
      server,
      params: o.params,
      jobs: o.jobs,
      timeoutMs: o.timeoutSecs !== undefined ? Math.round(o.timeoutSecs * 1000) : undefined,
      retries: o.retries,
      maxFail: o.maxFail ?? (o.failFast ? 1 : undefined),
      maxSteps: o.maxSteps,
      lockWaitTimeoutSecs: o.lockWaitTimeoutSecs,
      strictLegacy: o.strictLegacy,
      timeline: o.timeline,
      showSql: o.showSql,
      shard: shard && shardLabel(shard),
      signal: controller.signal,
      reporter: redactingReporter(fanOut(reporters, onReporterError), redact),
    });
    // name what could not be cleaned up (a server that stopped answering, say)
    const leftovers = results.flatMap((r) => r.output.filter((l) => l.text.startsWith(LEFT_BEHIND)));
    for (const l of leftovers) err(`${redact(l.text)}\n`);
    // a supervised run's cache is written by the supervisor, which sees every case end
    if (cache && !o.supervised) recordInCache(cache, results, err);
    if (summary.interrupted) return stoppedBy === 'SIGTERM' ? EXIT_TERMINATED : EXIT_INTERRUPTED;
    const teardownErrors = results.filter((r) => r.teardownError).length;
    return summary.failed + summary.cancelled + teardownErrors > 0 || reportFailures.size > 0
      ? EXIT_FAILED
      : EXIT_OK;
  } finally {
    jsonl?.close();
    if (o.handleSigint !== false) {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigint);
    }
  }
}

/** Records the run for --lf and --durations; a cache that cannot be written only warns. */
export function recordInCache(cache: RunCache, results: CaseResult[], err: (t: string) => void): void {
  try {
    cache.record(results);
  } catch (e) {
    err(`warning: could not update the run cache ${cache.dir}: ${(e as Error).message}\n`);
  }
}

/** The JSON lines and JUnit file of a shard that has no case. */
function writeEmptyReports(
  o: RunnerOptions,
  jsonTarget: string | number | undefined,
  shard: string,
  err: (text: string) => void,
): number {
  const summary = summarize(0, [], 0, false);
  const reporters: Reporter[] = [];
  if (jsonTarget !== undefined) reporters.push(new JsonLinesReporter(jsonTarget));
  if (o.junit) reporters.push(new JUnitReporter(o.junit, undefined, { shard }));
  let failed = false;
  for (const r of reporters) {
    try {
      r.start?.({ cases: [], jobs: o.jobs ?? 1, shard });
      void r.end?.(summary, []);
    } catch (e) {
      failed = true;
      err(
        `error: ${(e as Error).message}${(e as OutputFileError).hint ? ` (hint: ${(e as OutputFileError).hint})` : ''}\n`,
      );
    }
  }
  return failed ? EXIT_FAILED : EXIT_OK;
}

/** Sets another process's core-dump limit to 0 (the supervisor holds the password too and loads no Python). */
function disableCoreDumpsOf(rt: PythonRuntime, pid: number): void {
  try {
    const resource = rt.importModule('resource');
    const core = rt.call(resource, '__getattribute__', ['RLIMIT_CORE']);
    const [, hard] = rt.call(resource, 'prlimit', [pid, core]) as [number, number];
    rt.call(resource, 'prlimit', [pid, core, [0, hard]]);
  } catch {
    /* not Linux, or not allowed: the run process's own limit is set anyway */
  }
}
