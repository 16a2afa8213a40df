// The hot-reload watcher follows folders, not a snapshot of them: a folder created after it
// started (nested too), and a folder that had no .py file when it started, are watched, so
// saving a file there is a change like any other.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PythonRuntime } from '../../ts/python/runtime.js';
import { PythonWatcher } from '../../ts/python/watch.js';

describe('hot-reload watcher: folders created later', function () {
  this.timeout(60_000);
  let root: string;
  let watcher: PythonWatcher | undefined;
  let seen: string[];

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'trwatch-'));
    fs.writeFileSync(path.join(root, 'top.py'), 'X = 1\n');
    fs.mkdirSync(path.join(root, 'data')); // no .py file in it yet
    seen = [];
    watcher = new PythonWatcher(PythonRuntime.get(), root, { debounceMs: 30 });
    watcher.on('reload', (e) => seen.push(...e.files));
    watcher.on('error', () => undefined);
  });
  afterEach(() => {
    watcher?.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  /** Resolves once the watcher reported `file` changed; fails (not hangs) after 15 s. */
  async function changeSeen(file: string): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (!seen.includes(file)) {
      if (Date.now() > deadline) assert.fail(`no change reported for ${file}; reported: ${seen.join(', ')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('reports a file in a folder made after the watcher started, nested two deep, and its later saves', async () => {
    const deeper = path.join(root, 'later', 'deeper');
    fs.mkdirSync(deeper, { recursive: true });
    const file = path.join(deeper, 'new_mod.py');
    fs.writeFileSync(file, 'Y = 1\n');
    await changeSeen(file);
    seen.length = 0;
    await watcher!.settled();
    fs.writeFileSync(file, 'Y = 2\n');
    await changeSeen(file);
  });

  it('reports a file saved in a folder that held no .py file when the watcher started', async () => {
    const file = path.join(root, 'data', 'now_python.py');
    fs.writeFileSync(file, 'Z = 1\n');
    await changeSeen(file);
  });

  it('still reports a file in the root', async () => {
    const file = path.join(root, 'top.py');
    fs.writeFileSync(file, 'X = 2\n');
    await changeSeen(file);
  });
});
