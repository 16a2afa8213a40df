// Type safety: test_rig's annotations let a type checker (pyright, as editors
// run it) accept the code users write and catch their mistakes. The project's
// pyrightconfig.json covers test_rig itself, the bundled suites and the typing
// fixtures; bad_handlers.py marks each line that must be reported.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const badFile = path.join(root, 'test/python/fixtures/typing/bad_handlers.py');

interface Diagnostic {
  file: string;
  severity: 'error' | 'warning' | 'information';
  message: string;
  rule?: string;
  range: { start: { line: number } };
}

/** `file:line rule` of each error pyright reports for the project. */
async function pyrightErrors(): Promise<string[]> {
  const cli = path.join(
    path.dirname(createRequire(import.meta.url).resolve('pyright/package.json')),
    'index.js',
  );
  // pyright exits 1 when it finds errors: the JSON report is on stdout either way.
  const stdout = await promisify(execFile)(
    process.execPath,
    [cli, '--outputjson', '-p', 'pyrightconfig.json'],
    {
      cwd: root,
      maxBuffer: 64 * 1024 * 1024,
    },
  ).then(
    (r) => r.stdout,
    (err: { stdout?: string }) => err.stdout ?? '',
  );
  const report = JSON.parse(stdout) as { generalDiagnostics: Diagnostic[] };
  return report.generalDiagnostics
    .filter((d) => d.severity === 'error')
    .map((d) => `${path.relative(root, d.file)}:${d.range.start.line + 1} ${d.rule ?? d.message}`);
}

describe('Python typing (pyright over test_rig, the bundled suites and handler fixtures)', function () {
  this.timeout(120_000);
  let errors: string[];
  before(async () => {
    errors = await pyrightErrors();
  });

  it('reports no error in test_rig, the bundled suites or typical handler code (sync and async)', () => {
    assert.deepEqual(
      errors.filter((e) => !e.startsWith('test/python/fixtures/typing/bad_handlers.py:')),
      [],
    );
  });

  it('reports the mistakes in handler code where they are, and nothing else there', () => {
    const expected = fs
      .readFileSync(badFile, 'utf8')
      .split('\n')
      .flatMap((line, i) => {
        const m = /# error: (\w+)/.exec(line);
        return m ? [`test/python/fixtures/typing/bad_handlers.py:${i + 1} ${m[1]}`] : [];
      });
    assert.ok(expected.length >= 5, 'the fixture marks its mistakes');
    assert.deepEqual(
      errors.filter((e) => e.startsWith('test/python/fixtures/typing/bad_handlers.py:')),
      expected,
    );
  });
});

// docs/python-api.md's mypy recipe: MYPYPATH pointing at test-rig's python/ folder.
describe('Python typing (mypy, as docs/python-api.md tells users to run it)', function () {
  this.timeout(180_000);
  const mypy = (file: string) =>
    promisify(execFile)('mypy', ['--no-incremental', file], {
      cwd: root,
      env: { ...process.env, MYPYPATH: path.join(root, 'python') },
    }).then(
      (r) => ({ code: 0, out: r.stdout }),
      (err: { code?: number; stdout?: string }) => ({ code: err.code ?? -1, out: err.stdout ?? '' }),
    );

  it('passes correct handler code with no error inside test_rig', async () => {
    const r = await mypy('test/python/fixtures/typing/good_handlers.py');
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /^Success: no issues found/m);
  });

  it('reports handler mistakes in the handler file only', async () => {
    const r = await mypy('test/python/fixtures/typing/bad_handlers.py');
    assert.equal(r.code, 1, r.out);
    const files = new Set([...r.out.matchAll(/^(\S+?):\d+: error:/gm)].map((m) => m[1]));
    assert.deepEqual([...files], ['test/python/fixtures/typing/bad_handlers.py']);
  });
});
