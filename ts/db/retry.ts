// Retry with exponential backoff and jitter, and a circuit breaker. Both are
// driven by the error classification in ../errors.ts: only transient errors
// are retried, and only outage-type errors trip the breaker.
import { setTimeout as delay } from 'node:timers/promises';
import {
  CircuitOpenError,
  DatabaseError,
  classifyError,
  isOutageClass,
  isTransientClass,
} from '../errors.js';

export interface RetryPolicy {
  /** Total attempts, the first included (values below 1 mean 1). */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  multiplier: number;
  /** Fraction of each delay that is randomized (0 = none, 0.5 = "equal jitter", 1 = "full jitter"). Default 0.5. */
  jitter?: number;
  /** Which errors to retry; default: errors classified as transient. */
  retryOn?: (err: unknown) => boolean;
}

export const RetryPresets = {
  /** The old system's default: 3 attempts, 100 ms, capped at 30 s, ×2. */
  DEFAULT: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 30_000, multiplier: 2 },
  /** The old system's database preset: 5 attempts, 100 ms, capped at 10 s, ×2. */
  DB: { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 10_000, multiplier: 2 },
  /** A single attempt. */
  NONE: { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0, multiplier: 1 },
} as const satisfies Record<string, RetryPolicy>;

export function isTransientError(err: unknown): boolean {
  return isTransientClass(classifyError(err));
}

/** The delay before attempt `attempt + 1` (attempt counts from 1). */
export function backoffDelay(
  policy: RetryPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * policy.multiplier ** (attempt - 1));
  const jitter = Math.min(1, Math.max(0, policy.jitter ?? 0.5));
  return exponential * (1 - jitter) + exponential * jitter * random();
}

export interface RetryOptions {
  breaker?: CircuitBreaker;
  /** Called before each wait: the failed attempt number, its error and the delay. */
  onRetry?: (info: { attempt: number; error: unknown; delayMs: number }) => void | Promise<void>;
  signal?: AbortSignal;
  /** Injectable for tests. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
}

/** Runs `fn` until it succeeds, fails with a non-retryable error, or the attempts run out; rethrows the last error. */
export async function withRetry<T>(
  policy: RetryPolicy,
  fn: (attempt: number) => Promise<T>,
  options: RetryOptions = {},
): Promise<T> {
  const attempts = Math.max(1, Math.floor(policy.maxAttempts));
  const retryOn = policy.retryOn ?? isTransientError;
  const sleep = options.sleep ?? sleepMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return options.breaker ? await options.breaker.call(() => fn(attempt)) : await fn(attempt);
    } catch (err) {
      if (attempt >= attempts || !retryOn(err) || options.signal?.aborted) {
        if (err instanceof DatabaseError && attempt > 1) err.attempts = attempt;
        throw err;
      }
      const delayMs = backoffDelay(policy, attempt, options.random);
      await options.onRetry?.({ attempt, error: err, delayMs });
      await sleep(delayMs, options.signal);
    }
  }
}

/** Waits `ms`; an abort rejects with the signal's reason (what callers match), not Node's AbortError. */
async function sleepMs(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, { signal });
  } catch (err) {
    throw signal?.aborted ? signal.reason : err;
  }
}

export interface CircuitBreakerConfig {
  /** Failures within `failureWindowMs` that open the circuit. */
  failureThreshold: number;
  failureWindowMs: number;
  /** How long the circuit stays open before letting a trial call through. */
  recoveryTimeoutMs: number;
  /** Consecutive successes in half-open that close the circuit. */
  successThreshold: number;
}

export const BreakerPresets = {
  DEFAULT: { failureThreshold: 5, failureWindowMs: 60_000, recoveryTimeoutMs: 30_000, successThreshold: 3 },
  DB: { failureThreshold: 3, failureWindowMs: 30_000, recoveryTimeoutMs: 10_000, successThreshold: 2 },
} as const satisfies Record<string, CircuitBreakerConfig>;

export type CircuitState = 'closed' | 'open' | 'half-open';

/**
 * An error counts against the circuit when it says the server is down or
 * overloaded; access denied, syntax errors or deadlocks say nothing about its health.
 */
export function isOutageError(err: unknown): boolean {
  return isOutageClass(classifyError(err));
}

export class CircuitBreaker {
  readonly config: CircuitBreakerConfig;
  readonly name: string;
  #state: CircuitState = 'closed';
  #failures: number[] = []; // timestamps within the window
  #successes = 0;
  #openedAt = 0;
  readonly #now: () => number;
  readonly #countsAsFailure: (err: unknown) => boolean;

  constructor(
    config: Partial<CircuitBreakerConfig> = {},
    options: { name?: string; now?: () => number; isFailure?: (err: unknown) => boolean } = {},
  ) {
    this.config = { ...BreakerPresets.DEFAULT, ...config };
    this.name = options.name ?? 'circuit';
    this.#now = options.now ?? Date.now;
    this.#countsAsFailure = options.isFailure ?? isOutageError;
  }

  /** The current state; an open circuit whose recovery time has passed reports half-open. */
  get state(): CircuitState {
    if (this.#state === 'open' && this.#now() - this.#openedAt >= this.config.recoveryTimeoutMs) {
      this.#state = 'half-open';
      this.#successes = 0;
    }
    return this.#state;
  }

  get failureCount(): number {
    this.#forgetOldFailures();
    return this.#failures.length;
  }

  /** Runs `fn` unless the circuit is open; records its outcome. */
  async call<T>(fn: () => Promise<T>): Promise<T> {
    if (this.state === 'open') {
      const retryAfterMs = Math.max(0, this.#openedAt + this.config.recoveryTimeoutMs - this.#now());
      throw new CircuitOpenError(
        `circuit '${this.name}' is open after ${this.config.failureThreshold} failures; not trying again for ${Math.ceil(retryAfterMs / 1000)} s`,
        retryAfterMs,
      );
    }
    try {
      const result = await fn();
      this.recordSuccess();
      return result;
    } catch (err) {
      if (this.#countsAsFailure(err)) this.recordFailure();
      throw err;
    }
  }

  recordSuccess(): void {
    if (this.state === 'half-open') {
      this.#successes++;
      if (this.#successes >= this.config.successThreshold) this.reset();
    }
  }

  recordFailure(): void {
    const now = this.#now();
    if (this.state === 'half-open') {
      this.#open(now); // the trial failed: back to open for another recovery period
      return;
    }
    this.#failures.push(now);
    this.#forgetOldFailures();
    if (this.#failures.length >= this.config.failureThreshold) this.#open(now);
  }

  /** Closes the circuit and forgets all counts. */
  reset(): void {
    this.#state = 'closed';
    this.#failures = [];
    this.#successes = 0;
  }

  #open(now: number): void {
    this.#state = 'open';
    this.#openedAt = now;
    this.#successes = 0;
    this.#failures = [];
  }

  #forgetOldFailures(): void {
    const cutoff = this.#now() - this.config.failureWindowMs;
    this.#failures = this.#failures.filter((t) => t > cutoff);
  }
}
