// runMonitor(): what `test-rig monitor` runs. Wires an ImportJobMonitor to one of the
// renderers, applies --duration / --until-done / --job, and turns the outcome into an
// exit code (0 all finished, 1 a job failed or was cancelled, 2 polling failed fatally).
import { performance } from 'node:perf_hooks';
import { ServerClock } from './clock.js';
import { ImportJobMonitor } from './monitor.js';
import { LiveTable, jobToJson, jsonLine, plainHeader, plainJobLine, shouldUseColor } from './render.js';
import type { QueryRunner, TrackedJob } from './types.js';
import { EXIT_HANDLER_ERROR, EXIT_JOB_FAILED, EXIT_OK, EXIT_POLL_ERROR } from '../exit-codes.js';

/** A job event as runMonitor hands it to `onEvents`. */
export interface MonitorEventRecord {
  name: 'discovered' | 'phase' | 'progress' | 'finished' | 'failed' | 'cancelled';
  job: TrackedJob;
  /** The `--json` line's object: `{event, time, server_time, job: {…}, previous?}`. */
  json: Record<string, unknown>;
}

export interface RunMonitorOptions {
  connection: QueryRunner;
  /** Poll interval in milliseconds (>= 0; 0 = back to back). Default 1000. */
  interval?: number;
  /** Stop after this many seconds. */
  duration?: number;
  /**
   * Stop once every tracked job has ended. With no active job at the first poll this
   * stops at once ("No active import jobs found") unless a duration is also given, in
   * which case it waits up to the duration for a job to appear.
   */
  untilDone?: boolean;
  /** Watch only this job (SHOW IMPORT JOB <id>); stops when it ends. */
  jobId?: number;
  /** JSON lines instead of text. */
  json?: boolean;
  /** Where to write. Default process.stdout. */
  output?: NodeJS.WritableStream;
  /** Where error messages go in text modes (JSON mode keeps its error lines on `output`). Default process.stderr. */
  errorOutput?: NodeJS.WritableStream;
  /** Live table (true) or plain lines (false). Default: output.isTTY. */
  isTTY?: boolean;
  /** Consulted for NO_COLOR. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Poll SHOW RAW IMPORT JOB(S). */
  raw?: boolean;
  /** Also count jobs that had ended before the monitor started. */
  includeHistory?: boolean;
  /** Plain mode prints a status block at most this often (ms), plus on every job end. Default max(interval, 1000). */
  plainEvery?: number;
  /**
   * Aborting stops the monitor (e.g. on SIGINT); the exit code still reflects job outcomes,
   * unless the abort reason has a numeric `exitCode` (the CLI's Ctrl-C: 130, SIGTERM: 143).
   */
  signal?: AbortSignal;
  /**
   * Receives each poll's job events, in order, once the poll is done (not called for a poll
   * without events). The next poll waits for it. A throw or rejection stops monitoring with
   * exit code 3 (EXIT_HANDLER_ERROR). `test-rig monitor --python-module` uses it.
   */
  onEvents?: (events: MonitorEventRecord[], monitor: ImportJobMonitor) => void | Promise<void>;
}

const ER_PARSE_ERROR = 1064;
const NO_IMPORT_JOBS = 'this server does not support SHOW IMPORT JOBS';
const NO_IMPORT_JOBS_HINT =
  'monitor follows IMPORT INTO jobs, which TiDB 7.2 or later has; MySQL and MariaDB have none';

type Mode = 'json' | 'table' | 'plain';

/** The server clock, read first so even the 'start' line carries server_time; null (reported) if it cannot be read. */
async function syncClock(
  o: RunMonitorOptions,
  mode: Mode,
  out: NodeJS.WritableStream,
  errOut: NodeJS.WritableStream,
): Promise<ServerClock | null> {
  try {
    return await ServerClock.sync(o.connection);
  } catch (e) {
    const msg = (e as Error).message;
    if (mode === 'json') out.write(jsonLine('error', '', { message: msg, fatal: true }));
    else errOut.write(`error: monitor: ${msg}\n`);
    return null;
  }
}

/**
 * The text renderers, throttled: the live table redraws at most every 100 ms when something
 * changed (and every second for the clock); plain mode prints a block every `plainEvery` ms
 * or after a job ended. JSON mode draws nothing here.
 */
class ProgressView {
  /** Something changed since the last draw. */
  dirty = true;
  #lastDraw = -Infinity;
  #endedSinceBlock = false;
  readonly #table: LiveTable | null;

  readonly #mode: Mode;
  readonly #out: NodeJS.WritableStream;
  readonly #plainEvery: number;
  readonly #jobs: { all: () => Iterable<TrackedJob>; visible: () => TrackedJob[] };
  readonly #header: () => string;
  readonly #remaining: () => number | null;

