// Python handlers as machine handlers: discovery, registration and the two
// ways a handler method runs — on its machine's lane (default: may block,
// may use asyncio) or inline on the JS thread (fast path, opt-in).
import path from 'node:path';
import type { StateContext } from '../machine/context.js';
import type { HandlerLocation, StateHandler } from '../machine/handler.js';
import type { StateMachine } from '../machine/machine.js';
import { normalizeState, States } from '../machine/states.js';
import { encodeErrorForPython, PythonError } from './errors.js';
import { MachineLane, type StuckAt } from './lane.js';
import type { PyRef } from './native.js';
import { PythonRuntime, type Request } from './runtime.js';
import { PythonWatcher, watchRoot } from './watch.js';
import type { HandlerInfo, Method } from './handler-info.js';

export type { HandlerInfo } from './handler-info.js';

export class HandlerReturnError extends Error {
  override name = 'HandlerReturnError';
}

/** The Python side of a handler: its instance and what Python said about its class. */
interface Target {
  instance: PyRef;
  info: HandlerInfo;
  /** Inline handlers only: the slot their coroutines are stepped in (reused, one call at a time). */
  task?: PyRef;
}

/** What one fused visit (on a lane or inline) reports: the method that failed, if any. */
interface VisitOutcome {
  failed: Method | null;
  error: Record<string, unknown> | null;
  next: unknown;
  exitRan: boolean;
}

/**
 * A visit's report from Python: [failed method or null, error, next state, exit ran], or
 * just the next state when it is a string and exit did not run (python/test_rig/_visits.py).
 */
function outcomeOf(report: unknown): VisitOutcome {
  if (typeof report === 'string') return { failed: null, error: null, next: report, exitRan: false };
  const [failed, error, next, exitRan] = report as [
    Method | null,
    Record<string, unknown> | null,
    unknown,
    boolean,
  ];
  return { failed, error, next, exitRan };
}

export class PythonHandler implements StateHandler {
  readonly #runtime: PythonRuntime;
  /** Shared by the handlers of one machine; replaced by a fresh lane when a run gives up on a job. */
  readonly #lane: MachineLane;
  /** The lane running a job of this handler right now. */
  #inFlight: number | undefined;
  /** The run signal (ctx.signal) this handler listens to, to abandon its lane on abort. */
  #watched: AbortSignal | undefined;
  #target: Target;
  /** A reloaded class's instance, waiting for the next state entry. */
  #next: Target | undefined;
  /** The visit started by enter, whose execute result the machine asks for next. */
  #visit: { ctx: StateContext; outcome: Promise<VisitOutcome> | VisitOutcome } | undefined;
  /** A visit whose exit already ran (execute left for another state). */
  #exitDone: VisitOutcome | undefined;

  /** `lane`: a lane id the caller owns, or a MachineLane shared with the machine's other handlers. */
  constructor(runtime: PythonRuntime, instance: PyRef, info: HandlerInfo, lane: number | MachineLane) {
    this.#runtime = runtime;
    this.#lane = lane instanceof MachineLane ? lane : new MachineLane(runtime, lane);
    this.#target = this.#makeTarget(instance, info);
    this.#syncOptionalMethods();
  }

  get info(): HandlerInfo {
    return this.#target.info;
  }

  /**
   * Where this handler's lane was when a run gave up on it (a timeout, an abort):
   * the method and the innermost line of the user's code. Undefined otherwise.
   */
  get stuck(): StuckAt | undefined {
    return this.#lane.stuck;
  }

  /** For timeout messages: the method and line this handler's lane is in now. */
  whereNow(): HandlerLocation | undefined {
    const now = this.#lane.whereNow();
    if (!now) return undefined;
    const method =
      now.method === 'enter' || now.method === 'execute' || now.method === 'exit' ? now.method : undefined;
    return { method, at: now.file ? `${now.file}:${now.line ?? 0}` : undefined };
  }

  /** The Python handler object. */
  get instance(): PyRef {
    return this.#target.instance;
  }

