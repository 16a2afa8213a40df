// The last resort against a handler that will not stop. An inline handler runs
// on the run process's JS thread; at its deadline the native watchdog raises
// InlineDeadlineError in it, again every 100 ms, but a handler that catches it
// (`except Exception: continue`) keeps the thread forever, and nothing in that
// process can run again. So the run process beats to its supervisor every
// second from its JS thread, and the supervisor kills a run process that went
// silent for longer than the timeout plus a grace period while a case runs:
// every Python call on the JS thread is bounded by the case's deadline, so
// that long a silence means one did not stop. The supervisor then reports the
// case and runs the remaining cases in a new run process (./supervise.ts).
import { DEFAULT_TIMEOUT_MS } from './run.js';
import type { CaseFailure } from './types.js';

/** How often the run process says it is alive. */
export const HEARTBEAT_MS = 1000;

/** How long past the timeout a silent run process is given: the timeout itself, within 3–30 s. */
export function graceMs(timeoutMs: number): number {
  return Math.min(30_000, Math.max(3000, timeoutMs));
}

/** In the run process: beats while the JS thread is free; never keeps the process alive. */
export function startHeartbeat(beat: () => void): () => void {
  const timer = setInterval(beat, HEARTBEAT_MS);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * In the supervisor: watches one run process's beats (any message counts) and
 * calls `onStuck` once, when it has been silent for longer than the timeout
 * plus the grace period while `running()` says a case runs.
 */
export class SilenceWatch {
  readonly timeoutMs: number;
  readonly graceMs: number;
  #last = performance.now();
  #fired = false;
  readonly #timer: NodeJS.Timeout;

  constructor(timeoutMs: number | undefined, running: () => boolean, onStuck: () => void) {
    this.timeoutMs = timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.graceMs = graceMs(this.timeoutMs);
    const limit = this.timeoutMs + this.graceMs;
    this.#timer = setInterval(() => {
      if (this.#fired) return;
      // silence while no case runs (loading test files, between runs) is not ours to judge
      if (!running()) this.#last = performance.now();
      else if (performance.now() - this.#last > limit) {
        this.#fired = true;
        onStuck();
      }
    }, HEARTBEAT_MS / 2);
    this.#timer.unref();
  }

  /** The run process said something: it is alive. */
  beat(): void {
    this.#last = performance.now();
  }

  /** Whether it gave up on the run process. */
  get fired(): boolean {
    return this.#fired;
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

/** The failure of a case whose handler did not stop after its deadline, its run process killed. */
export function stuckFailure(timeoutMs: number, grace: number, of: number, inline: boolean): CaseFailure {
  const secs = (ms: number) => `${Number.isInteger(ms / 1000) ? ms / 1000 : (ms / 1000).toFixed(1)}s`;
  const which = of > 1 ? ` (one of ${of} cases past their deadline held it)` : '';
  // not inline: the JS thread waited for something else (the GIL, held by a C extension?)
  const why = inline
    ? "an inline handler holding the run process's JS thread (does it catch the timeout error?)"
    : "the run process's JS thread stopped answering (a C extension holding Python's GIL?)";
  return {
    message:
      `timed out after ${secs(timeoutMs)} and did not stop after its deadline: ${why}${which}; ` +
      `the run process was killed ${secs(grace)} later`,
    type: 'Timeout',
  };
}
