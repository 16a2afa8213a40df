// `test-rig run --watch`: run once, then re-run the cases of every test file
// that changed — or that imports a changed helper module — after a short
// debounce, until Ctrl-C. Changed modules are reloaded by the same watcher
// that hot-reloads handlers (ts/python/watch.ts).
import path from 'node:path';
import { PythonRuntime } from '../python/runtime.js';
import { PythonWatcher } from '../python/watch.js';
import { EXIT_INTERRUPTED, collectSuites, runSuites, type RunnerOptions } from './command.js';

const isTestFile = (file: string) => /^test_.*\.py$/.test(path.basename(file));

export async function watchSuites(o: RunnerOptions): Promise<number> {
  const err = o.err ?? ((t: string) => process.stderr.write(t));
  // Ctrl-C during a run cancels that run (the runner's own handling) and ends the watch.
  const stopped = new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  let code = await runSuites(o);
  const rt = PythonRuntime.get();
  const watchers = collectSuites(o).map((s) => new PythonWatcher(rt, s.dir, { debounceMs: 200 }));
  let queue = Promise.resolve();
  const rerun = (files: string[]) => {
    const names = [...new Set(files.filter(isTestFile).map((f) => path.basename(f)))];
    if (names.length === 0) return;
    queue = queue.then(async () => {
      err(`\nchanged: ${names.join(', ')}: running their cases again\n`);
      code = await runSuites({ ...o, files: names });
      err('watching for changes (Ctrl-C to stop)\n');
    });
  };
  for (const w of watchers) {
    w.on('reload', ({ moduleFiles, files }) => rerun([...moduleFiles, ...files]));
    // A test file that no longer loads still runs: the runner reports it as a failed case.
    w.on('error', (e) => {
      err(`${e.message}\n`);
      if (e.file) rerun([e.file]);
    });
  }
  err('watching for changes (Ctrl-C to stop)\n');
  const keepAlive = setInterval(() => undefined, 1 << 30); // watchers are unref'd; the watch itself is the job
  await stopped;
  clearInterval(keepAlive);
  for (const w of watchers) w.close();
  await queue;
  return code === 0 ? EXIT_INTERRUPTED : code;
}
