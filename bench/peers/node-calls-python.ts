// node-calls-python (N-API, Python on the JS main thread for *Sync calls, on the
// libuv pool for async calls), loaded from the temporary install folder.
import { createRequire } from 'node:module';
import path from 'node:path';
import { context5, makeRows, type Driver } from './driver.js';

interface NcpInterpreter {
  importSync(file: string, allowReimport: boolean): unknown;
  createSync(module: unknown, cls: string, ...args: unknown[]): unknown;
  callSync(obj: unknown, method: string, ...args: unknown[]): unknown;
  call(obj: unknown, method: string, ...args: unknown[]): Promise<unknown>;
}

const NO_COROUTINE =
  'cannot await a coroutine: call()/callSync() return the coroutine object unawaited (node-calls-python#52)';

const driver: Driver = {
  contenders: [
    { id: 'ncp-sync', label: 'node-calls-python callSync' },
    { id: 'ncp-async', label: 'node-calls-python await call' },
  ],
  async open(opts) {
    if (!opts.peersDir) throw new Error(opts.peersUnavailable ?? 'not installed');
    const require = createRequire(path.join(opts.peersDir, 'node-calls-python', 'package.json'));
    const py = (require('node-calls-python') as { interpreter: NcpInterpreter }).interpreter;
    const mod = py.importSync(path.join(opts.pythonDir, 'peers_plain.py'), false);
    const obj = py.createSync(mod, 'Bench');
    const cb = py.createSync(mod, 'CallbackQuery');
    const mysql = (await import('mysql2/promise')).default;
    const conn = await mysql.createConnection(opts.server);
    // Called from Python on a pool thread (through a threadsafe function): starts the
    // query and returns at once; the rows are delivered back with callSync.
    const query = (sql: string): null => {
      conn.query(sql).then(
        ([rows]) => py.callSync(cb, 'deliver', rows),
        () => py.callSync(cb, 'deliver', null),
      );
      return null;
    };
    const rows = makeRows();
    return {
      contenders: [
        {
          id: 'ncp-sync',
          label: 'node-calls-python callSync',
          how: 'interpreter.callSync(obj, method, arg) on the JS thread',
          ops: {
            s1: { kind: 'sync', fn: () => py.callSync(obj, 'trivial', null) },
            s2: { kind: 'sync', fn: () => py.callSync(obj, 'with_context', context5) },
            s3: { kind: 'unsupported', reason: NO_COROUTINE },
            s4: {
              kind: 'unsupported',
              reason: 'a sync call blocks the JS thread, so the JS callback cannot run an async query',
            },
            s5a: { kind: 'sync', fn: () => py.callSync(obj, 'rows_out', null) },
            s5b: { kind: 'sync', fn: () => py.callSync(obj, 'rows_in', rows) },
          },
        },
        {
          id: 'ncp-async',
          label: 'node-calls-python await call',
          how: 'await interpreter.call(obj, method, arg) (runs on the libuv pool); scenario 4: Python calls a JS function (threadsafe function), which starts the query, then waits on a threading.Event that JS sets with callSync(deliver, rows)',
          ops: {
            s1: { kind: 'async', fn: () => py.call(obj, 'trivial', null) },
            s2: { kind: 'async', fn: () => py.call(obj, 'with_context', context5) },
            s3: { kind: 'unsupported', reason: NO_COROUTINE },
            s4: { kind: 'async', fn: () => py.call(cb, 'execute', query) },
            s5a: { kind: 'async', fn: () => py.call(obj, 'rows_out', null) },
            s5b: { kind: 'async', fn: () => py.call(obj, 'rows_in', rows) },
          },
        },
      ],
      close: () => conn.end(),
    };
  },
};
export default driver;
