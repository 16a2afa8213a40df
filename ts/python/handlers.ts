// Python handlers as machine handlers: discovery, registration and the two
// ways a handler method runs — on its machine's lane (default: may block,
// may use asyncio) or inline on the JS thread (fast path, opt-in).
import type { StateContext } from '../machine/context.js';
import type { StateHandler } from '../machine/handler.js';
import type { StateMachine } from '../machine/machine.js';
import { normalizeState, States } from '../machine/states.js';
import { encodeErrorForPython, PythonError } from './errors.js';
import type { PyRef } from './native.js';
import { PythonRuntime } from './runtime.js';

type Method = 'enter' | 'execute' | 'exit';

/** What Python reports about a handler class (test_rig/_discovery.py describe()). */
export interface HandlerInfo {
  name: string;
  module: string;
  file: string | null;
  line: number;
  state: string | null;
  inline: boolean;
  requires: unknown;
  tags: string[];
  methods: Record<Method, { async: boolean; line: number; file: string | null; overridden: boolean }>;
  doc: string;
}

export class HandlerReturnError extends Error {
  override name = 'HandlerReturnError';
}

export class PythonHandler implements StateHandler {
  readonly info: HandlerInfo;
  readonly #runtime: PythonRuntime;
  readonly #instance: PyRef;
  readonly #lane: number;
  /** Bound enter/execute/exit, for the inline path. */
  readonly #bound: Record<Method, PyRef> | undefined;

  constructor(runtime: PythonRuntime, instance: PyRef, info: HandlerInfo, lane: number) {
    this.#runtime = runtime;
    this.#instance = instance;
    this.info = info;
    this.#lane = lane;
    if (info.inline) {
      const [enter, execute, exit] = runtime.call(runtime.fn.bound_methods, null, [instance]) as PyRef[];
      this.#bound = { enter, execute, exit };
    }
    // Methods the class does not override are the base class's no-ops: skip the call.
    if (!info.methods.enter.overridden) this.enter = undefined;
    if (!info.methods.exit.overridden) this.exit = undefined;
  }

  enter?: (ctx: StateContext) => unknown = (ctx) => this.#invoke('enter', ctx);

  execute(ctx: StateContext): string | Promise<string> {
    const next = this.#invoke('execute', ctx);
    if (typeof next === 'string') return next; // inline handlers usually finish here, synchronously
    return Promise.resolve(next).then((value) => this.#checkState(value));
  }

  exit?: (ctx: StateContext) => void | Promise<void> = (ctx) =>
    this.#invoke('exit', ctx) as void | Promise<void>;

  #checkState(next: unknown): string {
    if (typeof next === 'string') return next;
    const m = this.info.methods.execute;
    const got =
      next === null ? 'None' : typeof next === 'object' ? 'an object' : `${typeof next} ${String(next)}`;
    throw new HandlerReturnError(
      `${this.info.name}.execute (${m.file ?? '?'}:${m.line}) returned ${got}, not a state string; return PyState.completed() or another state`,
    );
  }

  describe(): string {
    return `${this.info.name} (${this.info.file ?? '?'}:${this.info.line})`;
  }

  /** The Python handler object. */
  get instance(): PyRef {
    return this.#instance;
  }

  #invoke(method: Method, ctx: StateContext): unknown {
    const rt = this.#runtime;
    const pyCtx = rt.mirror(ctx).sync();
    if (!this.info.inline) {
      return rt
        .submit(this.#lane, rt.fn.call_handler, null, [this.#instance, method, pyCtx])
        .catch((err: unknown) => {
          throw this.#annotate(err, method);
        });
    }
    let step: unknown;
    try {
      step = rt.call(rt.fn.run_inline, null, [this.#bound![method], pyCtx]);
    } catch (err) {
      throw this.#annotate(err, method);
    }
    if (typeof step === 'string') return step;
    const [kind, value] = step as unknown[];
    if (kind === 0) return value;
    return this.#continueInline(step as unknown[], method);
  }

  // Serves the JS calls an inline coroutine awaits, resuming it with each result.
  async #continueInline(first: unknown[], method: Method): Promise<unknown> {
    const rt = this.#runtime;
    let step = first;
    while (step[0] === 1) {
      let ok = true;
      let value: unknown;
      try {
        value = await rt.handle(step[1] as Parameters<PythonRuntime['handle']>[0]);
      } catch (err) {
        ok = false;
        value = encodeErrorForPython(err);
      }
      try {
        step = rt.call(rt.fn.resume_inline, null, [step[2], ok, value]) as unknown[];
      } catch (err) {
        throw this.#annotate(err, method);
      }
    }
    return step[1];
  }

  #annotate(err: unknown, method: Method): unknown {
    if (err instanceof PythonError && !err.message.startsWith(`${this.info.name}.`)) {
      err.message = `${this.info.name}.${method} raised ${err.message}${err.where ? ` (at ${err.where})` : ''}`;
    }
    return err;
  }
}

