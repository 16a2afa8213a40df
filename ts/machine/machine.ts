// The dynamic, string-named state machine: runs handlers with the visit
// semantics of the handler contract, under step, time and abort guards.
import { EventEmitter } from 'node:events';
import { inspect } from 'node:util';
import { StateMachineError } from '../errors.js';
import type { StateContext } from './context.js';
import { describeHandler, type HandlerLocation, type StateHandler } from './handler.js';
import { MAX_STATE_NAME_LENGTH, States, errorMessageOf, isErrorState, normalizeState } from './states.js';

export interface RunOptions {
  initialState?: string;
  /** Maximum number of execute() calls (default 10000); catches a handler that returns its own state forever. */
  maxSteps?: number;
  /** Maximum time the machine may stay in one state, loops included (default: no limit). */
  stateTimeoutMs?: number;
  /** Maximum time for the whole run (default: no limit). */
  runTimeoutMs?: number;
  signal?: AbortSignal;
}

export interface TransitionEvent {
  from: string;
  to: string;
  step: number;
}

export interface RunResult {
  finalState: string;
  /** Number of execute() calls. */
  steps: number;
  durationMs: number;
  /** Every state entered, in order, from the initial state to the final one (self-loops appear once). */
  history: string[];
}

export const DEFAULT_MAX_STEPS = 10_000;

type Method = 'enter' | 'execute' | 'exit';

export interface StateMachineOptions<C extends StateContext = StateContext> {
  /**
   * Handles every non-terminal state that has no registered handler. With only a
   * fallback, one handler drives the whole run (a test case: whatever state its
   * execute returns, it handles next, with the usual enter/exit on each change).
   */
  fallbackHandler?: StateHandler<C>;
}

/** Why a guarded call was cut short; turned into a StateMachineError by the run loop. */
class GuardTripped extends Error {}

export class StateMachine<C extends StateContext = StateContext> extends EventEmitter {
  readonly #handlers = new Map<string, StateHandler<C>>();
  readonly #allowed = new Map<string, Set<string>>();
  readonly #fallback?: StateHandler<C>;

  constructor(options: StateMachineOptions<C> = {}) {
    super();
    if (options.fallbackHandler !== undefined && typeof options.fallbackHandler.execute !== 'function') {
      throw new TypeError('fallbackHandler has no execute() method');
    }
    this.#fallback = options.fallbackHandler;
  }

  /** Registers the handler for `state`, replacing any earlier one. */
  register(state: string, handler: StateHandler<C>): this {
    const name = normalizeState(state);
    if (name === '' || name === States.Completed || isErrorState(name)) {
      throw new Error(`cannot register a handler for the terminal state '${state}'`);
    }
    if (typeof handler?.execute !== 'function') {
      throw new TypeError(`handler for state '${name}' has no execute() method`);
    }
    this.#handlers.set(name, handler);
    return this;
  }

  /** Restricts the states `from` may move to. States without an entry may move anywhere; error states are always allowed. */
  allowTransitions(from: string, to: readonly string[]): this {
    const name = normalizeState(from);
    const set = this.#allowed.get(name) ?? new Set<string>();
    for (const t of to) set.add(normalizeState(t));
    this.#allowed.set(name, set);
    return this;
  }

  /** The handler for `state`: the registered one, else the fallback (never for terminal states). */
  handlerFor(state: string): StateHandler<C> | undefined {
    const name = normalizeState(state);
    const registered = this.#handlers.get(name);
    if (registered || name === States.Completed || isErrorState(name)) return registered;
    return this.#fallback;
  }

