// `test-rig run` supervises its run: the cases run in a child process (the
// "run process", ./child.ts), and this process, which loads no Python, only
// waits for it. Handler code can end the process that runs it (`os._exit(0)`,
// a segfault in a C extension, `os.kill(os.getpid(), 9)`), and nothing in that
// process gets to say so. The supervisor survives it and finishes the run:
// the running case is reported as having ended the process, the run's scratch
// databases are dropped, what is left of the run process's group is killed,
// the cases not started yet run in a new run process, then the terminal
// summary, JSON lines and JUnit file are completed, and the exit code is 1.
// A run process that says it is done (one message) ends the run with the code
// it gives; nothing else leaves the run process but one message per case start
// and end and a heartbeat a second, so the hot path (visits, queries) does not
// change. A run process that stops beating while a case runs past its
// deadline is killed, and the run goes on the same way (./escalate.ts).
import { fork, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import { Connection } from '../db/connection.js';
import { recordInCache, RunnerUsageError, type RunnerOptions } from './command.js';
import { SilenceWatch, stuckFailure } from './escalate.js';
import { RunCache } from './cache.js';
import { cleanDeadRuns } from './scratch.js';
import { fanOut, JsonLinesReporter, JUnitReporter, TerminalReporter } from './report/index.js';
import { HtmlReporter } from './report/html.js';
import { baseParams, quoteId, STOP_CLEANUP_MS, summarize, type ServerParams } from './run.js';
import type { CaseResult, CaseSpec, Reporter } from './types.js';
import { EXIT_FAILED, EXIT_INTERRUPTED, EXIT_TERMINATED } from '../exit-codes.js';

/** What the supervisor sends the run process: everything but functions. */
export interface RunRequest {
  type: 'run';
  options: Omit<RunnerOptions, 'server' | 'out' | 'err' | 'redact' | 'handleSigint' | 'reporters'>;
  server: ServerParams;
  log: { level?: string; file?: string; format?: 'text' | 'json'; console?: boolean };
  secrets: string[];
}

/** What the run process sends back. */
export type RunMessage =
  | { type: 'start'; cases: CaseSpec[]; jobs: number; inline?: string[]; shard?: string }
  | { type: 'caseStart'; id: string }
  | { type: 'caseEnd'; result: CaseResult }
  | { type: 'beat' }
  | { type: 'done'; code: number }
  | { type: 'error'; message: string; hint?: string; usage: boolean };

/** Names the run's scratch databases (`test_rig_run_<run id>_…`) so the supervisor can find them. */
export const RUN_ID_ENV = 'TEST_RIG_RUN_ID';

export interface SuperviseOptions extends RunnerOptions {
  server: () => ServerParams | Promise<ServerParams>;
  log: RunRequest['log'];
  secrets: string[];
}

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** How one run process ended, and what it said. */
interface Attempt {
  exit: { code: number | null; signal: NodeJS.Signals | null };
  done?: number;
  failure?: Extract<RunMessage, { type: 'error' }>;
  /** The cases it planned (its `start`), and its shard. */
  planned?: CaseSpec[];
  /** The ids of its cases whose handler runs inline (on its JS thread). */
  inline: Set<string>;
  shard?: string;
  /** Cases running when it ended, with when they started. */
  running: Map<string, { spec: CaseSpec; started: number }>;
  /** Signals passed on to it. */
  signals: number;
  /** Killed by the supervisor: silent past a case's deadline and grace period. */
  stuck?: { timeoutMs: number; graceMs: number };
  lastSignal: NodeJS.Signals;
}

/** Starts one run process and waits for it to end. */
async function runProcess(
  request: RunRequest,
  runId: string,
  known: CaseSpec[] | undefined,
  onCaseEnd: (r: CaseResult) => void,
): Promise<Attempt> {
  // Its own process group: a Ctrl-C on the terminal reaches this process only,
  // which passes it on once (the run process counts Ctrl-Cs), and what the
  // handlers leave running in that group can be killed as a whole.
  const child = fork(new URL('./child.js', import.meta.url), [], {
    env: { ...process.env, [RUN_ID_ENV]: runId },
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    detached: true,
    serialization: 'advanced',
  });
  // a run process that dies at once makes send fail: its exit is what counts
  child.on('error', () => undefined);
  child.send(request);
  const a: Attempt = {
    exit: { code: null, signal: null },
    inline: new Set(),
    running: new Map(),
    signals: 0,
    lastSignal: 'SIGINT',
  };
  let specs = known;
  const watch = new SilenceWatch(
    request.options.timeoutSecs !== undefined ? Math.round(request.options.timeoutSecs * 1000) : undefined,
    () => a.running.size > 0,
    () => {
      a.stuck = { timeoutMs: watch.timeoutMs, graceMs: watch.graceMs };
      try {
        child.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    },
  );
  child.on('message', (m: RunMessage) => {
    watch.beat();
    switch (m.type) {
      case 'start':
        a.planned = m.cases;
        a.inline = new Set(m.inline);
        a.shard = m.shard;
        specs ??= m.cases;
        break;
      case 'caseStart': {
        const spec = specs?.find((c) => c.id === m.id);
        if (spec) a.running.set(m.id, { spec, started: performance.now() });
        break;
      }
      case 'caseEnd':
        a.running.delete(m.result.case.id);
        onCaseEnd(m.result);
        break;
      case 'done':
        a.done = m.code;
        break;
      case 'error':
        a.failure = m;
        break;
    }
  });
  const forward = (sig: NodeJS.Signals) => {
    a.signals++;
    a.lastSignal = sig;
    try {
      // A hang-up stops the run gracefully, like SIGTERM (the run process handles
      // SIGINT and SIGTERM; the second quits at once). A third signal means the
      // run process cannot act on them (its JS thread held by a handler): kill it;
      // the reports are finished here.
      child.kill(a.signals >= 3 ? 'SIGKILL' : sig === 'SIGHUP' ? 'SIGTERM' : sig);
    } catch {
      /* already gone */
    }
  };
  for (const s of FORWARDED) process.on(s, forward);
  try {
    a.exit = await new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  } finally {
    watch.stop();
    for (const s of FORWARDED) process.off(s, forward);
  }
  killGroup(child);
  return a;
}

/** Runs the suites in a supervised run process; resolves to the run's exit code. */
export async function superviseRun(o: SuperviseOptions): Promise<number> {
  const err = o.err ?? ((t: string) => process.stderr.write(t));
  const server = await o.server();
  const runId = crypto.randomBytes(6).readUIntBE(0, 6).toString(36);
  // alongside the run's start (loading Python, importing test files), bounded
  const cleaned = cleanDeadRunsAtStart(server, runId, STOP_CLEANUP_MS, err);
  try {
    return await supervise(o, server, runId);
  } finally {
    await cleaned;
  }
}

async function supervise(o: SuperviseOptions, server: ServerParams, runId: string): Promise<number> {
  const out = o.out ?? ((t: string) => process.stdout.write(t));
  const err = o.err ?? ((t: string) => process.stderr.write(t));
  const started = performance.now();
  const {
    server: _s,
    out: _o,
    err: _e,
    redact: _redact,
    handleSigint: _h,
    reporters: _r,
    log,
    secrets,
    ...options
  } = o;

  // The results a run process sent are masked already (its reporters mask each
  // case's free text); what the supervisor adds carries no secret, so its
  // reporters mask nothing more (masking whole strings would hit a weak
  // password inside 'passed' or a count).
  // What the supervisor writes once a run process has ended early: the JSON
  // lines go on (appended), the terminal gets the verdicts of the cases that
  // ended it and, at the end, the summary of the whole run; JUnit is written last.
  const terminal = new TerminalReporter({
    level: o.outputLevel,
    showOutput: o.showOutput,
    showSql: o.showSql,
    out: o.json === '-' ? err : out,
    durations: o.durations,
  });
  const reportFailures: string[] = [];
  const onError = (e: unknown) => {
    const hint = (e as { hint?: string }).hint;
    const msg = `${(e as Error).message}${hint ? ` (hint: ${hint})` : ''}`;
    if (!reportFailures.includes(msg)) reportFailures.push(msg);
  };
  let json: JsonLinesReporter | undefined;
  const results: CaseResult[] = [];
  const onCaseEnd = (r: CaseResult) => {
    results.push(r);
    if (json) fanOut([json], onError).caseEnd?.(r);
  };

  const cache = o.cacheDir !== undefined ? new RunCache(o.cacheDir) : undefined;
  let planned: CaseSpec[] | undefined;
  let shard: string | undefined;
  let quitByUser = false;
  let lastSignal = 'SIGINT' as NodeJS.Signals;
  let request: RunRequest = { type: 'run', options, server, log, secrets };
  for (;;) {
    const before = results.length;
    const a = await runProcess(request, runId, planned, onCaseEnd);
    if (a.failure) {
      if (a.failure.usage) throw new RunnerUsageError(a.failure.message, a.failure.hint);
      throw Object.assign(new Error(a.failure.message), { hint: a.failure.hint });
    }
    // the first run process did everything itself
    if (!planned && a.done !== undefined) {
      if (cache) recordInCache(cache, results, err);
      return a.done;
    }
    lastSignal = a.lastSignal;
    quitByUser = a.signals > 0;
    if (!planned) {
      if (!a.planned) {
        if (quitByUser) return lastSignal === 'SIGTERM' ? EXIT_TERMINATED : EXIT_INTERRUPTED;
        const how = a.exit.signal ? `signal ${a.exit.signal}` : `exit ${a.exit.code}`;
        throw new Error(
          `the run process ended (${how}) before any case started, while loading the test files (does a test file end the process when imported?)`,
        );
      }
      planned = a.planned;
      shard = a.shard;
      if (o.json) {
        try {
          json = new JsonLinesReporter(o.json, undefined, { append: true });
        } catch (e) {
          onError(e);
        }
      }
    }
    if (a.done !== undefined) break; // a continuation that finished
    // Interrupted twice: the user wants out now, so nothing more waits for the
    // server; otherwise the drop is bounded too (the server may not answer).
    const dropped =
      a.signals >= 2
        ? (err(
            `test-rig: left the run's scratch databases (test_rig_run_${runId}_…) behind: interrupted twice\n`,
          ),
          [])
        : await dropScratchDatabases(server, runId, quitByUser ? STOP_CLEANUP_MS : 30_000).catch(
            (e: Error) => {
              err(
                `warning: could not drop the run's scratch databases (test_rig_run_${runId}_…): ${e.message}\n`,
              );
              return [] as string[];
            },
          );
    const ended =
      a.stuck && !quitByUser ? stuckCases(a, a.stuck, dropped) : endedCases(a, quitByUser, dropped);
    for (const r of ended) {
      onCaseEnd(r);
      terminal.caseEnd(r);
    }
    const remaining = planned.filter((c) => !results.some((r) => r.case.id === c.id)).map((c) => c.id);
    const maxFail = o.maxFail ?? (o.failFast ? 1 : undefined);
    const stopped = maxFail !== undefined && results.filter((r) => r.status === 'failed').length >= maxFail;
    if (!quitByUser) {
      const how = a.exit.signal ? `signal ${a.exit.signal}` : `exit ${a.exit.code}`;
      const ids = ended.map((r) => r.case.id).join(', ');
      const what = a.stuck
        ? `: killed, as ${ids} did not stop after its deadline`
        : ended.length
          ? ` while running ${ids}`
          : ' between cases';
      const next =
        remaining.length === 0
          ? ''
          : stopped
            ? `; ${remaining.length} case${remaining.length === 1 ? '' : 's'} not run (${o.failFast ? '-x' : `--maxfail ${maxFail}`})`
            : `; running the ${remaining.length} case${remaining.length === 1 ? '' : 's'} not run yet in a new run process`;
      err(`error: the run process ended (${how})${what}${next}\n`);
    }
    // stop when asked to, when nothing is left, or when the last process made no progress
    if (quitByUser || stopped || remaining.length === 0 || results.length === before) break;
    request = {
      type: 'run',
      options: {
        ...options,
        junit: undefined,
        html: undefined,
        json: undefined,
        continueWith: remaining,
        // the failures so far count towards --maxfail
        maxFail:
          maxFail === undefined ? undefined : maxFail - results.filter((r) => r.status === 'failed').length,
        failFast: undefined,
      },
      server,
      log,
      secrets,
    };
  }

  const all = planned.map((c) => results.find((r) => r.case.id === c.id)).filter((r) => r !== undefined);
  const summary = summarize(planned.length, all, performance.now() - started, quitByUser);
  const finish: Reporter[] = [terminal];
  if (json) finish.push(json);
  if (o.junit) finish.push(new JUnitReporter(o.junit, undefined, { shard }));
  if (o.html) finish.push(new HtmlReporter(o.html));
  await fanOut(finish, onError).end?.(summary, all);
  for (const m of reportFailures) err(`error: ${m}\n`);
  if (cache) recordInCache(cache, all, err);
  if (quitByUser) return lastSignal === 'SIGTERM' ? EXIT_TERMINATED : EXIT_INTERRUPTED;
  return EXIT_FAILED;
}

/** The results of the cases a run process was running when it ended. */
function endedCases(a: Attempt, quitByUser: boolean, dropped: string[]): CaseResult[] {
  const now = performance.now();
  const how = a.exit.signal ? `signal ${a.exit.signal}` : `exit ${a.exit.code}`;
  const several = a.running.size > 1;
  return [...a.running.values()].map(({ spec, started }) => ({
    case: spec,
    status: quitByUser ? 'cancelled' : 'failed',
    durationMs: now - started,
    attempts: 1,
    failure: quitByUser
      ? { message: 'cancelled: the run was quit at once (second Ctrl-C)', type: 'Cancelled' }
      : {
          message: several
            ? `the process ended (${how}) while this case was running (one of ${a.running.size} running cases ended it: os._exit, a crash, a signal)`
            : `ended the process (${how}): the handler called os._exit, crashed or was killed`,
          type: 'ProcessEnded',
        },
    output: [],
    database: dropped.length === 1 && a.running.size === 1 ? dropped[0] : undefined,
  }));
}

/**
 * The results of a run process killed for holding a case past its deadline: the
 * cases running longer than the timeout timed out (of those, only the inline
 * ones, if any: another case's handler cannot hold the JS thread); the others
 * get no result and run again in the next run process.
 */
function stuckCases(a: Attempt, stuck: NonNullable<Attempt['stuck']>, dropped: string[]): CaseResult[] {
  const now = performance.now();
  let past = [...a.running.values()].filter(({ started }) => now - started >= stuck.timeoutMs);
  if (past.length === 0) past = [...a.running.values()];
  const inline = past.filter(({ spec }) => a.inline.has(spec.id));
  if (inline.length > 0) past = inline;
  const n = past.length;
  return past.map(({ spec, started }) => ({
    case: spec,
    status: 'failed',
    durationMs: now - started,
    attempts: 1,
    failure: stuckFailure(stuck.timeoutMs, stuck.graceMs, n, inline.length > 0),
    output: [],
    database: dropped.length === 1 && past.length === 1 ? dropped[0] : undefined,
  }));
}

/** Kills what handlers left running in the run process's group (forked workers, subprocesses). */
function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    /* the group is empty */
  }
}

