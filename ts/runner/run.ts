// Running planned cases: one handler per case, driven by the machine with a
// fallback handler (visit semantics), in its own context, connection, lane and
// scratch database; with timeouts, retries, fail-fast, parallel workers and
// graceful cancellation.
import { once } from 'node:events';
import { Connection, type ConnectionParams, type SslOptions } from '../db/connection.js';
import { isTransientError, type RetryPolicy } from '../db/retry.js';
import { isDeadlock, readDeadlock, type Deadlock } from '../db/deadlocks.js';
import { lockWaitVariables, type ServerInfo } from '../db/server.js';
import { Timeline } from '../db/timeline.js';
import { StateMachineError, classifyError } from '../errors.js';
import { StateContext } from '../machine/context.js';
import { StateMachine, type TransitionEvent } from '../machine/machine.js';
import { States, isErrorState } from '../machine/states.js';
import { PythonHandler, type HandlerInfo } from '../python/handlers.js';
import { MachineLane, type StuckAt } from '../python/lane.js';
import type { PyRef } from '../python/native.js';
import { PythonError } from '../python/errors.js';
import { PythonRuntime } from '../python/runtime.js';
import { failureOf } from './discover.js';
import { unmetRequirement } from './features.js';
import type { CaseFailure, CaseResult, CaseSpec, OutputLine, Phase, Reporter, Summary } from './types.js';
import { CaseOutput } from './output.js';
import { takePostMortem, type PostMortem } from './postmortem.js';
import { holdRunLock, RUN_ID_PATTERN, scratchDatabaseName } from './scratch.js';

/** Which cases keep their statement timeline: failed, timed-out and cancelled ones (default), all, or none (not recorded). */
export type TimelineMode = 'failed' | 'all' | 'off';

export interface ServerParams {
  host: string;
  port: number;
  user: string;
  password: string;
  ssl?: SslOptions;
  connectTimeoutMs?: number;
}

export interface RunConfig {
  server: ServerParams;
  /** Case parameters (config file `test.params`, then --param). */
  params?: Record<string, unknown>;
  /** Parallel cases (each on its own connection and lane). Default 1. */
  jobs?: number;
  /** Per-case timeout in ms. Default 300 000. */
  timeoutMs?: number;
  /** Re-runs of a failed case; a later pass makes it flaky. Default 0. */
  retries?: number;
  failFast?: boolean;
  /** Start no case after this many failures (failFast: 1). */
  maxFail?: number;
  /** Machine step limit per case (default: the machine's, 10 000). */
  maxSteps?: number;
  /** Echo every statement as an output line of stream 'sql'. */
  showSql?: boolean;
  /** Lock wait timeout (seconds) of every case connection; default: the server's. */
  lockWaitTimeoutSecs?: number;
  /** Fail a legacy case (its file imports the old rig's test_rig_python) that executed no statement. */
  strictLegacy?: boolean;
  /** Statement timelines: kept for failed cases (default), all cases, or not recorded. */
  timeline?: TimelineMode;
  /** Aborting it (Ctrl-C) cancels running cases and starts no new ones. */
  signal?: AbortSignal;
  reporter?: Reporter;
  /** This run's shard (`i/n`), for the reports. */
  shard?: string;
}

export interface RunOutcome {
  results: CaseResult[];
  summary: Summary;
  server: ServerInfo;
}

export const DEFAULT_TIMEOUT_MS = 300_000;

/**
 * The runner's own statements (CREATE/DROP DATABASE of scratch databases) ride
 * out a server restart: a lost admin connection is reopened, for up to ~10 s.
 * A refused connection counts as the restart still going on (the server was
 * reachable when the run started), unlike on a first connect, which fails fast.
 */
const ADMIN_RETRY: RetryPolicy = {
  maxAttempts: 8,
  baseDelayMs: 200,
  maxDelayMs: 2000,
  multiplier: 2,
  retryOn: (err) => isTransientError(err) || classifyError(err) === 'connection_refused',
};

/** How long a stopped run waits for the server to drop a scratch database. */
export const STOP_CLEANUP_MS = 3000;
/** The start of the output line naming a scratch database that could not be dropped. */
export const LEFT_BEHIND = 'test-rig: could not drop scratch database';