  /**
   * Hot reload: the new instance takes over at the next state entry; a visit
   * already in progress (even one looping on execute) finishes with the old one.
   */
  replace(instance: PyRef, info: HandlerInfo): void {
    this.#next = this.#makeTarget(instance, info); // swapped in by #enter
  }

  #makeTarget(instance: PyRef, info: HandlerInfo): Target {
    if (!info.inline) return { instance, info };
    return { instance, info, task: this.#runtime.call(this.#runtime.fn.new_inline_task, null, []) as PyRef };
  }

  // Which methods the machine calls: enter always, as it starts the visit (enter,
  // execute and, when leaving, exit in one go); exit only when the class overrides it.
  #syncOptionalMethods(): void {
    this.enter = this.#enter;
    this.exit = this.info.methods.exit.overridden ? this.#exit : undefined;
  }

  #isAsync(): boolean {
    const { methods } = this.info;
    return methods.enter.async || methods.execute.async || methods.exit.async;
  }

  /** Starts a visit: on the lane (default), or inline on the JS thread. */
  #beginVisit(ctx: StateContext, enter: boolean): VisitOutcome | Promise<VisitOutcome> {
    const rt = this.#runtime;
    const target = this.#target;
    const args = [
      target.instance,
      rt.mirror(ctx).sync(),
      ctx.state ?? '',
      enter,
      this.info.methods.exit.overridden,
    ];
    if (!target.task) {
      // Default path: the visit is one lane job (see visit() in python/test_rig/_bridge.py).
      return this.#onLane(ctx, this.#isAsync() ? rt.fn.visit_async : rt.fn.visit, args);
    }
    if (!this.#isAsync()) {
      // A sync inline handler's whole visit is one call (visit_inline).
      return outcomeOf(callInline(rt, ctx, rt.fn.visit_inline, args));
    }
    // An async one is a coroutine stepped here (visit_inline_async): one call, plus one
    // per awaited test-rig call, served by JS in between.
    const task = this.#freeTask();
    let step: unknown;
    try {
      step = callInline(rt, ctx, rt.fn.visit_inline_async, [...args, task]);
    } catch (err) {
      throw this.#annotate(err, 'execute');
    }
    if (typeof step === 'string') return outcomeOf(step);
    if ((step as unknown[])[0] === 0) return outcomeOf((step as unknown[])[1]);
    return this.#continueInline(step as Request, task, 'execute', ctx).then(outcomeOf);
  }

  readonly #enter = (ctx: StateContext): unknown => {
    if (this.#next) {
      this.#target = this.#next;
      this.#next = undefined;
      this.#syncOptionalMethods();
    }
    const overridden = this.info.methods.enter.overridden;
    const outcome = this.#beginVisit(ctx, overridden);
    this.#visit = { ctx, outcome };
    const checkEnter = (v: VisitOutcome): void => {
      if (v.failed !== 'enter') return;
      this.#visit = undefined;
      throw this.#visitError(v, 'enter');
    };
    if (!(outcome instanceof Promise)) return checkEnter(outcome);
    if (overridden) return outcome.then(checkEnter);
    // Nothing of the user's runs before execute: the machine awaits the visit in
    // execute(), so a hang or failure there is reported in execute.
    outcome.catch(() => undefined);
    return undefined;
  };

  readonly #exit = (ctx: StateContext): void | Promise<void> => {
    const fused = this.#exitDone;
    if (fused) {
      this.#exitDone = undefined;
      if (fused.failed === 'exit') throw this.#visitError(fused, 'exit');
      return;
    }
    return this.#invoke('exit', ctx) as void | Promise<void>;
  };

  enter?: (ctx: StateContext) => unknown;
  exit?: (ctx: StateContext) => void | Promise<void>;

  execute(ctx: StateContext): string | Promise<string> {
    // The visit enter started, or a fused execute (+ exit) now.
    const started = this.#visit?.ctx === ctx ? this.#visit.outcome : undefined;
    this.#visit = undefined;
    const outcome = started ?? this.#beginVisit(ctx, false);
    if (outcome instanceof Promise) return outcome.then((v) => this.#finishExecute(v));
    return this.#finishExecute(outcome);
  }

  #finishExecute(v: VisitOutcome): string {
    if (v.failed === 'execute') throw this.#visitError(v, 'execute');
    this.#exitDone = v.exitRan ? v : undefined;
    return this.#checkState(v.next);
  }

  async #onLane(ctx: StateContext, visit: PyRef, args: unknown[]): Promise<VisitOutcome> {
    return outcomeOf(await this.#submit(ctx, visit, args));
  }

  /**
   * A job on the machine's lane. If the run gives up while it runs (ctx.signal
   * aborts: a timeout, Ctrl-C), the lane is abandoned (see lane.ts), so the
   * next visit, in this run or the next, gets a lane of its own.
   */
  async #submit(ctx: StateContext, fn: PyRef, args: unknown[]): Promise<unknown> {
    const signal = ctx.signal;
    if (signal !== undefined && signal !== this.#watched) {
      // One listener per run signal, not per job: a visit adds no listener.
      this.#watched = signal;
      signal.addEventListener('abort', () => this.#giveUp(), { once: true });
    }
    const id = this.#lane.id;
    this.#inFlight = id;
    try {
      return await this.#runtime.submit(id, fn, null, args);
    } finally {
      if (this.#inFlight === id) this.#inFlight = undefined;
    }
  }

  #giveUp(): void {
    const id = this.#inFlight;
    this.#inFlight = undefined;
    if (id !== undefined) this.#lane.abandon(id);
  }

  #visitError(v: VisitOutcome, method: Method): unknown {
    const info = (v.error ?? { message: 'unknown Python error' }) as Partial<PythonError> & {
      message: string;
    };
    return this.#annotate(new PythonError(info.message, info), method);
  }

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

  #invoke(method: Method, ctx: StateContext): unknown {
    const rt = this.#runtime;
    const target = this.#target;
    const pyCtx = rt.mirror(ctx).sync();
    if (!target.task) {
      return this.#submit(ctx, rt.fn.call_handler, [target.instance, method, pyCtx]).catch((err: unknown) => {
        throw this.#annotate(err, method);
      });
    }
    const task = this.#freeTask();
    let step: unknown;
    try {
      step = callInline(rt, ctx, rt.fn.run_inline, [target.instance, method, pyCtx, task]);
    } catch (err) {
      throw this.#annotate(err, method);
    }
    if (typeof step === 'string') return step;
    if ((step as unknown[])[0] === 0) return (step as unknown[])[1];
    return this.#continueInline(step as Request, task, method, ctx);
  }

  #taskBusy = false;

  /** The handler's own coroutine slot, unless a coroutine of an abandoned call still holds it. */
  #freeTask(): PyRef {
    const rt = this.#runtime;
    return this.#taskBusy ? (rt.call(rt.fn.new_inline_task, null, []) as PyRef) : this.#target.task!;
  }

  // Serves the JS calls an inline coroutine awaits, resuming it with each result.
  // A step is a state string or [0, result] when the coroutine finished, else its next request.
  async #continueInline(first: Request, task: PyRef, method: Method, ctx: StateContext): Promise<unknown> {
    const rt = this.#runtime;
    const own = task === this.#target.task;
    if (own) this.#taskBusy = true;
    try {
      let step: unknown = first;
      while (typeof step !== 'string' && typeof (step as unknown[])[0] === 'string') {
        let ok = true;
        let value: unknown;
        try {
          value = await rt.handle(step as Request);
        } catch (err) {
          ok = false;
          value = encodeErrorForPython(err);
        }
        try {
          step = callInline(rt, ctx, rt.fn.resume_inline, [task, ok, value]);
        } catch (err) {
          throw this.#annotate(err, method);
        }
      }
      return typeof step === 'string' ? step : (step as unknown[])[1];
    } finally {
      if (own) this.#taskBusy = false;
    }
  }

  #annotate(err: unknown, method: Method): unknown {
    if (err instanceof PythonError && !err.message.startsWith(`${this.info.name}.`)) {
      err.message = `${this.info.name}.${method} raised ${err.message}${err.where ? ` (at ${err.where})` : ''}`;
    }
    return err;
  }
}