  registeredStates(): string[] {
    return [...this.#handlers.keys()];
  }

  /** Runs from the initial state until Completed; rejects with a StateMachineError on an error state or any failure. */
  async run(ctx: C, options: RunOptions = {}): Promise<RunResult> {
    const started = performance.now();
    const maxSteps = options.maxSteps ?? DEFAULT_MAX_STEPS;
    const history: string[] = [];
    let steps = 0;
    let current = normalizeState(options.initialState ?? States.Initial);

    const { controller, outerDeadline, restore } = bindRunSignal(ctx, options.signal);

    const runDeadline = options.runTimeoutMs === undefined ? Infinity : started + options.runTimeoutMs;
    let stateDeadline = Infinity;
    const fail = (
      message: string,
      fields: Partial<ConstructorParameters<typeof StateMachineError>[1]> = {},
    ) => new StateMachineError(message, { state: current, step: steps, ...fields });

    const wrap = (err: unknown, handler: StateHandler<C>, method: Method): Error => {
      if (err instanceof StateMachineError) return err;
      const name = describeHandler(handler);
      return fail(`${name}.${method} in state '${current}' failed: ${messageOf(err)}`, {
        method,
        handler: name,
        cause: err,
      });
    };

    /**
     * Calls a handler method, racing it against the deadlines and the abort signal.
     * The hot path (no deadline, no caller signal) adds no timers, listeners or promises.
     */
    const call = <T>(
      handler: StateHandler<C>,
      method: Method,
      invoke: () => T | Promise<T>,
    ): T | Promise<T> => {
      if (controller.signal.aborted) {
        throw fail(
          `run aborted ${abortText(controller.signal)}before ${describeHandler(handler)}.${method} in state '${current}'`,
        );
      }
      const deadline = Math.min(stateDeadline, runDeadline);
      const handlerDeadline = Math.min(deadline, outerDeadline);
      if (handlerDeadline !== Infinity) ctx.deadline = handlerDeadline;
      if (deadline === Infinity && options.signal === undefined) {
        let value: T | Promise<T>;
        try {
          value = invoke();
        } catch (err) {
          throw wrap(err, handler, method);
        }
        if (!isThenable(value)) return value;
        return Promise.resolve(value).then(undefined, (err: unknown) => {
          throw wrap(err, handler, method);
        });
      }
      const site: CallSite = {
        controller,
        state: current,
        runDeadline,
        stateDeadline,
        runTimeoutMs: options.runTimeoutMs,
        stateTimeoutMs: options.stateTimeoutMs,
        fail,
        wrap,
      };
      return guardedCall(site, handler, method, invoke, deadline);
    };

    try {
      let entering = true;
      for (;;) {
        if (entering) {
          history.push(current);
          ctx.state = current;
          stateDeadline =
            options.stateTimeoutMs === undefined ? Infinity : performance.now() + options.stateTimeoutMs;
        }
        if (current === States.Completed) break;
        if (isErrorState(current)) {
          throw fail(errorMessageOf(current) || `the machine reached the error state '${current}'`);
        }
        const handler = this.handlerFor(current);
        if (!handler) throw fail(`no handler registered for state '${current}'`);

        if (entering && handler.enter) {
          const entered = call(handler, 'enter', () => handler.enter?.(ctx));
          if (isThenable(entered)) await entered;
        }
        if (steps >= maxSteps) {
          const name = describeHandler(handler);
          throw fail(
            `step limit of ${maxSteps} reached in state '${current}' (${name}.execute keeps returning '${current}'?)`,
            { handler: name },
          );
        }
        steps++;
        let returned: unknown = call(handler, 'execute', () => handler.execute(ctx));
        if (isThenable(returned)) returned = await returned;
        const next = normalizeState(checkReturned(returned, current, handler, fail));
        if (next === current) {
          entering = false;
          continue;
        }
        this.#checkTransition(current, next, handler, fail);
        if (handler.exit) {
          const exited = call(handler, 'exit', () => handler.exit?.(ctx));
          if (isThenable(exited)) await exited;
        }
        if (this.listenerCount('transition') > 0) {
          this.emit('transition', { from: current, to: next, step: steps } satisfies TransitionEvent);
        }
        current = next;
        entering = true;
        continue;
      }
      const result: RunResult = {
        finalState: current,
        steps,
        durationMs: performance.now() - started,
        history,
      };
      this.emit('completed', result);
      return result;
    } catch (err) {
      ctx.errorMessage = messageOf(err);
      // EventEmitter throws on 'error' without listeners; the rejection already reports it.
      if (this.listenerCount('error') > 0) this.emit('error', err);
      throw err;
    } finally {
      restore();
    }
  }

  #checkTransition(from: string, to: string, handler: StateHandler<C>, fail: Fail): void {
    if (isErrorState(to)) return; // failing is always allowed
    const handlerName = (): string => describeHandler(handler);
    const allowed = this.#allowed.get(from);
    if (allowed && !allowed.has(to)) {
      throw fail(
        `Invalid transition ${from} → ${to} returned by ${handlerName()}.execute (allowed: ${[...allowed].join(', ') || 'none'})`,
        { method: 'execute', handler: handlerName() },
      );
    }
    if (to !== States.Completed && !this.handlerFor(to)) {
      throw fail(
        `no handler registered for state '${to}' (returned by ${handlerName()}.execute in state '${from}')`,
        { method: 'execute', handler: handlerName() },
      );
    }
  }
}

type Fail = (message: string, fields?: { method?: Method; handler?: string }) => StateMachineError;

/**
 * One controller for the run: handlers see its signal as ctx.signal, and both the caller's
 * signal and the machine's timeouts abort it. restore() gives the context back its own.
 */
function bindRunSignal(
  ctx: StateContext,
  outer: AbortSignal | undefined,
): { controller: AbortController; outerDeadline: number; restore: () => void } {
  const controller = new AbortController();
  const onOuterAbort = () => controller.abort(outer?.reason);
  if (outer?.aborted) onOuterAbort();
  outer?.addEventListener('abort', onOuterAbort, { once: true });
  const previousSignal = ctx.signal;
  ctx.signal = controller.signal;
  // A deadline the caller set (test-rig run's --timeout): handlers see the earliest of it
  // and the machine's own as ctx.deadline (inline Python handlers are stopped there).
  const outerDeadline = ctx.deadline ?? Infinity;
  const restore = (): void => {
    outer?.removeEventListener('abort', onOuterAbort);
    ctx.signal = previousSignal;
    ctx.deadline = outerDeadline === Infinity ? undefined : outerDeadline;
  };
  return { controller, outerDeadline, restore };
}