export interface LoadOptions {
  /** Handler class name → state it serves (wins over the class's `state` attribute). */
  mapping?: Record<string, string>;
  /** Case parameters: passed to `__init__` arguments of the same name, and as `config`. */
  params?: Record<string, unknown>;
  /** Use this lane instead of acquiring a new one (handlers of one machine share a lane). */
  lane?: number;
}

export interface LoadedHandler {
  handler: PythonHandler;
  info: HandlerInfo;
  /** The state it was registered for, or undefined when no state could be chosen. */
  state?: string;
}

export interface LoadResult {
  handlers: LoadedHandler[];
  /** Handlers registered on the machine. */
  registered: LoadedHandler[];
  /** Handlers with no mapping, no `state` attribute and no class name matching a built-in state. */
  unmapped: LoadedHandler[];
  lane: number;
  /** Gives the lane back. */
  dispose(): void;
}

const BUILTIN_STATES = new Set<string>(Object.values(States));

/** The state a handler class serves: mapping, then `state = "..."`, then `<State>Handler` for a built-in state. */
export function stateFor(info: HandlerInfo, mapping: Record<string, string> = {}): string | undefined {
  const explicit = mapping[info.name] ?? info.state ?? undefined;
  if (explicit) return normalizeState(explicit);
  const fromName = normalizeState(info.name.replace(/Handler$/, ''));
  return BUILTIN_STATES.has(fromName) ? fromName : undefined;
}

/** Imports Python handler classes (dotted module name, .py file or folder) and instantiates them (on a lane). */
export async function importPythonHandlers(
  moduleOrPath: string,
  options: LoadOptions = {},
): Promise<LoadResult> {
  const rt = PythonRuntime.get();
  const lane = options.lane ?? rt.acquireLane();
  const ownsLane = options.lane === undefined;
  try {
    const found = (await rt.submit(lane, rt.fn.load_handlers, null, [moduleOrPath])) as [
      PyRef,
      HandlerInfo,
    ][];
    const handlers: LoadedHandler[] = [];
    for (const [cls, info] of found) {
      const instance = (await rt.submit(lane, rt.fn.instantiate, null, [cls, options.params ?? {}])) as PyRef;
      handlers.push({
        handler: new PythonHandler(rt, instance, info, lane),
        info,
        state: stateFor(info, options.mapping),
      });
    }
    let disposed = false;
    return {
      handlers,
      registered: [],
      unmapped: handlers.filter((h) => h.state === undefined),
      lane,
      dispose: () => {
        if (!disposed && ownsLane) rt.releaseLane(lane);
        disposed = true;
      },
    };
  } catch (err) {
    if (ownsLane) rt.releaseLane(lane);
    if (err instanceof PythonError) {
      err.message = `cannot load Python handlers from ${moduleOrPath}: ${err.message}${err.where ? ` (at ${err.where})` : ''}`;
    }
    throw err;
  }
}

/**
 * Imports a Python module (dotted name, or a file or folder path), discovers its
 * handler classes and registers each on the machine for its state (see stateFor).
 * Python and TypeScript handlers mix freely in one machine.
 */
export async function loadPythonHandlers(
  machine: StateMachine<StateContext>,
  moduleOrPath: string,
  options: LoadOptions = {},
): Promise<LoadResult> {
  const result = await importPythonHandlers(moduleOrPath, options);
  for (const loaded of result.handlers) {
    if (loaded.state === undefined) continue;
    machine.register(loaded.state, loaded.handler);
    result.registered.push(loaded);
  }
  return result;
}