/** A call into a handler's Python on the JS thread: it holds the thread, so its deadline (ctx.deadline) is kept natively. */
function callInline(rt: PythonRuntime, ctx: StateContext, fn: PyRef, args: unknown[]): unknown {
  if (ctx.deadline !== undefined && Number.isFinite(ctx.deadline)) rt.armDeadline(ctx.deadline);
  return rt.call(fn, null, args);
}

export interface LoadOptions {
  /** Handler class name → state it serves (wins over the class's `state` attribute). */
  mapping?: Record<string, string>;
  /** Case parameters: passed to `__init__` arguments of the same name, and as `config`. */
  params?: Record<string, unknown>;
  /** Use this lane instead of acquiring a new one (handlers of one machine share a lane). */
  lane?: number;
  /**
   * Hot reload: re-import changed handler files (and the project modules importing
   * them) and swap the machine's handlers at the next state entry. Errors in a saved
   * file keep the previous handlers and are reported once (to stderr unless onError is given).
   */
  watch?: boolean | WatchOptions;
  /**
   * Receives a warning for each class that is loaded but not used: a `PyStateHandler`
   * subclass the naming rule skips (not named `…Handler`) and, from loadPythonHandlers,
   * a handler that serves no state. Default: `process.emitWarning` (printed on stderr);
   * `false` silences them.
   */
  onWarning?: ((message: string) => void) | false;
}