/** Drops the scratch databases the run left (`test_rig_run_<run id>_…`); returns their names. */
function dropScratchDatabases(server: ServerParams, runId: string, withinMs: number): Promise<string[]> {
  return withServer(server, withinMs, async (conn) => {
    const rows = (await conn.query(`SHOW DATABASES LIKE 'test\\_rig\\_run\\_${runId}\\_%'`)).rows as Record<
      string,
      unknown
    >[];
    const names = rows.map((r) => String(Object.values(r)[0]));
    for (const n of names) await conn.query(`DROP DATABASE IF EXISTS ${quoteId(n)}`);
    return names;
  });
}

/**
 * At the start of a run, drops what runs that died (SIGKILL) left behind,
 * within `withinMs`; never fails the run, says what it dropped.
 */
async function cleanDeadRunsAtStart(
  server: ServerParams,
  runId: string,
  withinMs: number,
  note: (text: string) => void,
): Promise<void> {
  const stop = new AbortController();
  try {
    const { dropped } = await withServer(
      server,
      withinMs,
      (conn) => cleanDeadRuns(conn, { ownRunId: runId, signal: stop.signal }),
      stop,
    );
    if (dropped.length)
      note(
        `test-rig: dropped ${dropped.length} scratch database${dropped.length === 1 ? '' : 's'} left by runs that died\n`,
      );
  } catch {
    /* the run reports the server itself; `test-rig clean` does this on demand */
  }
}

/** Runs `work` on a connection of its own, given up (and the connection destroyed) after `withinMs`. */
async function withServer<T>(
  server: ServerParams,
  withinMs: number,
  work: (conn: Connection) => Promise<T>,
  stop?: AbortController,
): Promise<T> {
  let opened: Connection | undefined;
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      stop?.abort();
      opened?.destroy();
      reject(new Error(`the server did not answer within ${withinMs / 1000} s`));
    }, withinMs);
  });
  const done = openAndRun(server, (c) => (opened = c), work);
  done.catch(() => undefined); // settles after the limit when the server answers late
  try {
    return await Promise.race([done, limit]);
  } finally {
    clearTimeout(timer);
  }
}

async function openAndRun<T>(
  server: ServerParams,
  onOpen: (c: Connection) => void,
  work: (conn: Connection) => Promise<T>,
): Promise<T> {
  const conn = await Connection.open(baseParams(server), { name: 'test-rig-supervisor' });
  onOpen(conn);
  try {
    return await work(conn);
  } finally {
    await conn.close().catch(() => conn.destroy());
  }
}
