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
  suiteFromDir,
  type Suite,
} from './discover.js';
import { fileMatcher, planCases } from './plan.js';
import {
  fanOut,
  JsonLinesReporter,
  JUnitReporter,
  TerminalReporter,
  type OutputLevel,
} from './report/index.js';
import { escapeControls, redactingReporter } from './report/redact.js';
import { DEFAULT_TIMEOUT_MS, LEFT_BEHIND, runCases, type ServerParams } from './run.js';
import { checkOutputFile, OutputFileError } from '../io/output-file.js';
import type { Reporter } from './types.js';
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
  /** Where suites live (default: ./suites, else the package's suites folder). */
  suitesDir?: string;
  /** Folders run as suites of their own (--suite-dir). When given, suitesDir is only searched if suites are named too. */
  suiteDirs?: string[];
  files?: string[];
  handlers?: string[];
  tags?: string[];
  keyword?: string;
  shard?: string;
  list?: boolean;
  jobs?: number;
  timeoutSecs?: number;
  retries?: number;
  failFast?: boolean;
  maxSteps?: number;
  /** Lock wait timeout (seconds) of every case connection. */
  lockWaitTimeoutSecs?: number;
  /** Fail old-style (test_rig_python) handlers that executed no statement. */
  strictLegacy?: boolean;
  junit?: string;
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
  if (dirs.length && names.length === 0) return dirs;
  // A folder named on purpose must exist; the default one may be absent (a project with --suite-dir only).
  if (o.suitesDir !== undefined && !fs.existsSync(o.suitesDir))
    throw new DiscoveryError(`--suites-dir ${o.suitesDir}: no such folder`);
  const root = o.suitesDir ?? defaultSuitesDir();
  const fromRoot = selectSuites(findSuites(root), names);
  return [...fromRoot, ...dirs.filter((d) => !fromRoot.some((s) => s.dir === d.dir))];
}

export async function runSuites(o: RunnerOptions): Promise<number> {
  const out = o.out ?? ((t: string) => process.stdout.write(t));
  const err = o.err ?? ((t: string) => process.stderr.write(t));
  const redact = o.redact ?? ((t: string) => t);
  let suites: Suite[];
  try {
    suites = collectSuites(o);
  } catch (e) {
    throw new RunnerUsageError((e as Error).message);
  }
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
  let cases;
  try {
    cases = planCases(discovered.cases, {
      files: o.files,
      handlers: o.handlers,
      tags: o.tags,
      keyword: o.keyword,
      shard: o.shard,
    });
  } catch (e) {
    throw new RunnerUsageError((e as Error).message);
  }
  if (o.continueWith) {
    const ids = new Set(o.continueWith);
    cases = cases.filter((c) => ids.has(c.id));
  }
  const filtered = Boolean(o.files?.length || o.handlers?.length || o.tags?.length || o.keyword);
  if (o.list) {
    for (const c of cases) {
      const tags = c.tags.length ? `  [${c.tags.join(', ')}]` : '';
      const broken = c.broken ? `  ✖ ${redact(c.broken.message.split('\n')[0])}` : '';
      out(`${c.suite}\t${c.fileName}\t${c.broken ? '-' : c.name}${tags}${broken}\n`);
    }
    err(
      `${cases.length} case${cases.length === 1 ? '' : 's'} in ${suites.length} suite${suites.length === 1 ? '' : 's'}\n`,
    );
    return cases.some((c) => c.broken) ? EXIT_FAILED : EXIT_OK;
  }
  for (const f of discovered.empty)
    if (o.outputLevel && o.outputLevel !== 'normal')
      err(`note: ${f} defines no test case (classes named …Handler subclassing PyStateHandler)\n`);
  if (cases.length === 0) {
    if (filtered && discovered.cases.length > 0)
      throw new RunnerUsageError('no case matches the filters (try --list)');
    err(suites.length === 0 ? 'no suites found: nothing to run\n' : 'no test cases found: nothing to run\n');
    return EXIT_OK;
  }
  // a report that cannot be written is found out before anything runs
  try {
    if (o.junit) checkOutputFile('the JUnit report', o.junit);
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
      }),
      escapeControls,
    ),
  ];
  let jsonl: JsonLinesReporter | undefined;
  if (jsonTarget !== undefined) reporters.push((jsonl = new JsonLinesReporter(jsonTarget)));
  if (o.junit) reporters.push(new JUnitReporter(o.junit));
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
      failFast: o.failFast,
      maxSteps: o.maxSteps,
      lockWaitTimeoutSecs: o.lockWaitTimeoutSecs,
      strictLegacy: o.strictLegacy,
      showSql: o.showSql,
      signal: controller.signal,
      reporter: redactingReporter(fanOut(reporters, onReporterError), redact),
    });
    // name what could not be cleaned up (a server that stopped answering, say)
    const leftovers = results.flatMap((r) => r.output.filter((l) => l.text.startsWith(LEFT_BEHIND)));
    for (const l of leftovers) err(`${redact(l.text)}\n`);
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
