// Python handlers for monitor events (`test-rig monitor --python-module M`).
// Contract (docs/monitor.md): a handler class (a PyStateHandler subclass named …Handler)
// that defines `on_<event>(self, context, event)` for an event gets that event, else
// `on_event(self, context, event)` gets it. `event` is the --json line's dict; the
// context's `import_jobs` holds the rows of the poll the event came from.
import path from 'node:path';
import type { StateContext } from '../machine/context.js';
import { PythonError } from '../python/errors.js';
import { importPythonHandlers, type HandlerInfo, type LoadResult } from '../python/handlers.js';
import type { PyRef } from '../python/native.js';
import { PythonRuntime } from '../python/runtime.js';
import { PythonWatcher, watchRoot } from '../python/watch.js';
import type { MonitorEventRecord } from './command.js';
import { publishImportJobs, type CapturingRunner } from './context.js';
import type { ImportJobMonitor } from './monitor.js';

export const MONITOR_EVENT_NAMES = [
  'discovered',
  'phase',
  'progress',
  'finished',
  'failed',
  'cancelled',
] as const;

export interface PythonMonitorOptions {
  /** Dotted module name, or a .py file or folder. */
  module: string;
  /** The context Python sees: context.connection is ctx.connection, context.import_jobs the last poll's rows. */
  ctx: StateContext;
  /** Passed to the handlers' `__init__` arguments of the same name (and as `config`). */
  params?: Record<string, unknown>;
  /** Hot reload: changed files are re-imported and the handlers replaced between polls. */
  watch?:
    | boolean
    | { debounceMs?: number; onReload?: (files: string[]) => void; onError?: (err: PythonError) => void };
}

interface Target {
  info: HandlerInfo;
  instance: PyRef;
  /** Event name → the method that receives it. */
  methods: Map<string, string>;
}

/** The Python monitor handlers of one module, called on the monitor's job events. */
export class PythonMonitorHandlers {
  readonly #rt: PythonRuntime;
  readonly #ctx: StateContext;
  readonly #loaded: LoadResult;
  readonly #params: Record<string, unknown>;
  #targets: Target[];
  #watcher: PythonWatcher | undefined;
  #adapter: PyRef | undefined;

  private constructor(rt: PythonRuntime, o: PythonMonitorOptions, loaded: LoadResult, targets: Target[]) {
    this.#rt = rt;
    this.#ctx = o.ctx;
    this.#loaded = loaded;
    this.#params = o.params ?? {};
    this.#targets = targets;
  }

  /** Imports the module and keeps its handler classes that define on_event or on_<event>. */
  static async load(o: PythonMonitorOptions): Promise<PythonMonitorHandlers> {
    const rt = PythonRuntime.get();
    const isPath = o.module.endsWith('.py') || o.module.includes(path.sep);
    if (!isPath) rt.addImportPath(process.cwd()); // `--python-module my_handlers` as with python -m
    const loaded = await importPythonHandlers(o.module, { params: o.params });
    const targets: Target[] = [];
    for (const h of loaded.handlers) {
      const t = targetFor(rt, h.info, h.handler.instance);
      if (t) targets.push(t);
    }
    if (targets.length === 0) {
      loaded.dispose();
      const names = loaded.handlers.map((h) => h.info.name).join(', ');
      throw new Error(
        `no monitor handler in ${o.module}: define on_event(self, context, event) or on_<event>(…) ` +
          `(discovered, phase, progress, finished, failed, cancelled) on a PyStateHandler subclass named …Handler` +
          (names ? ` (found ${names}, without those methods)` : ''),
      );
    }
    const handlers = new PythonMonitorHandlers(rt, o, loaded, targets);
    if (o.watch) handlers.#watch(o);
    return handlers;
  }

  /** Names of the handler classes receiving events. */
  get handlerNames(): string[] {
    return this.#targets.map((t) => t.info.name);
  }

