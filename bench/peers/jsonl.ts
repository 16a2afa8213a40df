// The old rig's design: a python3 child process, one JSON-lines round trip per call.
import path from 'node:path';
import { JsonLinesChild } from '../lib/jsonl-child.js';
import { context5, makeRows, type Driver } from './driver.js';

const driver: Driver = {
  contenders: [{ id: 'jsonl', label: 'python3 child, JSON lines' }],
  async open(opts) {
    const child = new JsonLinesChild(path.join(opts.pythonDir, 'peers_plain.py'));
    const rows = makeRows();
    await child.call('Bench', 'trivial');
    return {
      contenders: [
        {
          id: 'jsonl',
          label: 'python3 child, JSON lines',
          how: 'await child.call(cls, method, arg): one JSON line each way over stdio (bench/lib/jsonl-child.ts)',
          ops: {
            s1: { kind: 'async', fn: () => child.call('Bench', 'trivial') },
            s2: { kind: 'async', fn: () => child.call('Bench', 'with_context', context5) },
            s3: {
              kind: 'unsupported',
              reason: 'the child calls methods synchronously: a coroutine is returned, never awaited',
            },
            s4: {
              kind: 'unsupported',
              reason: 'one-way request/response protocol: Python cannot call back into JS',
            },
            s5a: { kind: 'async', fn: () => child.call('Bench', 'rows_out') },
            s5b: { kind: 'async', fn: () => child.call('Bench', 'rows_in', rows) },
          },
        },
      ],
      async close() {
        child.close();
      },
    };
  },
};
export default driver;
