// The resource-growth workload shared by bench/resources.ts (the full counts)
// and test/reliability/resources.test.ts (scaled down): handler visits on the
// inline sync/async and default paths, and queries from Python; it reports
// the growth of RSS, the V8 heap and Python's live objects.
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { fileURLToPath } from 'node:url';
import { Connection, PythonRuntime, StateContext, StateMachine, loadPythonHandlers } from '../../ts/index.js';
import type { PyRef } from '../../ts/python/native.js';

export const RESOURCE_HANDLERS = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../bench/python/resources_handlers.py',
);

export interface ServerParams {
  host: string;
  port: number;
  user: string;
  password: string;
}

export interface Snapshot {
  rssBytes: number;
  heapBytes: number;
  pyObjects: number;
  pyTracedBytes: number;
}

export interface Growth {
  name: string;
  ops: number;
  seconds: number;
  before: Snapshot;
  after: Snapshot;
  rssMB: number;
  heapMB: number;
  pyObjects: number;
  pyObjectsPct: number;
  pyTracedKB: number;
}

/** V8's gc(), also without --expose-gc (mocha in CI runs without it). */
function exposedGc(): () => void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) return g;
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}

export class ResourceProbe {
  readonly rt = PythonRuntime.get();
  readonly #mod: PyRef;
  #ctx?: StateContext;

  constructor() {
    this.rt.addImportPath(path.dirname(RESOURCE_HANDLERS));
    this.#mod = this.rt.importModule('resources_handlers');
  }

  /** A context connected to the server (for the query workloads); visits need none. */
  async connect(server: ServerParams): Promise<void> {
    const ctx = new StateContext({
      host: server.host,
      port: server.port,
      username: server.user,
      password: server.password,
    });
    ctx.connection = await Connection.open(server, { name: 'main' });
    ctx.connections.set('main', ctx.connection);
    this.#ctx = ctx;
  }

  async close(): Promise<void> {
    if (this.#ctx) {
      await this.rt.release(this.#ctx);
      await this.#ctx.closeConnections();
    }
  }

  async snapshot(): Promise<Snapshot> {
    // settle: finished promises, V8 garbage and the finalizers that release
    // Python references JS held (they run in later tasks), then Python's collector
    const gc = exposedGc();
    for (let i = 0; i < 3; i++) {
      gc?.();
      await new Promise((r) => setTimeout(r, 20));
    }
    const pyObjects = this.rt.call(this.#mod, 'python_objects', []) as number;
    const pyTracedBytes = this.rt.call(this.#mod, 'traced_bytes', []) as number;
    const m = process.memoryUsage();
    return { rssBytes: m.rss, heapBytes: m.heapUsed, pyObjects, pyTracedBytes };
  }

  /** `visits` steps from `initialState` on one machine, in runs of at most `perRun`. */
  async visits(initialState: string, visits: number, perRun = 10_000): Promise<void> {
    for (let done = 0; done < visits; done += perRun) {
      const n = Math.min(perRun, visits - done);
      const machine = new StateMachine();
      // Ping/Pong states each count their own visits down: half each
      const each = initialState.endsWith('Ping') ? Math.ceil(n / 2) : n;
      const loaded = await loadPythonHandlers(machine, RESOURCE_HANDLERS, { params: { n: each } });
      const ctx = this.#ctx ?? new StateContext({});
      try {
        const r = await machine.run(ctx, { initialState, maxSteps: n + 10 });
        if (r.finalState !== 'Completed') throw new Error(`${initialState}: ended in ${r.finalState}`);
      } finally {
        loaded.dispose();
        if (!this.#ctx) await this.rt.release(ctx);
      }
    }
  }

  /** Runs `work` once to warm up, then measures a second, measured run of it. */
  async measure(
    name: string,
    ops: number,
    work: () => Promise<void>,
    warmup?: () => Promise<void>,
  ): Promise<Growth> {
    await (warmup ?? work)();
    const before = await this.snapshot();
    const t0 = performance.now();
    await work();
    const seconds = (performance.now() - t0) / 1000;
    const after = await this.snapshot();
    const pyObjects = after.pyObjects - before.pyObjects;
    return {
      name,
      ops,
      seconds,
      before,
      after,
      rssMB: (after.rssBytes - before.rssBytes) / 2 ** 20,
      heapMB: (after.heapBytes - before.heapBytes) / 2 ** 20,
      pyObjects,
      pyObjectsPct: (100 * pyObjects) / before.pyObjects,
      pyTracedKB: (after.pyTracedBytes - before.pyTracedBytes) / 1024,
    };
  }
}

export function formatGrowth(g: Growth): string {
  const sign = (n: number, d = 1) => `${n >= 0 ? '+' : ''}${n.toFixed(d)}`;
  return (
    `${g.name.padEnd(40)} ${String(g.ops).padStart(9)} ops ${g.seconds.toFixed(1).padStart(6)} s  ` +
    `RSS ${sign(g.rssMB)} MB  heap ${sign(g.heapMB)} MB  ` +
    `Python objects ${sign(g.pyObjects, 0)} (${sign(g.pyObjectsPct, 2)}% of ${g.before.pyObjects})  ` +
    `traced ${sign(g.pyTracedKB, 0)} KB`
  );
}
