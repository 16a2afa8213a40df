// The baseline every bridge is compared with: a python3 child process that
// serves calls as JSON lines over stdio, one round trip per call.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const benchPythonDir = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../bench/python',
);

export class JsonLinesChild {
  readonly #proc: ChildProcessWithoutNullStreams;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #next = 1;

  constructor(handlersFile: string, python = process.env.TEST_RIG_PYTHON || 'python3') {
    this.#proc = spawn(python, ['-u', path.join(benchPythonDir, 'jsonl_child.py'), handlersFile], {
      stdio: 'pipe',
    });
    createInterface({ input: this.#proc.stdout }).on('line', (line) => {
      const msg = JSON.parse(line) as { id: number; ok: boolean; value: unknown };
      const p = this.#pending.get(msg.id);
      this.#pending.delete(msg.id);
      if (msg.ok) p?.resolve(msg.value);
      else p?.reject(new Error(String(msg.value)));
    });
  }

  call(cls: string, method: string, ctx: unknown = null, config?: unknown): Promise<unknown> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#proc.stdin.write(JSON.stringify({ id, cls, method, ctx, config }) + '\n');
    });
  }

  close(): void {
    this.#proc.stdin.end();
    this.#proc.kill();
  }
}