/**
 * What a guarded handler call races: rejects with GuardTripped at the deadline (then aborts
 * the run) or when the run is aborted. release() removes its timer and listener.
 */
function armGuard(
  controller: AbortController,
  deadline: number,
  timeoutMessage: () => string,
  where: string,
): { guard: Promise<never>; release: () => void } {
  const cleanups: Array<() => void> = [];
  const guard = new Promise<never>((_, reject) => {
    if (deadline !== Infinity) {
      const timer = setTimeout(
        () => {
          const message = timeoutMessage();
          reject(new GuardTripped(message)); // before abort(), so the timeout is what gets reported
          controller.abort(new Error(message));
        },
        Math.max(0, deadline - performance.now()),
      );
      cleanups.push(() => clearTimeout(timer));
    }
    const onAbort = () => reject(new GuardTripped(`run aborted ${abortText(controller.signal)}in ${where}`));
    controller.signal.addEventListener('abort', onAbort, { once: true });
    cleanups.push(() => controller.signal.removeEventListener('abort', onAbort));
  });
  const release = (): void => {
    for (const cleanup of cleanups) cleanup();
  };
  return { guard, release };
}

/** execute's answer must be a usable state name: a non-empty string, short unless it is an error state. */
function checkReturned(returned: unknown, current: string, handler: StateHandler<never>, fail: Fail): string {
  if (typeof returned !== 'string' || returned.trim() === '') {
    const name = describeHandler(handler);
    throw fail(
      `${name}.execute in state '${current}' returned ${inspect(returned)} instead of a state name`,
      {
        method: 'execute',
        handler: name,
      },
    );
  }
  if (returned.length > MAX_STATE_NAME_LENGTH && !isErrorState(returned)) {
    const name = describeHandler(handler);
    throw fail(
      `${name}.execute in state '${current}' returned a state name of ${returned.length} characters, ` +
        `starting '${returned.slice(0, 40)}…': state names are at most ${MAX_STATE_NAME_LENGTH} characters ` +
        `(keep data in the context; return an error state for a long message)`,
      { method: 'execute', handler: name },
    );
  }
  return returned;
}

/** What a guarded call needs from its run; the state and deadlines cannot change while it is awaited. */
interface CallSite {
  controller: AbortController;
  state: string;
  runDeadline: number;
  stateDeadline: number;
  runTimeoutMs: number | undefined;
  stateTimeoutMs: number | undefined;
  fail: (
    message: string,
    fields?: Partial<ConstructorParameters<typeof StateMachineError>[1]>,
  ) => StateMachineError;
  wrap: (err: unknown, handler: StateHandler<never>, method: Method) => Error;
}

/**
 * A handler call raced against the deadlines and the abort signal; a timeout names where
 * the handler is at that moment.
 */
async function guardedCall<T>(
  site: CallSite,
  handler: StateHandler<never>,
  method: Method,
  invoke: () => T | Promise<T>,
  deadline: number,
): Promise<T> {
  const { controller, state: current, runDeadline, stateDeadline, fail, wrap } = site;
  const name = describeHandler(handler);
  const where = `${name}.${method} in state '${current}'`;
  // A timeout names where the handler is at that moment (its own method, its line).
  let stuckMethod: Method = method;
  const timeoutMessage = () => {
    const now = locateHandler(handler);
    stuckMethod = now?.method ?? method;
    const inHandler = `${name}.${stuckMethod}${now?.at ? ` at ${now.at}` : ''}`;
    return runDeadline <= stateDeadline
      ? `run timed out after ${site.runTimeoutMs} ms in ${inHandler} in state '${current}'`
      : `state '${current}' timed out after ${site.stateTimeoutMs} ms in ${inHandler}`;
  };
  const { guard, release } = armGuard(controller, deadline, timeoutMessage, where);
  const work = new Promise<T>((resolve, reject) => {
    try {
      Promise.resolve(invoke()).then(resolve, reject);
    } catch (err) {
      reject(err);
    }
  });
  work.catch(() => undefined); // a handler abandoned by a guard may still reject later
  try {
    return await Promise.race([work, guard]);
  } catch (err) {
    if (err instanceof GuardTripped) throw fail(err.message, { method: stuckMethod, handler: name });
    // A handler that held the JS thread past the deadline (an inline one, interrupted
    // there) failed because of the timeout, whatever it threw.
    if (performance.now() >= deadline) {
      const message = timeoutMessage();
      controller.abort(new Error(message));
      throw fail(message, { method: stuckMethod, handler: name, cause: err });
    }
    throw wrap(err, handler, method);
  } finally {
    release();
  }
}

function isThenable<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function abortText(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  if (reason === undefined) return '';
  return `(${reason instanceof Error ? reason.message : String(reason)}) `;
}

/** whereNow() of a handler, never throwing (it runs while a failure is being reported). */
function locateHandler(handler: StateHandler<never>): HandlerLocation | undefined {
  try {
    return handler.whereNow?.();
  } catch {
    return undefined;
  }
}
