// pythonia (JSPyBridge): a python3 child over an IPC pipe, every access awaited.
import { createRequire } from 'node:module';
import path from 'node:path';
import { context5, makeRows, type Driver } from './driver.js';

// A pythonia proxy: call it or any attribute, await the result; valueOf() fetches a value.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Proxy = any;

const driver: Driver = {
  contenders: [{ id: 'pythonia', label: 'pythonia (JSPyBridge)' }],
  async open(opts) {
    if (!opts.peersDir) throw new Error(opts.peersUnavailable ?? 'not installed');
    const require = createRequire(path.join(opts.peersDir, 'pythonia', 'package.json'));
    const { python } = require('pythonia') as {
      python: ((file: string) => Promise<Proxy>) & { exit(): void };
    };
    const mod = await python(path.join(opts.pythonDir, 'peers_plain.py'));
    const obj = await mod.Bench();
    const mysql = (await import('mysql2/promise')).default;
    const conn = await mysql.createConnection(opts.server);
    const query = async (sql: string): Promise<unknown> => (await conn.query(sql))[0];
    const rows = makeRows();
    return {
      contenders: [
        {
          id: 'pythonia',
          label: 'pythonia (JSPyBridge)',
          how: 'await obj.method(arg); a returned dict or list is a proxy, so its value costs a second awaited round trip (valueOf); scenario 4: Python calls a JS async function, which the bridge awaits',
          ops: {
            s1: { kind: 'async', fn: () => obj.trivial(null) },
            s2: { kind: 'async', fn: async () => (await obj.with_context(context5)).valueOf() },
            s3: {
              kind: 'unsupported',
              reason: 'calling an async def returns a proxy of the unawaited coroutine',
            },
            s4: { kind: 'async', fn: () => obj.query_via(query) },
            s5a: { kind: 'async', fn: async () => (await obj.rows_out(null)).valueOf() },
            s5b: { kind: 'async', fn: () => obj.rows_in(rows) },
          },
        },
      ],
      async close() {
        await conn.end();
        python.exit();
      },
    };
  },
};
export default driver;
