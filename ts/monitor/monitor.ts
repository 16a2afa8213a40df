// ImportJobMonitor: polls SHOW IMPORT JOBS (or SHOW IMPORT JOB <id>) on one connection,
// one statement per tick, tracks every job it has seen and emits typed events.
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { ServerClock } from './clock.js';
import { parseImportJobRow, wallMs } from './parse.js';
import { TERMINAL_STATUSES, type ImportJobRow, type QueryRunner, type TrackedJob } from './types.js';

export interface MonitorOptions {
  /** Milliseconds between polls (measured start to start); 0 = back to back. Default 1000. */
  interval?: number;
  /** Watch one job with `SHOW IMPORT JOB <id>` instead of listing all. */
  jobId?: number;
  /** Poll `SHOW RAW IMPORT JOBS` / `SHOW RAW IMPORT JOB <id>` (newest servers). */
  raw?: boolean;
  /** Override the statement (e.g. `SHOW IMPORT JOBS WHERE …`); rows must carry Job_ID. */
  statement?: string;
  /** Count jobs that had already ended at the first poll like any other. Default false. */
  includeHistory?: boolean;
  /** Use this clock instead of reading NOW(6) at start (tests, benchmarks). */
  clock?: ServerClock;
  /**
   * Awaited by the polling loop after each poll's events, before the next poll: lets slow
   * listeners (e.g. Python handlers) hold polling back instead of queueing events. A
   * rejection is reported like a failed poll.
   */
  afterPoll?: () => void | Promise<void>;
}

export interface PollInfo {
  /** 1-based poll number. */
  poll: number;
  /** Server session wall-clock time of the poll (see wallMs). */
  serverNow: number;
  rows: number;
  /** Round-trip time of the statement in ms. */
  queryMs: number;
}

export interface PhaseChange {
  status: string;
  phase: string;
}

/** Event name → listener arguments. */
export interface MonitorEvents {
  discovered: [job: TrackedJob];
  phase: [job: TrackedJob, previous: PhaseChange];
  progress: [job: TrackedJob];
  finished: [job: TrackedJob];
  failed: [job: TrackedJob];
  cancelled: [job: TrackedJob];
  poll: [info: PollInfo];
  /** A poll failed; the monitor keeps polling unless the error is fatal (connection lost). */
  error: [error: Error];
  stopped: [reason: 'stopped' | 'fatal'];
}

const yieldToLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

export class ImportJobMonitor extends EventEmitter<MonitorEvents> {
  readonly interval: number;
  readonly statement: string;
  private readonly tracked = new Map<number, TrackedJob>();
  /** The raw row each job was last parsed from, to skip re-parsing rows that did not change. */
  private readonly lastRaw = new Map<number, Record<string, unknown>>();
  private idKey = 'Job_ID';
  private clock: ServerClock | undefined;
  private polls = 0;
  private running = false;
  private loopDone: Promise<void> = Promise.resolve();
  private wake: (() => void) | null = null;
  private fatal: Error | null = null;
  private stopRequested = false;

  constructor(
    private readonly conn: QueryRunner,
    private readonly options: MonitorOptions = {},
  ) {
    super();
    const iv = options.interval ?? 1000;
    if (!Number.isFinite(iv) || iv < 0) throw new RangeError(`interval must be >= 0 ms, got ${iv}`);
    this.interval = iv;
    const raw = options.raw ? 'RAW ' : '';
    this.statement =
      options.statement ??
      (options.jobId !== undefined
        ? `SHOW ${raw}IMPORT JOB ${Math.trunc(options.jobId)}`
        : `SHOW ${raw}IMPORT JOBS`);
    this.clock = options.clock;
  }

  /** Every job seen so far, by Job_ID. */
  get jobs(): ReadonlyMap<number, TrackedJob> {
    return this.tracked;
  }

  get pollCount(): number {
    return this.polls;
  }

