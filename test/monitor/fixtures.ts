// Shared set-up for the monitor tests: an in-process emulator in front of the test
// MariaDB, a scratch database, CSV files in a temp dir and client connections.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import mysql from 'mysql2/promise';
import { scratchDatabase, testServer } from '../helpers/db.js';
import { startEmulator, type Emulator, type EmulatorOptions } from '../emulator/server.js';

export interface Fixture {
  emu: Emulator;
  db: string;
  dir: string;
  /** A client connection to the emulator, in the scratch database. */
  connect(options?: mysql.ConnectionOptions): Promise<mysql.Connection>;
  /** Writes `rows` CSV lines (id,name,age) and returns the path. */
  csv(name: string, rows: number, extra?: string): Promise<string>;
  close(): Promise<void>;
}

export async function setUp(options: EmulatorOptions = {}): Promise<Fixture> {
  const emu = await startEmulator({
    backend: testServer,
    chunkRows: 5,
    ...options,
  });
  const scratch = await scratchDatabase('trt_mon');
  const dir = await mkdtemp(join(tmpdir(), 'trt-monitor-'));
  const conns: mysql.Connection[] = [];
  return {
    emu,
    db: scratch.name,
    dir,
    async connect(options = {}) {
      const c = await mysql.createConnection({
        host: emu.host,
        port: emu.port,
        user: 'root',
        database: scratch.name,
        ...options,
      });
      conns.push(c);
      return c;
    },
    async csv(name, rows, extra = '') {
      let s = '';
      for (let i = 1; i <= rows; i++) s += `${i},name${i},${20 + (i % 50)}\n`;
      const path = join(dir, name);
      await writeFile(path, s + extra);
      return path;
    },
    async close() {
      for (const c of conns) await c.end().catch(() => c.destroy());
      await emu.close();
      await scratch.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export const TABLE_DDL = '(id INT PRIMARY KEY, name VARCHAR(40), age INT)';

/** A writable that keeps everything written to it. */
export class Capture extends Writable {
  text = '';
  isTTY = false;
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every 10 ms until it holds (or throws after `ms`). */
export async function until(check: () => boolean | Promise<boolean>, ms = 10000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await sleep(10);
  }
}