  get watcher(): PythonWatcher | undefined {
    return this.#watcher;
  }

  /**
   * Calls the handlers for each event, in order, one at a time. With the monitor and the
   * runner that polled, context.import_jobs is brought up to date with that poll first.
   */
  async dispatch(
    events: MonitorEventRecord[],
    monitor?: ImportJobMonitor,
    runner?: CapturingRunner,
  ): Promise<void> {
    if (monitor && runner) publishImportJobs(this.#ctx, monitor, runner);
    const rt = this.#rt;
    const targets = this.#targets;
    for (const ev of events) {
      for (const t of targets) {
        const method = t.methods.get(ev.name);
        if (!method) continue;
        // call_handler sets the current context (context.open_connection works) and awaits coroutines.
        this.#adapter ??= rt.call(rt.importModule('builtins'), 'eval', [
          "lambda m, e: __import__('types').SimpleNamespace(run=lambda c: m(c, e))",
          {},
        ]) as PyRef;
        const bound = rt.call(rt.importModule('builtins'), 'getattr', [t.instance, method]) as PyRef;
        const call = rt.call(this.#adapter, null, [bound, ev.json]) as PyRef;
        const pyCtx = rt.mirror(this.#ctx).sync();
        try {
          await rt.submit(this.#loaded.lane, rt.fn.call_handler, null, [call, 'run', pyCtx]);
        } catch (err) {
          if (err instanceof PythonError) {
            err.message = `${t.info.name}.${method} raised ${err.message}${err.where ? ` (at ${err.where})` : ''}`;
          }
          throw err;
        }
      }
    }
  }

  /** Stops watching, gives the lane back and drops the Python context. */
  async dispose(): Promise<void> {
    this.#watcher?.close();
    this.#loaded.dispose();
    await this.#rt.release(this.#ctx);
  }

  #watch(o: PythonMonitorOptions): void {
    const rt = this.#rt;
    const w = typeof o.watch === 'object' ? o.watch : {};
    const root = watchRoot(o.module, this.#loaded.handlers);
    if (!root) return;
    const watcher = new PythonWatcher(rt, root, { debounceMs: w.debounceMs });
    const report = (err: unknown): void => {
      const e = err instanceof PythonError ? err : new PythonError(String((err as Error)?.message ?? err));
      if (w.onError) w.onError(e);
      else process.stderr.write(`test-rig: ${e.message}\n`);
    };
    watcher.on('error', report);
    watcher.on('reload', ({ files, classes }) => {
      const swap = async (): Promise<void> => {
        const next = [...this.#targets];
        for (const { cls, info } of classes) {
          const instance = (await rt.submit(this.#loaded.lane, rt.fn.instantiate, null, [
            cls,
            this.#params,
          ])) as PyRef;
          const i = next.findIndex((t) => t.info.name === info.name && t.info.module === info.module);
          if (i >= 0)
            await rt.submit(this.#loaded.lane, rt.fn.carry_over, null, [instance, next[i].instance]);
          const t = targetFor(rt, info, instance);
          if (i >= 0 && t) next[i] = t;
          else if (i >= 0) next.splice(i, 1);
          else if (t) next.push(t);
        }
        this.#targets = next; // takes effect from the next poll's events
        w.onReload?.(files);
      };
      swap().catch(report);
    });
    this.#watcher = watcher;
  }
}

function targetFor(rt: PythonRuntime, info: HandlerInfo, instance: PyRef): Target | undefined {
  const builtins = rt.importModule('builtins');
  const has = (name: string): boolean => rt.call(builtins, 'hasattr', [instance, name]) === true;
  const fallback = has('on_event') ? 'on_event' : undefined;
  const methods = new Map<string, string>();
  for (const ev of MONITOR_EVENT_NAMES) {
    const m = has(`on_${ev}`) ? `on_${ev}` : fallback;
    if (m) methods.set(ev, m);
  }
  return methods.size > 0 ? { info, instance, methods } : undefined;
}