export interface WatchOptions {
  debounceMs?: number;
  /** Called after a successful reload with the modules re-executed. */
  onReload?: (modules: string[], files: string[]) => void;
  onError?: (err: PythonError) => void;
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
  /** `PyStateHandler` subclasses that were not loaded because they are not named `…Handler`. */
  skipped: HandlerInfo[];
  /** The lane the handlers use now: a fresh one after a run gave up on a job (see lane.ts). */
  readonly lane: number;
  /** The hot-reload watcher, when `watch` was set. */
  watcher?: PythonWatcher;
  /** Gives the lane back and stops watching. */
  dispose(): void;
}

/** The lane each load result's handlers share (handlers added by a hot reload join it). */
const lanesOf = new WeakMap<LoadResult, MachineLane>();

const BUILTIN_STATES = new Set<string>(Object.values(States));

/** The state a handler class serves: mapping, then `state = "..."`, then `<State>Handler` for a built-in state. */
export function stateFor(info: HandlerInfo, mapping: Record<string, string> = {}): string | undefined {
  const explicit = mapping[info.name] ?? info.state ?? undefined;
  if (explicit) return normalizeState(explicit);
  const fromName = normalizeState(info.name.replace(/Handler$/, ''));
  return BUILTIN_STATES.has(fromName) ? fromName : undefined;
}

/** A .py file or a folder, rather than a dotted module name. */
export function isPathTarget(moduleOrPath: string): boolean {
  return moduleOrPath.endsWith('.py') || moduleOrPath.includes(path.sep) || moduleOrPath.includes('/');
}