/**
 * Resolves with a reason `ms` after `signal` aborts (at once armed if it has
 * already), never if there is no signal or it never aborts.
 */
function afterStop(signal: AbortSignal | undefined, ms: number): Promise<string> {
  return new Promise((resolve) => {
    if (!signal) return;
    const arm = () => {
      const t = setTimeout(
        () => resolve(`the server did not answer within ${ms / 1000} s of the stop; drop it by hand`),
        ms,
      );
      t.unref();
    };
    if (signal.aborted) arm();
    else signal.addEventListener('abort', arm, { once: true });
  });
}

/** Backtick-quotes an identifier. */
export function quoteId(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

let scratchCounter = 0;
// a supervised run gets its id from the supervisor, which drops what a dead run process left
const RUN_ID = RUN_ID_PATTERN.test(process.env.TEST_RIG_RUN_ID ?? '')
  ? process.env.TEST_RIG_RUN_ID!
  : `${process.pid.toString(36)}${Date.now().toString(36)}`;

/** A unique scratch database name for a case: `test_rig_run_<run>_<n>_<class>` (≤ 64 chars). */
export function scratchName(c: CaseSpec): string {
  return scratchDatabaseName(RUN_ID, ++scratchCounter, c.name);
}

/** Runs the planned cases; never throws for a case's failure, only when the server cannot be reached. */
export async function runCases(cases: CaseSpec[], config: RunConfig): Promise<RunOutcome> {
  const started = performance.now();
  const reporter = config.reporter ?? {};
  const admin = await Connection.open({ ...baseParams(config.server) }, { name: 'test-rig-admin' });
  const server = await admin.detectServer();
  // held while the run lives: `test-rig clean` leaves the databases of a run holding its lock
  await holdRunLock(admin, RUN_ID);
  reporter.start?.({
    cases,
    jobs: config.jobs ?? 1,
    shard: config.shard,
    server: `${server.kind} ${server.version}`,
  });
  const results: (CaseResult | undefined)[] = new Array(cases.length);
  let next = 0;
  let stop = false;
  let failures = 0;
  const maxFail = config.maxFail ?? (config.failFast ? 1 : undefined);
  const signal = config.signal;
  const worker = async () => {
    while (!stop && !signal?.aborted && next < cases.length) {
      const index = next++;
      const c = cases[index];
      reporter.caseStart?.(c);
      const r = await runCase(c, config, admin, server);
      results[index] = r;
      reporter.caseEnd?.(r);
      if (r.status === 'failed' && maxFail !== undefined && ++failures >= maxFail) stop = true;
    }
  };
  try {
    const jobs = Math.max(1, Math.min(config.jobs ?? 1, cases.length || 1));
    await Promise.all(Array.from({ length: jobs }, worker));
  } finally {
    if (signal?.aborted) {
      // interrupted: a server that does not answer must not hold the stop up
      const closed = await withTimeout(
        admin.close().then(() => true),
        STOP_CLEANUP_MS,
      ).catch(() => false);
      if (!closed) admin.destroy();
    } else {
      await admin.close().catch(() => admin.destroy());
    }
  }
  const done = results.filter((r): r is CaseResult => r !== undefined);
  const summary = summarize(cases.length, done, performance.now() - started, Boolean(signal?.aborted));
  await reporter.end?.(summary, done);
  return { results: done, summary, server };
}

/** The counts of a run of `planned` cases, of which `done` have a result (the rest did not run). */
export function summarize(
  planned: number,
  done: CaseResult[],
  durationMs: number,
  interrupted: boolean,
): Summary {
  const count = (s: CaseResult['status']) => done.filter((r) => r.status === s).length;
  return {
    total: planned,
    passed: count('passed'),
    failed: count('failed'),
    skipped: count('skipped'),
    flaky: count('flaky'),
    cancelled: count('cancelled'),
    notRun: planned - done.length,
    durationMs,
    interrupted,
  };
}

/** The connection parameters of the run's server, no database (each connection names its own). */
export function baseParams(s: ServerParams): ConnectionParams {
  return {
    host: s.host,
    port: s.port,
    user: s.user,
    password: s.password,
    ssl: s.ssl,
    connectTimeoutMs: s.connectTimeoutMs,
  };
}

/** One case with its retries. */
async function runCase(
  c: CaseSpec,
  config: RunConfig,
  admin: Connection,
  server: ServerInfo,
): Promise<CaseResult> {
  const started = performance.now();
  const base = { case: c, output: [] as OutputLine[], attempts: 1 };
  if (c.broken) return { ...base, status: 'failed', failure: c.broken, durationMs: 0 };
  let reason: string | undefined;
  try {
    reason = unmetRequirement(c.requires, server);
  } catch (err) {
    return {
      ...base,
      status: 'failed',
      failure: { message: `${c.name}.requires: ${(err as Error).message}` },
      durationMs: 0,
    };
  }
  if (reason) return { ...base, status: 'skipped', skipReason: reason, durationMs: 0 };
  const retries = Math.max(0, config.retries ?? 0);
  const earlier: CaseFailure[] = [];
  let teardownError: CaseFailure | undefined; // an earlier attempt's stays reported
  for (let attempt = 1; ; attempt++) {
    const r = await runAttempt(c, config, admin, server);
    r.attempts = attempt;
    r.durationMs = performance.now() - started;
    teardownError ??= r.teardownError;
    if (teardownError) r.teardownError = teardownError;
    if (r.status !== 'failed' || attempt > retries || config.signal?.aborted) {
      if (earlier.length) {
        r.earlierFailures = earlier;
        if (r.status === 'passed') r.status = 'flaky';
      }
      return r;
    }
    earlier.push(r.failure!);
  }
}

/** What one attempt holds from its setup to its teardown. */
interface Attempt {
  readonly c: CaseSpec;
  readonly config: RunConfig;
  readonly admin: Connection;
  readonly rt: PythonRuntime;
  readonly result: CaseResult;
  readonly lane: MachineLane;
  readonly ctx: StateContext;
  readonly database: string;
  /** Aborted by the case's timeout or the run's stop. */
  readonly controller: AbortController;
  readonly deadline: number;
  readonly emit: (line: OutputLine) => void;
  /** The scratch database exists (teardown drops it). */
  created: boolean;
  timedOut: boolean;
  /** Statements the handler ran (counted for --strict-legacy only). */
  statements: number;
  readonly countStatements: boolean;
}

/**
 * One attempt, in the three phases pytest has: setup (scratch database, connection,
 * handler), call (the machine), teardown (release, close, drop). A failed setup or
 * call is the case's failure, with its phase; a failed teardown is its own error
 * (`teardownError`), whatever the call did.
 */
async function runAttempt(
  c: CaseSpec,
  config: RunConfig,
  admin: Connection,
  server: ServerInfo,
): Promise<CaseResult> {
  const reporter = config.reporter ?? {};
  // bounded: the first and last lines, and how much was dropped in between
  const output = new CaseOutput();
  const result: CaseResult = {
    case: c,
    status: 'passed',
    durationMs: 0,
    attempts: 1,
    output: [],
    states: [],
  };
  const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const mode = config.timeline ?? 'failed';
  const timeline = mode === 'off' ? undefined : new Timeline();
  const a = newAttempt(c, config, admin, server, result, timeline, (line) =>
    reporter.output?.(c, output.push(line)),
  );
  // Before a stuck case is torn down, the post-mortem notes where it is stuck
  // (bounded: 2 s per query, 3 s in all); the abort follows it.
  let postMortem: Promise<PostMortem | undefined> | undefined;
  const stop = (reason: Error, why: PostMortem['reason']) => {
    if (postMortem || a.controller.signal.aborted) return;
    postMortem = explainStuck(a, timeline, why).finally(() => a.controller.abort(reason));
  };
  const onOuterAbort = () => stop(new Error('interrupted'), 'interrupted');
  if (config.signal?.aborted) a.controller.abort(new Error('interrupted'));
  config.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const timeOut = () => {
    a.timedOut = true;
    stop(new Error(`timed out after ${formatSeconds(timeoutMs)}`), 'timeout');
  };
  const timer = setTimeout(timeOut, timeoutMs);
  let phase: Phase = 'setup';
  try {
    const handler = await setUp(a, (lines, chars) => {
      output.drop(lines, chars);
      reporter.output?.(c, {
        stream: 'stderr',
        text: `test-rig: … ${lines} lines (${chars} characters) of output dropped here: printed faster than they could be shown …`,
      });
    });
    phase = 'call';
    await call(a, handler, config.maxSteps);
    // finished while its post-mortem was being taken: it still ran out of time
    if (postMortem) {
      await postMortem;
      throw a.controller.signal.reason as Error;
    }
  } catch (err) {
    // failed past the deadline (an interrupted inline handler) before the timer could run
    if (!a.timedOut && !a.controller.signal.aborted && performance.now() >= a.deadline) timeOut();
    await postMortem;
    result.status = config.signal?.aborted && !a.timedOut ? 'cancelled' : 'failed';
    // the handler may still be running in its thread: interrupt it and never reuse the lane
    // (the handler's own abort listener did so already when its visit was in flight)
    if (a.controller.signal.aborted) a.lane.abandon();
    const interrupted = config.signal?.aborted === true;
    result.failure = { ...describeFailure(err, a.timedOut, timeoutMs, interrupted, a.lane.stuck), phase };
  } finally {
    clearTimeout(timer);
    config.signal?.removeEventListener('abort', onOuterAbort);
    await postMortem;
    if (timeline) {
      const deadlocks = await explainDeadlocks(timeline, a.ctx.server, config.server);
      if (deadlocks.length) result.deadlocks = deadlocks;
    }
    const failed = await tearDown(a);
    if (failed) result.teardownError = failed;
    result.output = output.lines();
    if (timeline && (mode === 'all' || result.status !== 'passed')) result.timeline = timeline.toJSON();
  }
  return result;
}

/** The attempt's context, lane and scratch database name; nothing opened yet. */
function newAttempt(
  c: CaseSpec,
  config: RunConfig,
  admin: Connection,
  server: ServerInfo,
  result: CaseResult,
  timeline: Timeline | undefined,
  emit: (line: OutputLine) => void,
): Attempt {
  const database = scratchName(c);
  result.database = database;
  // --strict-legacy counts the statements the handler runs, on every connection
  // of the case, through the echo hook (which is otherwise set only for --show-sql)
  const countStatements = config.strictLegacy === true && c.legacy === true;
  const rt = PythonRuntime.get();
  const a: Attempt = {
    c,
    config,
    admin,
    rt,
    result,
    lane: new MachineLane(rt),
    database,
    controller: new AbortController(),
    deadline: performance.now() + (config.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    emit,
    created: false,
    timedOut: false,
    statements: 0,
    countStatements,
    ctx: new StateContext({
      host: config.server.host,
      port: config.server.port,
      username: config.server.user,
      password: config.server.password,
      database,
      params: { ...(config.params ?? {}) },
      connectionOptions: {
        ssl: config.server.ssl,
        connectTimeoutMs: config.server.connectTimeoutMs,
        localInfile: true,
        sessionVariables:
          config.lockWaitTimeoutSecs !== undefined
            ? lockWaitVariables(server.kind, config.lockWaitTimeoutSecs)
            : undefined,
        echo:
          config.showSql || countStatements
            ? (text) => {
                a.statements++;
                if (config.showSql) emit({ stream: 'sql', text: text.replace(/\s*\n\s*/g, ' ').trim() });
              }
            : undefined,
        timeline,
      },
    }),
  };
  return a;
}

/** Setup: the scratch database, the case's connection and its handler instance. */
async function setUp(a: Attempt, dropped: (lines: number, chars: number) => void): Promise<PythonHandler> {
  const { ctx, config, database } = a;
  // Setup is under the case's timeout and Ctrl-C too (a handler's __init__ may hang).
  const bounded = <T>(work: Promise<T>): Promise<T> => untilAborted(work, a.controller.signal);
  await bounded(a.admin.query(`CREATE DATABASE ${quoteId(database)}`, undefined, { retry: ADMIN_RETRY }));
  a.created = true;
  const conn = await bounded(
    Connection.open(
      {
        ...baseParams(config.server),
        database,
        localInfile: true,
        sessionVariables: ctx.connectionOptions.sessionVariables,
      },
      { name: 'main', echo: ctx.connectionOptions.echo, timeline: ctx.connectionOptions.timeline },
    ),
  );
  ctx.connection = conn;
  ctx.connections.set(conn.name, conn);
  ctx.server = await bounded(conn.detectServer());
  ctx.serverVersion = ctx.server.raw;
  const handler = await bounded(loadHandler(a.rt, a.c, a.lane, ctx.params));
  const mirror = a.rt.mirror(ctx);
  mirror.output = (text, stream) => {
    for (const line of text.replace(/\n$/, '').split('\n')) a.emit({ stream, text: line });
  };
  mirror.dropped = dropped;
  return handler;
}

/** Call: the machine runs the handler; --strict-legacy fails a legacy handler that ran no statement. */
async function call(a: Attempt, handler: PythonHandler, maxSteps: number | undefined): Promise<void> {
  const { ctx, result } = a;
  const machine = new StateMachine({ fallbackHandler: handler });
  machine.on('transition', (e: TransitionEvent) => result.states!.push(e.to));
  result.states!.push(States.Initial);
  ctx.deadline = a.deadline; // an inline handler holding the JS thread past it is interrupted
  a.statements = 0; // only the handler's own: not the runner's SELECT VERSION()
  await machine.run(ctx, { signal: a.controller.signal, maxSteps });
  if (a.countStatements && a.statements === 0) {
    result.status = 'failed';
    result.failure = {
      message: `${a.c.name} executed no SQL statement (--strict-legacy: an old-style handler must run at least one)`,
      type: 'StrictLegacy',
      phase: 'call',
    };
  }
}

/**
 * Teardown: the context's Python side, connections and lane are released, then the
 * scratch database is dropped. A drop that fails (or, after a stop, does not answer) is
 * the teardown's error; it is also kept as an output line naming the database.
 */
async function tearDown(a: Attempt): Promise<CaseFailure | undefined> {
  const { ctx, config, database } = a;
  if (a.controller.signal.aborted) {
    a.lane.abandon();
    for (const conn of ctx.connections.values()) conn.destroy();
  }
  await withTimeout(a.rt.release(ctx), 5000).catch(() => undefined);
  await withTimeout(ctx.closeConnections(), 5000).catch(() => undefined);
  a.lane.release();
  if (!a.created) return undefined;
  const dropped = a.admin
    .query(`DROP DATABASE IF EXISTS ${quoteId(database)}`, undefined, { retry: ADMIN_RETRY })
    .then(
      () => undefined,
      (err: Error) => err.message,
    );
  // a graceful stop must end even when the server no longer answers
  const why = await Promise.race([dropped, afterStop(config.signal, STOP_CLEANUP_MS)]);
  if (why === undefined) return undefined;
  const message = `${LEFT_BEHIND} ${database}: ${why}`;
  a.emit({ stream: 'stderr', text: message });
  return { message, type: 'Teardown', phase: 'teardown' };
}

/** Where a stuck case is stuck: its Python threads and its connections' server-side state. */
async function explainStuck(
  a: Attempt,
  timeline: Timeline | undefined,
  why: PostMortem['reason'],
): Promise<PostMortem | undefined> {
  const { ctx } = a;
  if (!ctx.server || ctx.connections.size === 0) return undefined;
  const pm = await takePostMortem({
    reason: why,
    timeline: timeline ?? new Timeline(),
    connections: ctx.connections,
    kind: ctx.server.kind,
    python: () => a.lane.threadsNow(a.c.suiteDir),
    open: () => inspector(a.config.server),
  });
  a.result.postmortem = pm;
  return pm;
}

/** A connection for reading the server's tables about a case (its post-mortem, its deadlocks): no retries, quick to give up. */
function inspector(server: ServerParams): Promise<Connection> {
  return Connection.open(
    { ...baseParams(server), connectTimeoutMs: Math.min(server.connectTimeoutMs ?? 2000, 2000) },
    { name: 'test-rig-inspector', retry: { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0, multiplier: 1 } },
  );
}

/** The server's record of the latest deadlock, when a statement of the case ran into one. */
async function explainDeadlocks(
  timeline: Timeline,
  server: ServerInfo | undefined,
  params: ServerParams,
): Promise<Deadlock[]> {
  const entries = timeline.entries();
  if (!server || !entries.some(isDeadlock)) return [];
  let conn: Connection | undefined;
  try {
    conn = await inspector(params);
    // no record (no PROCESS privilege, say) leaves the failed statement in the timeline to tell
    const d = await readDeadlock(conn, server.kind, entries, () => undefined);
    return d ? [d] : [];
  } catch {
    return [];
  } finally {
    conn?.destroy();
  }
}

/**
 * Instantiates the case's class, with the case parameters, on its lane: the class
 * discovery imported (a file is imported once per run), else the file is imported now.
 */
async function loadHandler(
  rt: PythonRuntime,
  c: CaseSpec,
  lane: MachineLane,
  params: Record<string, unknown>,
): Promise<PythonHandler> {
  const found: [PyRef, HandlerInfo][] = c.found
    ? [[c.found.cls, c.found.info]]
    : ((await rt.submit(lane.id, rt.fn.load_handlers, null, [c.file])) as [PyRef, HandlerInfo][]);
  const entry = found.find(([, info]) => info.name === c.name);
  if (!entry) throw new Error(`class ${c.name} is no longer defined in ${c.fileName}`);
  let instance: PyRef;
  try {
    instance = (await rt.submit(lane.id, rt.fn.instantiate, null, [entry[0], params])) as PyRef;
  } catch (err) {
    if (!(err instanceof PythonError)) throw err;
    const what = err.function === '__init__' ? `${c.name}.__init__ raised` : `cannot create ${c.name}:`;
    throw new Error(`${what} ${err.pyType}: ${err.pyMessage}`, { cause: err });
  }
  return new PythonHandler(rt, instance, entry[1], lane);
}

/** Rejects with the signal's reason once it aborts; `work` is left to finish (or not) on its own. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  work.catch(() => undefined); // may reject after we stopped waiting
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  return Promise.race([work, aborted]).finally(() => signal.removeEventListener('abort', onAbort!));
}

function describeFailure(
  err: unknown,
  timedOut: boolean,
  timeoutMs: number,
  interrupted: boolean,
  stuck: StuckAt | undefined,
): CaseFailure {
  // Where the handler was when the run gave up: the method and line its lane was
  // stuck in (a fused visit starts in enter, so the machine's method may be an earlier one).
  const method = stuck?.method ?? (err instanceof StateMachineError ? err.method : undefined);
  const line = stuck?.file ? ` at ${stuck.file}:${stuck.line ?? 0}` : '';
  const inHandler =
    err instanceof StateMachineError && err.handler
      ? `, in ${c_name(err)}${method ? `.${method}` : ''}${line}`
      : line && `,${line}`;
  const where =
    err instanceof StateMachineError ? ` (in state '${err.state}'${inHandler})` : line && ` (${line.trim()})`;
  if (timedOut)
    return {
      message: `timed out after ${formatSeconds(timeoutMs)}${where}`,
      type: 'Timeout',
      where: stuck?.file ? `${stuck.file}:${stuck.line ?? 0}` : undefined,
    };
  if (interrupted) return { message: `cancelled by Ctrl-C${where}`, type: 'Cancelled' };
  const f = failureOf(err);
  if (err instanceof StateMachineError && err.cause !== undefined && err.method) {
    const cause = err.cause;
    const state = ` (in state '${err.state}')`;
    if (cause instanceof PythonError)
      f.message = `${c_name(err)}.${err.method} raised ${cause.pyType}: ${cause.pyMessage}${state}`;
    else if (cause instanceof Error) f.message = `${cause.message}${state}`;
  }
  if (err instanceof StateMachineError && isErrorState(err.state)) {
    f.message = `returned the error state '${err.state}'`;
    f.type = 'ErrorState';
  }
  return f;
}

/** The class name from a machine handler description `Name (file:line)`. */
function c_name(err: StateMachineError): string {
  return (err.handler ?? 'handler').replace(/\s*\(.*\)$/, '');
}

function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : s.toFixed(1)}s`;
}

/** `p`'s value, or undefined once `ms` have passed (p is left to settle on its own). */
function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  const limit = once(AbortSignal.timeout(ms), 'abort').then(() => undefined);
  return Promise.race([p, limit]);
}
