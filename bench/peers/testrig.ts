// test-rig: the default path (a lane thread with its own asyncio loop) and the
// inline fast path (on the JS thread), through the engine's public calls.
import path from 'node:path';
import {
  Connection,
  PythonRuntime,
  StateContext,
  importPythonHandlers,
  type PythonHandler,
} from '../../ts/index.js';
import { context5, makeRows, type Contender, type Driver } from './driver.js';

const driver: Driver = {
  contenders: [
    { id: 'testrig-inline', label: 'test-rig, inline fast path' },
    { id: 'testrig-default', label: 'test-rig, default path (lane)' },
  ],
  async open(opts) {
    const rt = PythonRuntime.get();
    const loaded = await importPythonHandlers(path.join(opts.pythonDir, 'peers_rig.py'));
    const byName = (name: string): PythonHandler => {
      const h = loaded.handlers.find((l) => l.info.name === name);
      if (!h) throw new Error(`peers_rig.py has no ${name}`);
      return h.handler;
    };
    const bench = byName('BenchHandler');
    const inlineBench = byName('InlineBenchHandler');
    const query = byName('QueryHandler');
    const inlineQuery = byName('InlineQueryHandler');
    const obj = bench.instance;
    const lane = loaded.lane;

    const ctx = new StateContext({
      host: opts.server.host,
      port: opts.server.port,
      username: opts.server.user,
    });
    const qctx = new StateContext({
      host: opts.server.host,
      port: opts.server.port,
      username: opts.server.user,
      password: opts.server.password,
    });
    qctx.connection = await Connection.open(opts.server);
    qctx.connections.set('main', qctx.connection);

    const rows = makeRows();
    const contenders: Contender[] = [
      {
        id: 'testrig-inline',
        label: 'test-rig, inline fast path',
        how: 'scenarios 1, 2, 5: PythonRuntime.call(instance, method, args) on the JS thread; 3, 4: PythonHandler.execute of an `inline = True` handler (coroutine stepped on the JS thread, queries served there)',
        ops: {
          s1: { kind: 'sync', fn: () => rt.call(obj, 'trivial', []) },
          s2: { kind: 'sync', fn: () => rt.call(obj, 'with_context', [context5]) },
          s3: { kind: 'async', fn: () => inlineBench.execute(ctx) },
          s4: { kind: 'async', fn: () => inlineQuery.execute(qctx) },
          s5a: { kind: 'sync', fn: () => rt.call(obj, 'rows_out', []) },
          s5b: { kind: 'sync', fn: () => rt.call(obj, 'rows_in', [rows]) },
        },
      },
      {
        id: 'testrig-default',
        label: 'test-rig, default path (lane)',
        how: "scenarios 1, 2, 5: await PythonRuntime.submit(lane, instance, method, args) (runs on the lane's thread); 3, 4: PythonHandler.execute of a default handler (coroutine awaited on the lane's asyncio loop, the query served on the JS thread)",
        ops: {
          s1: { kind: 'async', fn: () => rt.submit(lane, obj, 'trivial', []) },
          s2: { kind: 'async', fn: () => rt.submit(lane, obj, 'with_context', [context5]) },
          s3: { kind: 'async', fn: () => bench.execute(ctx) },
          s4: { kind: 'async', fn: () => query.execute(qctx) },
          s5a: { kind: 'async', fn: () => rt.submit(lane, obj, 'rows_out', []) },
          s5b: { kind: 'async', fn: () => rt.submit(lane, obj, 'rows_in', [rows]) },
        },
      },
    ];
    return {
      contenders,
      async close() {
        await qctx.closeConnections();
        loaded.dispose();
      },
    };
  },
};
export default driver;