/** Imports Python handler classes (dotted module name, .py file or folder) and instantiates them (on a lane). */
export async function importPythonHandlers(
  moduleOrPath: string,
  options: LoadOptions = {},
): Promise<LoadResult> {
  const rt = PythonRuntime.get();
  // A dotted name is found in the current folder, as `python -m` finds it.
  if (!isPathTarget(moduleOrPath)) rt.addImportPath(process.cwd());
  const lane = new MachineLane(rt, options.lane);
  try {
    const [found, skipped] = (await rt.submit(lane.id, rt.fn.load_handlers_checked, null, [
      moduleOrPath,
    ])) as [[PyRef, HandlerInfo][], HandlerInfo[]];
    for (const info of skipped) {
      warn(
        options,
        `${where(info)} is a PyStateHandler subclass but was not loaded: handler classes must be named …Handler (rename it ${info.name}Handler)`,
      );
    }
    const handlers: LoadedHandler[] = [];
    for (const [cls, info] of found) {
      const instance = (await rt.submit(lane.id, rt.fn.instantiate, null, [
        cls,
        options.params ?? {},
      ])) as PyRef;
      handlers.push({
        handler: new PythonHandler(rt, instance, info, lane),
        info,
        state: stateFor(info, options.mapping),
      });
    }
    let disposed = false;
    const result: LoadResult = {
      handlers,
      registered: [],
      unmapped: handlers.filter((h) => h.state === undefined),
      skipped,
      get lane() {
        return lane.id;
      },
      dispose: () => {
        if (!disposed) lane.release();
        disposed = true;
      },
    };
    lanesOf.set(result, lane);
    return result;
  } catch (err) {
    lane.release();
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
    if (loaded.state === undefined) {
      warn(
        options,
        `${where(loaded.info)} serves no state, so it was not registered: set state = "…" on the class, name it after a built-in state (e.g. GettingVersionHandler) or pass mapping: { ${loaded.info.name}: '…' }`,
      );
      continue;
    }
    machine.register(loaded.state, loaded.handler);
    result.registered.push(loaded);
  }
  if (options.watch) watchHandlers(machine, moduleOrPath, result, options);
  return result;
}

/** A class and where it is defined, for messages. */
function where(info: HandlerInfo): string {
  return `${info.name} (${info.file ?? info.module}:${info.line})`;
}

function warn(options: LoadOptions, message: string): void {
  if (options.onWarning === false) return;
  if (options.onWarning) options.onWarning(message);
  else process.emitWarning(message, 'TestRigWarning');
}

function watchHandlers(
  machine: StateMachine<StateContext>,
  moduleOrPath: string,
  result: LoadResult,
  options: LoadOptions,
): void {
  const rt = PythonRuntime.get();
  const root = watchRoot(moduleOrPath, result.handlers);
  if (!root) return;
  const watch: WatchOptions = typeof options.watch === 'object' ? options.watch : {};
  const watcher = new PythonWatcher(rt, root, { debounceMs: watch.debounceMs });
  const report = (err: unknown): void => {
    const e = err instanceof PythonError ? err : new PythonError(String((err as Error)?.message ?? err));
    if (watch.onError) watch.onError(e);
    else process.stderr.write(`test-rig: ${e.message}\n`);
  };
  watcher.on('error', report);
  watcher.on('reload', ({ modules, files, classes }) => {
    swapReloaded(classes).then(() => watch.onReload?.(modules, files), report);
  });
  const swapReloaded = async (classes: { cls: PyRef; info: HandlerInfo }[]): Promise<void> => {
    for (const { cls, info } of classes) {
      const instance = (await rt.submit(result.lane, rt.fn.instantiate, null, [
        cls,
        options.params ?? {},
      ])) as PyRef;
      const existing = result.handlers.find(
        (h) => h.info.name === info.name && h.info.module === info.module,
      );
      const state = stateFor(info, options.mapping);
      if (existing) {
        await rt.submit(result.lane, rt.fn.carry_over, null, [instance, existing.handler.instance]);
        existing.handler.replace(instance, info);
        existing.info = info;
        if (state !== undefined && state !== existing.state) machine.register(state, existing.handler);
        existing.state = state ?? existing.state;
      } else {
        const loaded: LoadedHandler = {
          handler: new PythonHandler(rt, instance, info, lanesOf.get(result) ?? result.lane),
          info,
          state,
        };
        result.handlers.push(loaded);
        if (state !== undefined) {
          machine.register(state, loaded.handler);
          result.registered.push(loaded);
        }
      }
    }
  };
  result.watcher = watcher;
  const dispose = result.dispose;
  result.dispose = () => {
    watcher.close();
    dispose();
  };
}
