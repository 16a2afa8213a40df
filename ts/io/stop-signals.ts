// How a long-running command (run --watch, demo --watch, monitor) is stopped from outside:
// Ctrl-C (SIGINT) or SIGTERM stop it gracefully and it exits 130 or 143 (128 + the signal's
// number, as a shell reports a process the signal killed); a second signal quits at once.

import { EXIT_INTERRUPTED, EXIT_TERMINATED } from '../exit-codes.js';

export type StopSignal = 'SIGINT' | 'SIGTERM';

/** The exit code of a command stopped by `signal`. */
export function stopExitCode(signal: StopSignal): number {
  return signal === 'SIGTERM' ? EXIT_TERMINATED : EXIT_INTERRUPTED;
}

/** The reason an AbortSignal of StopSignals is aborted with: which signal, and the exit code it means. */
export class StopRequest extends Error {
  override name = 'StopRequest';
  readonly exitCode: number;

  constructor(readonly signal: StopSignal) {
    super(signal === 'SIGINT' ? 'interrupted (Ctrl-C)' : `stopped (${signal})`);
    this.exitCode = stopExitCode(signal);
  }
}

/**
 * Listens for SIGINT and SIGTERM until dispose(): the first aborts `signal` (its reason a
 * StopRequest), a second one exits the process at once with the same code.
 */
export class StopSignals {
  readonly #controller = new AbortController();
  readonly #onSignal = (sig: StopSignal): void => {
    if (this.#controller.signal.aborted) process.exit(stopExitCode(sig));
    this.#controller.abort(new StopRequest(sig));
  };
  readonly stopped: Promise<StopRequest>;

  constructor() {
    this.stopped = new Promise((resolve) =>
      this.#controller.signal.addEventListener(
        'abort',
        () => resolve(this.#controller.signal.reason as StopRequest),
        {
          once: true,
        },
      ),
    );
    process.on('SIGINT', this.#onSignal);
    process.on('SIGTERM', this.#onSignal);
  }

  /** Aborted by the first stop signal. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** 130 or 143 once stopped by a signal, else undefined. */
  get exitCode(): number | undefined {
    return this.#controller.signal.aborted
      ? (this.#controller.signal.reason as StopRequest).exitCode
      : undefined;
  }

  dispose(): void {
    process.off('SIGINT', this.#onSignal);
    process.off('SIGTERM', this.#onSignal);
  }
}