  /** The error that stopped the monitor, if any. */
  get fatalError(): Error | null {
    return this.fatal;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** The server's current session wall-clock time (after the first poll or start()). */
  serverNow(): number {
    return this.clock ? this.clock.now() : Date.now();
  }

  get serverClock(): ServerClock | undefined {
    return this.clock;
  }

  /** Reads the server clock, then polls until stop(). Resolves once the first poll is done. */
  async start(): Promise<void> {
    if (this.running || this.stopRequested) return;
    this.running = true;
    this.clock ??= await ServerClock.sync(this.conn);
    if (this.stopRequested) {
      this.running = false;
      return;
    }
    let first: () => void = () => undefined;
    const firstDone = new Promise<void>((r) => (first = r));
    this.loopDone = this.loop(first);
    await firstDone;
  }

  /** Stops polling; resolves when the in-flight poll (if any) has finished. */
  async stop(): Promise<void> {
    this.stopRequested = true;
    this.running = false;
    this.wake?.();
    await this.loopDone;
  }

  /** Resolves when the polling loop ends (stop() or a fatal error). */
  whenStopped(): Promise<void> {
    return this.loopDone;
  }

  private async loop(firstDone: () => void): Promise<void> {
    let lastYield = performance.now();
    while (this.running) {
      const started = performance.now();
      try {
        // pollOnce() inlined (start() has read the clock): one async layer less per poll.
        const { rows } = await this.conn.query(this.statement);
        this.record(rows, performance.now() - started);
        if (this.options.afterPoll) await this.options.afterPoll();
      } catch (e) {
        const err = e instanceof Error ? e : new Error(String(e));
        if (this.listenerCount('error') > 0) this.emit('error', err);
        if ((err as { fatal?: boolean }).fatal) {
          this.fatal = err;
          this.running = false;
        }
      }
      firstDone();
      if (!this.running) break;
      if (this.interval === 0) {
        // Back to back, but let timers and I/O callbacks run now and then.
        if (performance.now() - lastYield > 20) {
          await yieldToLoop();
          lastYield = performance.now();
        }
        continue;
      }
      const wait = started + this.interval - performance.now();
      if (wait > 0) {
        await new Promise<void>((r) => {
          const t = setTimeout(r, wait);
          this.wake = () => {
            clearTimeout(t);
            r();
          };
        });
        this.wake = null;
      }
      lastYield = performance.now();
    }
    this.emit('stopped', this.fatal ? 'fatal' : 'stopped');
  }

  /** One poll: one statement, then events. Usable without start() (reads the clock first). */
  async pollOnce(): Promise<void> {
    this.clock ??= await ServerClock.sync(this.conn);
    const t0 = performance.now();
    const { rows } = await this.conn.query(this.statement);
    this.record(rows, performance.now() - t0);
  }

  /** Tracks the rows of one poll and emits its events. */
  private record(rows: Record<string, unknown>[], queryMs: number): void {
    const now = this.clock!.now();
    const poll = ++this.polls;
    const tz = this.clock!.tzOffsetMs;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      if (!(this.idKey in row))
        this.idKey = Object.keys(row).find((k) => k.toLowerCase() === 'job_id') ?? 'Job_ID';
      const id = Number(row[this.idKey]);
      const job = this.tracked.get(id);
      if (job && sameRow(this.lastRaw.get(id), row)) {
        // Unchanged row: only the clock moved (elapsed/ETA of a live job).
        if (!job.ended) derive(job, now);
        continue;
      }
      const parsed = parseImportJobRow(row, { tzOffsetMs: tz });
      if (parsed) {
        this.lastRaw.set(parsed.id, row);
        this.update(parsed, now, poll);
      }
    }
    if (this.listenerCount('poll') > 0)
      this.emit('poll', { poll, serverNow: now, rows: rows.length, queryMs });
  }

  private update(row: ImportJobRow, now: number, poll: number): void {
    const ended = TERMINAL_STATUSES.has(row.status);
    const prev = this.tracked.get(row.id);
    if (!prev) {
      const historical =
        ended && poll === 1 && this.options.jobId === undefined && !this.options.includeHistory;
      const job: TrackedJob = {
        ...row,
        historical,
        ended,
        progressPct: null,
        rowsPerSecond: null,
        elapsedSeconds: null,
        etaSeconds: null,
        firstSeenPoll: poll,
      };
      derive(job, now);
      this.tracked.set(row.id, job);
      this.emit('discovered', job);
      if (ended && !historical) this.emitTerminal(job);
      return;
    }
    if (prev.ended) {
      // Terminal states are final; refresh the row quietly (e.g. End_Time precision).
      Object.assign(prev, row, { ended: true });
      derive(prev, now);
      return;
    }
    const before: PhaseChange = { status: prev.status, phase: prev.phase };
    const beforeRows = prev.importedRows;
    const beforePct = prev.progressPct;
    Object.assign(prev, row);
    prev.ended = ended;
    derive(prev, now);
    if (ended) return this.emitTerminal(prev);
    if (before.status !== prev.status || before.phase !== prev.phase) this.emit('phase', prev, before);
    if (beforeRows !== prev.importedRows || beforePct !== prev.progressPct) this.emit('progress', prev);
  }

  private emitTerminal(job: TrackedJob): void {
    if (job.status === 'finished') this.emit('finished', job);
    else if (job.status === 'failed') this.emit('failed', job);
    else this.emit('cancelled', job);
  }
}

/** The same columns with the same values (===): a poll's row that did not change. */
export function sameRow(a: Record<string, unknown> | undefined, b: Record<string, unknown>): boolean {
  if (!a) return false;
  let n = 0;
  for (const k in b) {
    if (a[k] !== b[k]) return false;
    n++;
  }
  for (const _k in a) n--;
  return n === 0;
}

/** Fills in progress, speed, elapsed and ETA from the row and the server clock. */
function derive(job: TrackedJob, now: number): void {
  const start = wallMs(job.startTime);
  const end = wallMs(job.endTime);
  job.elapsedSeconds = start === null ? null : Math.max(0, ((end ?? now) - start) / 1000);
  const rows = job.importedRows;
  job.rowsPerSecond = rows !== null && job.elapsedSeconds ? rows / job.elapsedSeconds : null;
  if (job.status === 'finished') job.progressPct = 100;
  else if (job.curStepProgressPct !== null) job.progressPct = job.curStepProgressPct;
  else if (job.curStepProcessedBytes !== null && job.curStepTotalBytes)
    job.progressPct = Math.min(100, (job.curStepProcessedBytes * 100) / job.curStepTotalBytes);
  else if (job.ended) job.progressPct = job.progressPct ?? null;
  else job.progressPct = null;
  if (job.ended) job.etaSeconds = 0;
  else if (job.curStepEtaSeconds !== null) job.etaSeconds = job.curStepEtaSeconds;
  else if (job.progressPct !== null && job.progressPct > 0 && job.elapsedSeconds !== null)
    job.etaSeconds = (job.elapsedSeconds * (100 - job.progressPct)) / job.progressPct;
  else job.etaSeconds = null;
}
