// The floor for scenario 4: TypeScript awaiting mysql2 directly, no Python.
import mysql from 'mysql2/promise';
import type { Driver } from './driver.js';

const driver: Driver = {
  contenders: [{ id: 'mysql2', label: 'TypeScript + mysql2 (floor)' }],
  async open(opts) {
    const conn = await mysql.createConnection(opts.server);
    const none = { kind: 'unsupported', reason: 'no query involved' } as const;
    return {
      contenders: [
        {
          id: 'mysql2',
          label: 'TypeScript + mysql2 (floor)',
          how: "await conn.query('SELECT 1') on a mysql2/promise connection",
          ops: {
            s1: none,
            s2: none,
            s3: none,
            s4: { kind: 'async', fn: () => conn.query('SELECT 1') },
            s5a: none,
            s5b: none,
          },
        },
      ],
      close: () => conn.end(),
    };
  },
};
export default driver;
