// The core machine's CheckingImportJobs and ShowingImportJobDetails states, backed
// by the import-job monitor (the old job_monitor's flow, done right): one
// SHOW IMPORT JOBS per visit through an ImportJobMonitor bound to ctx.connection,
// the parsed jobs put in the context for the handlers that follow.
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import type { StateContext } from '../machine/context.js';
import type { StateHandler } from '../machine/handler.js';
import type { StateMachine } from '../machine/machine.js';
import { States, errorState } from '../machine/states.js';
import { contextMonitor, importJobsOf, pollImportJobs } from './context.js';
import type { MonitorOptions } from './monitor.js';
import { plainHeader, plainJobLine } from './render.js';
import type { TrackedJob } from './types.js';

export interface ImportJobStatesOptions {
  /** Milliseconds between ShowingImportJobDetails polls (default 1000; 0 = back to back). */
  interval?: number;
  /** Seconds ShowingImportJobDetails watches at most (default: until every tracked job has ended). */
  duration?: number;
  /** Where the states go when done (default Completed). */
  next?: string;
  /** Receives the old tool's progress lines (default: printed nowhere). */
  print?: (line: string) => void;
  /**
   * When a job failed or was cancelled while watched, ShowingImportJobDetails goes to
   * `Error: import job N failed: <Result_Message>` instead of `next` (default true).
   */
  failOnJobError?: boolean;
  /** Passed on to the context's ImportJobMonitor (first use only). */
  monitor?: Pick<MonitorOptions, 'raw' | 'statement' | 'includeHistory' | 'jobId'>;
}

/**
 * Registers CheckingImportJobs and ShowingImportJobDetails on `machine`: the monitor installs its
 * states into a machine (the machine knows no monitor). The parsed jobs land in ctx.customData
 * 'importJobs' (importJobsOf(ctx)) and in Python's context.import_jobs. Returns the machine.
 */
export function installImportJobStates<M extends StateMachine<C>, C extends StateContext = StateContext>(
  machine: M,
  options: ImportJobStatesOptions = {},
): M {
  machine
    .register(States.CheckingImportJobs, new CheckingImportJobsHandler(options))
    .register(States.ShowingImportJobDetails, new ShowingImportJobDetailsHandler(options));
  return machine;
}

const visibleJobs = (ctx: StateContext): TrackedJob[] =>
  [...contextMonitor(ctx).monitor.jobs.values()].filter((j) => !j.historical);

/**
 * CheckingImportJobs: one poll; ShowingImportJobDetails when a job is active (not
 * finished, failed or cancelled), else `next` (Completed).
 */
export class CheckingImportJobsHandler implements StateHandler {
  constructor(private readonly options: ImportJobStatesOptions = {}) {}

  async execute(ctx: StateContext): Promise<string> {
    const print = this.options.print;
    print?.('Checking for active import jobs...');
    const snapshot = await pollImportJobs(ctx, this.options.monitor);
    const active = snapshot.active.length;
    if (active === 0) {
      print?.('✓ No active import jobs found');
      return this.options.next ?? States.Completed;
    }
    print?.(`✓ Found ${active} active import job(s)`);
    return States.ShowingImportJobDetails;
  }

  describe(): string {
    return 'CheckingImportJobsHandler (test-rig monitor)';
  }
}

/**
 * ShowingImportJobDetails: prints the jobs, then polls once per step (after `interval`),
 * looping on itself until every tracked job has ended (jobs created meanwhile included)
 * or `duration` ran out. A failed or cancelled job ends in an error state.
 */
export class ShowingImportJobDetailsHandler implements StateHandler {
  readonly #visits = new WeakMap<StateContext, { started: number; polls: number }>();

  constructor(private readonly options: ImportJobStatesOptions = {}) {}

  enter(ctx: StateContext): void {
    this.#visits.set(ctx, { started: performance.now(), polls: 0 });
    const d = this.options.duration;
    this.options.print?.(
      d === undefined
        ? 'Monitoring active import job(s) until they end...'
        : `Monitoring active import job(s) for ${d} seconds...`,
    );
  }

  async execute(ctx: StateContext): Promise<string> {
    let visit = this.#visits.get(ctx);
    if (!visit) this.#visits.set(ctx, (visit = { started: performance.now(), polls: 0 }));
    // The first step shows what CheckingImportJobs just read; later steps poll again.
    if (visit.polls > 0 || !importJobsOf(ctx)) {
      if (visit.polls > 0) await sleep(this.options.interval ?? 1000, ctx.signal);
      await pollImportJobs(ctx, this.options.monitor);
    }
    visit.polls++;
    const jobs = visibleJobs(ctx);
    const duration = this.options.duration;
    const elapsed = (performance.now() - visit.started) / 1000;
    const print = this.options.print;
    if (print) {
      print('');
      print(plainHeader(duration === undefined ? null : duration - elapsed));
      for (const j of jobs) print(plainJobLine(j));
    }
    const done = !jobs.some((j) => !j.ended) || (duration !== undefined && elapsed >= duration);
    if (!done) return States.ShowingImportJobDetails;
    const bad = jobs.filter((j) => j.status === 'failed' || j.status === 'cancelled');
    for (const j of bad) print?.(`Job ${j.id} ${j.status}: ${j.resultMessage || '(no Result_Message)'}`);
    print?.('✓ Import job monitoring completed');
    if (bad.length > 0 && this.options.failOnJobError !== false) {
      const j = bad[0];
      return errorState(`import job ${j.id} ${j.status}: ${j.resultMessage || '(no Result_Message)'}`);
    }
    return this.options.next ?? States.Completed;
  }

  exit(ctx: StateContext): void {
    this.#visits.delete(ctx);
  }

  describe(): string {
    return 'ShowingImportJobDetailsHandler (test-rig monitor)';
  }
}

/** Waits `ms`; an abort rejects with the signal's reason (the machine reports it), not Node's AbortError. */
async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, { signal });
  } catch (err) {
    throw signal?.aborted ? (signal.reason as Error) : err;
  }
}