  constructor(
    mode: Mode,
    out: NodeJS.WritableStream,
    env: NodeJS.ProcessEnv,
    plainEvery: number,
    jobs: { all: () => Iterable<TrackedJob>; visible: () => TrackedJob[] },
    header: () => string,
    remaining: () => number | null,
  ) {
    this.#mode = mode;
    this.#out = out;
    this.#plainEvery = plainEvery;
    this.#jobs = jobs;
    this.#header = header;
    this.#remaining = remaining;
    this.#table = mode === 'table' ? new LiveTable(out, shouldUseColor(true, env)) : null;
  }

  /** A job changed; `ended` also forces the next plain block. */
  changed(ended: boolean): void {
    this.dirty = true;
    if (ended) this.#endedSinceBlock = true;
  }

  render(force: boolean): void {
    const now = performance.now();
    if (this.#mode === 'table') {
      if (force || (this.dirty && now - this.#lastDraw >= 100) || now - this.#lastDraw >= 1000) {
        this.#table!.draw(this.#jobs.all(), this.#header());
        this.#lastDraw = now;
        this.dirty = false;
      }
    } else if (this.#mode === 'plain') {
      if (force || this.#endedSinceBlock || now - this.#lastDraw >= this.#plainEvery) {
        this.#drawPlain();
        this.#lastDraw = now;
        this.#endedSinceBlock = false;
        this.dirty = false;
      }
    }
  }

  #drawPlain(): void {
    const jobs = this.#jobs.visible();
    let s = '\n' + plainHeader(this.#remaining()) + '\n';
    if (jobs.length === 0) s += 'No active import jobs found\n';
    for (const j of jobs) s += plainJobLine(j) + '\n';
    this.#out.write(s);
  }
}

/** The exit code, most serious first: handler error (3) > polling failed (2) > a job failed or was cancelled (1) > 0. */
function exitCodeFor(handlerFailed: boolean, pollFailed: boolean, jobFailed: boolean): number {
  if (handlerFailed) return EXIT_HANDLER_ERROR;
  if (pollFailed) return EXIT_POLL_ERROR;
  return jobFailed ? EXIT_JOB_FAILED : EXIT_OK;
}

/** The summary line's job counts by status. */
function jobCounts(jobs: TrackedJob[]): Record<string, number> {
  const count = (s: string): number => jobs.filter((j) => j.status === s).length;
  return {
    total: jobs.length,
    pending: count('pending'),
    running: count('running'),
    finished: count('finished'),
    failed: count('failed'),
    cancelled: count('cancelled'),
  };
}

export async function runMonitor(o: RunMonitorOptions): Promise<number> {
  const out = o.output ?? process.stdout;
  const errOut = o.errorOutput ?? process.stderr;
  const isTTY = o.isTTY ?? Boolean((out as NodeJS.WriteStream).isTTY);
  const interval = o.interval ?? 1000;
  const mode: Mode = o.json ? 'json' : isTTY ? 'table' : 'plain';
  const clock = await syncClock(o, mode, out, errOut);
  if (!clock) return EXIT_POLL_ERROR;
  let queued: MonitorEventRecord[] = [];
  let handlerError = null as Error | null; // set from the afterPoll hook
  const deliver = async (): Promise<void> => {
    if (queued.length === 0 || handlerError || !o.onEvents) return;
    const events = queued;
    queued = [];
    try {
      await o.onEvents(events, monitor);
    } catch (e) {
      handlerError = e instanceof Error ? e : new Error(String(e));
      finish('handler error');
    }
  };
  const monitor = new ImportJobMonitor(o.connection, {
    interval,
    jobId: o.jobId,
    raw: o.raw,
    includeHistory: o.includeHistory,
    clock,
    afterPoll: o.onEvents ? deliver : undefined,
  });
  const t0 = performance.now();
  const deadline = o.duration !== undefined ? t0 + o.duration * 1000 : null;
  const remaining = (): number | null => (deadline === null ? null : (deadline - performance.now()) / 1000);
  const serverTime = (): string => monitor.serverClock?.format(monitor.serverNow(), true) ?? '';
  const write = (s: string): void => {
    out.write(s);
  };
  let pollErrors = 0;

  const visible = (): TrackedJob[] => [...monitor.jobs.values()].filter((j) => !j.historical);
  const header = (): string =>
    `Import jobs @ ${serverTime().slice(0, 19)}` +
    (deadline !== null ? ` (${Math.max(0, Math.ceil(remaining() ?? 0))}s remaining)` : '');
  const view = new ProgressView(
    mode,
    out,
    o.env ?? process.env,
    o.plainEvery ?? Math.max(interval, 1000),
    { all: () => monitor.jobs.values(), visible },
    header,
    remaining,
  );

  const json = (event: Parameters<typeof jsonLine>[0], fields: Record<string, unknown>): void => {
    if (mode === 'json') write(jsonLine(event, serverTime(), fields));
  };
  const record = (
    name: MonitorEventRecord['name'],
    job: TrackedJob,
    fields: Record<string, unknown>,
  ): void => {
    if (!o.onEvents || handlerError) return;
    const line = { event: name, time: new Date().toISOString(), server_time: serverTime(), ...fields };
    queued.push({ name, job, json: line });
  };
  const onJob =
    (event: 'discovered' | 'progress' | 'finished' | 'failed' | 'cancelled') =>
    (job: TrackedJob): void => {
      view.changed(event !== 'discovered' && event !== 'progress');
      const fields = { job: jobToJson(job) };
      json(event, fields);
      record(event, job, fields);
    };
  for (const ev of ['discovered', 'progress', 'finished', 'failed', 'cancelled'] as const)
    monitor.on(ev, onJob(ev));
  monitor.on('phase', (job, previous) => {
    view.changed(false);
    const fields = { job: jobToJson(job), previous };
    json('phase', fields);
    record('phase', job, fields);
  });
  // A server without SHOW IMPORT JOBS (MySQL, MariaDB, TiDB before IMPORT INTO) answers
  // with a syntax error: no later poll can succeed, so that stops the monitor (exit 2).
  let unsupported = false;
  monitor.on('error', (err) => {
    pollErrors++;
    const e = err as { fatal?: boolean; errno?: number; errorClass?: string };
    const noImportJobs = e.errno === ER_PARSE_ERROR || e.errorClass === 'syntax';
    if (mode === 'json') json('error', { message: err.message, fatal: Boolean(e.fatal) || noImportJobs });
    else if (noImportJobs)
      errOut.write(`error: ${NO_IMPORT_JOBS}: ${err.message} (hint: ${NO_IMPORT_JOBS_HINT})\n`);
    else errOut.write(`monitor: poll failed: ${err.message}\n`);
    if (noImportJobs) {
      unsupported = true;
      finish('unsupported');
    }
  });

  // ---- stop conditions, checked after every poll
  let sawActive = false;
  let stopReason: string | null = null;
  function finish(reason: string): void {
    if (stopReason === null) {
      stopReason = reason;
      void monitor.stop();
    }
  }
  monitor.on('poll', () => {
    if (handlerError) return;
    const jobs = visible();
    const active = jobs.some((j) => !j.ended);
    if (jobs.length > 0) sawActive = true;
    view.render(false);
    if (deadline !== null && performance.now() >= deadline) return finish('duration');
    if (o.jobId !== undefined && jobs.length > 0 && !active) return finish('job ended');
    if (o.untilDone && !active && (sawActive || deadline === null)) return finish('all jobs ended');
  });
  const onAbort = (): void => finish('aborted');
  o.signal?.addEventListener('abort', onAbort, { once: true });
  // The deadline also needs a timer: a poll may hang or the interval may be long.
  const timer = deadline !== null ? setTimeout(() => finish('duration'), Math.max(0, deadline - t0)) : null;

  try {
    json('start', {
      statement: monitor.statement,
      interval_ms: interval,
      duration_s: o.duration ?? null,
      until_done: Boolean(o.untilDone),
      job_id: o.jobId ?? null,
    });
    if (o.signal?.aborted) finish('aborted');
    else await monitor.start();
    await monitor.whenStopped();
  } catch (e) {
    // Defensive: start() only awaits the first poll, whose errors go to 'error'.
    const msg = (e as Error).message;
    if (mode === 'json') json('error', { message: msg, fatal: true });
    else errOut.write(`error: monitor: ${msg}\n`);
    return EXIT_POLL_ERROR;
  } finally {
    if (timer) clearTimeout(timer);
    o.signal?.removeEventListener('abort', onAbort);
  }

  const jobs = visible();
  const bad = jobs.filter((j) => j.status === 'failed' || j.status === 'cancelled');
  // Stopped with a reason that carries an exit code (the CLI's Ctrl-C: 130, SIGTERM: 143).
  const stopCode = (o.signal?.aborted ? (o.signal.reason as { exitCode?: unknown }) : undefined)?.exitCode;
  const code =
    typeof stopCode === 'number'
      ? stopCode
      : exitCodeFor(Boolean(handlerError), Boolean(monitor.fatalError) || unsupported, bad.length > 0);
  if (mode === 'json') {
    json('summary', {
      exit_code: code,
      reason: unsupported ? 'no SHOW IMPORT JOBS' : monitor.fatalError ? 'poll error' : stopReason,
      ...(handlerError ? { handler_error: handlerError.message } : {}),
      polls: monitor.pollCount,
      poll_errors: pollErrors,
      jobs: jobCounts(jobs),
    });
  } else if (!unsupported) {
    // (a server without import jobs was reported on errOut, and there is nothing to show)
    if (view.dirty || mode === 'table') view.render(true);
    for (const j of bad) write(`Job ${j.id} ${j.status}: ${j.resultMessage || '(no Result_Message)'}\n`);
    if (monitor.fatalError) errOut.write(`error: monitor stopped: ${monitor.fatalError.message}\n`);
    if (handlerError) errOut.write(`error: monitor event handler failed: ${handlerError.message}\n`);
    write(`Import job monitoring completed (${stopReason ?? 'stopped'}; exit code ${code})\n`);
  }
  return code;
}
