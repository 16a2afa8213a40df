// `test-rig run --watch`: run once, then re-run the cases of every test file
// that changed — or that imports a changed helper module — after a short
// debounce, until Ctrl-C. Changed modules are reloaded by the same watcher
// that hot-reloads handlers (ts/python/watch.ts).
import path from 'node:path';
import { runAndRerun } from '../python/watch.js';
import { collectSuites, runSuites, type RunnerOptions } from './command.js';

const isTestFile = (file: string) => /^test_.*\.py$/.test(path.basename(file));

export async function watchSuites(o: RunnerOptions): Promise<number> {
  const err = o.err ?? ((t: string) => process.stderr.write(t));
  return runAndRerun(
    collectSuites(o).map((s) => s.dir),
    (files) => runSuites(files ? { ...o, files } : o),
    {
      note: (line) => err(`${line}\n`),
      debounceMs: 200,
      // The test files among the changed and reloaded modules; a test file that no
      // longer loads runs too, so the runner reports it as a failed case.
      affected: ({ files, moduleFiles }) => {
        const names = [
          ...new Set([...moduleFiles, ...files].filter(isTestFile).map((f) => path.basename(f))),
        ];
        return names.length ? names : undefined;
      },
    },
  );
}
