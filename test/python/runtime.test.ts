// The embedded interpreter — start, calls, errors both ways, import
// paths, C extensions, several Python versions and a venv, clean exit.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  DatabaseError,
  PythonError,
  PythonRuntime,
  type PyRef,
  StateContext,
  StateMachine,
  loadPythonHandlers,
} from '../../ts/index.js';
import { encodeErrorForPython } from '../../ts/python/errors.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.join(here, '../../../test/python/fixtures');
const childScript = path.join(here, 'child-smoke.js');
const exitProbe = path.join(here, 'exit-probe.js');
const run = promisify(execFile);

/** Runs child-smoke.js with the given environment; returns its parsed JSON line, exit code and stderr. */
async function child(
  mode: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; out?: Record<string, unknown>; stderr: string; stdout: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [childScript, mode], {
      env: { ...process.env, ...env },
      timeout: 30_000,
    });
    const line = stdout
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .pop();
    return { code: 0, out: line ? JSON.parse(line) : undefined, stderr, stdout };
  } catch (err) {
    const e = err as { code?: number; stderr?: string; stdout?: string; killed?: boolean };
    if (e.killed) throw new Error('child process did not exit in time');
    return { code: typeof e.code === 'number' ? e.code : -1, stderr: e.stderr ?? '', stdout: e.stdout ?? '' };
  }
}

/** Runs the exit probe (exit-probe.ts); never throws for a failed run. */
async function probe(args: string[]): Promise<{ code: number | string; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [exitProbe, ...args], { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; signal?: string; stderr?: string; stdout?: string };
    return { code: e.code ?? e.signal ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

/** Interpreters on this machine with a shared libpython, one per minor version. */
function installedPythons(): string[] {
  const found = new Map<string, string>();
  const candidates = [
    ...['3.9', '3.10', '3.11', '3.12', '3.13'].map((v) => `/usr/bin/python${v}`),
    ...(fs.existsSync('/root/.pyenv/versions')
      ? fs.readdirSync('/root/.pyenv/versions').map((v) => `/root/.pyenv/versions/${v}/bin/python3`)
      : []),
  ];
  for (const exe of candidates) {
    try {
      const out = execFileSync(
        exe,
        [
          '-c',
          'import sys, sysconfig, os; v=sysconfig.get_config_var; print("%d.%d" % sys.version_info[:2], os.path.exists(os.path.join(v("LIBDIR") or "", v("INSTSONAME") or "x")) or os.path.exists(os.path.join("/usr/lib", v("MULTIARCH") or "", v("INSTSONAME") or "x")))',
        ],
        { encoding: 'utf8' },
      ).trim();
      const [minor, shared] = out.split(' ');
      if (shared === 'True' && Number(minor.split('.')[1]) >= 9 && !found.has(minor)) found.set(minor, exe);
    } catch {
      // not installed
    }
  }
  return [...found.values()];
}

describe('embedded Python runtime', () => {
  it('starts once and reports the interpreter it embeds', () => {
    const rt = PythonRuntime.get();
    assert.equal(PythonRuntime.get(), rt);
    assert.match(rt.version, /^3\.\d+\.\d+/);
    assert.ok(fs.existsSync(rt.python.libpython), rt.python.libpython);
  });

  it('instantiates a handler and runs a sync execute that returns a state string', async () => {
    const machine = new StateMachine();
    const loaded = await loadPythonHandlers(machine, path.join(fixtures, 'basic_handlers.py'));
    assert.ok(loaded.registered.some((h) => h.info.name === 'EchoHandler' && h.state === 'Echo'));
    const ctx = new StateContext();
    const result = await machine.run(ctx, { initialState: 'Echo' });
    assert.equal(result.finalState, 'Completed');
    loaded.dispose();
  });

  it('turns a Python exception into a JS error with type, message and the handler file:line', async () => {
    const machine = new StateMachine();
    await loadPythonHandlers(machine, path.join(fixtures, 'basic_handlers.py'));
    const err = await machine.run(new StateContext(), { initialState: 'Raising' }).then(
      () => assert.fail('should reject'),
      (e: Error) => e,
    );
    const py = (err.cause ?? err) as PythonError;
    assert.ok(py instanceof PythonError, String(err));
    assert.equal(py.pyType, 'ValueError');
    assert.equal(py.pyMessage, 'boom from python');
    assert.match(py.where ?? '', /basic_handlers\.py:\d+$/);
    assert.match(py.pyTraceback, /raise ValueError\("boom from python"\)/);
    assert.match(err.message, /RaisingHandler\.execute raised ValueError: boom from python/);
  });

  it('says what is wrong with a handler path that is not a Python file, with no test_rig location', async () => {
    const messages: string[] = [];
    for (const target of [path.join(fixtures, 'missing.py'), path.join(here, '../../../README.md')]) {
      await loadPythonHandlers(new StateMachine(), target).then(
        () => assert.fail(`${target} loaded`),
        (e: PythonError) => {
          assert.equal(e.where, undefined, e.message);
          messages.push(e.message);
        },
      );
    }
    assert.match(
      messages[0],
      /^cannot load Python handlers from .*missing\.py: FileNotFoundError: no such Python file: /,
    );
    assert.match(
      messages[1],
      /README\.md: ImportError: not a Python file \(\.py\), package or folder: .*README\.md$/,
    );
  });

  it('passes strings both ways exactly (ASCII, Latin-1, CJK, emoji, long), and long method names', () => {
    const rt = PythonRuntime.get();
    const builtins = rt.importModule('builtins');
    for (const text of [
      'Completed',
      'héllo',
      '中文',
      'pile of 💩',
      'x'.repeat(300) + 'é',
      '',
      'nul\0inside',
    ]) {
      assert.equal(rt.call(builtins, 'str', [text]), text);
      assert.equal(rt.call(builtins, 'len', [text]), [...text].length);
    }
    const longName = `no_such_method_${'x'.repeat(80)}`;
    assert.throws(() => rt.call(builtins, longName, []), new RegExp(`has no attribute '${longName}'`));
  });

  it('turns a JS error into a Python exception', async () => {
    const rt = PythonRuntime.get();
    const mod = rt.importModule('test_rig.errors');
    // A failed JS call reaches Python as an exception object built from the JS error.
    const jsErr = rt.call(mod, 'error_from_js', [{ name: 'TypeError', message: 'bad from js' }]);
    assert.equal(rt.call(rt.importModule('builtins'), 'repr', [jsErr]), "JsError('bad from js')");
    const dbErr = rt.call(mod, 'error_from_js', [
      encodeErrorForPython(new DatabaseError('Deadlock found', { errno: 1213, sqlState: '40001' })),
    ]);
    assert.equal(
      rt.call(rt.importModule('builtins'), 'repr', [rt.call(rt.importModule('builtins'), 'type', [dbErr])]),
      "<class 'test_rig.errors.DeadlockError'>",
    );
  });

  it('resolves the three import paths to the same objects', async () => {
    const rt = PythonRuntime.get();
    await rt.describeHandlers(path.join(fixtures, 'import_paths.py')); // loads it with its folder on sys.path
    assert.deepEqual(rt.call(rt.importModule('import_paths'), 'check', []), [true, true, true, true]);
  });

  it('loads the C implementations of extension modules', async () => {
    const rt = PythonRuntime.get();
    await rt.describeHandlers(path.join(fixtures, 'c_extensions.py'));
    const out = rt.call(rt.importModule('c_extensions'), 'check', []) as Record<string, unknown>;
    assert.equal(out.json_c_scanner, true);
    assert.equal(out.decimal_c, true);
    assert.equal(out.asyncio_future_c, true);
    assert.equal(out.sha256, 'ba7816bf');
    assert.equal(out.sqlite, 42);
    assert.match(String(out._ssl), /\.so$/);
  });

  it('serves every installed CPython minor version (at least two) from one binary, asyncio, packed rows and inline deadlines included', async function () {
    const pythons = installedPythons();
    assert.ok(
      pythons.length >= 2,
      `need two Python minor versions with a shared libpython, found ${pythons.join(', ') || 'none'}`,
    );
    for (const exe of pythons) {
      const r = await child('smoke', { TEST_RIG_PYTHON: exe, VIRTUAL_ENV: '' });
      assert.equal(r.code, 0, `${exe}: ${r.stderr}`);
      assert.equal(r.out?.finalState, 'Completed');
      const minor = execFileSync(exe, ['-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3])'], {
        encoding: 'utf8',
      }).trim();
      assert.equal(r.out?.version, minor);
      // asyncio changes between versions (3.12's wait_for needs a current task): async handlers on a lane;
      // so do types (3.13's Decimal is a GC type): packed query results on every path (child-smoke.ts)
      const a = await child('asyncio', { TEST_RIG_PYTHON: exe, VIRTUAL_ENV: '' });
      assert.equal(a.code, 0, `${exe}: ${a.stderr}`);
      assert.equal(a.out?.inlineDeadline, 'InlineDeadlineError', exe);
      const seen = a.out?.asyncio as Record<string, unknown>;
      assert.deepEqual(seen.async, ['ab', true], exe);
      if (Number(minor.split('.')[1]) >= 11)
        assert.deepEqual(
          seen.timeouts,
          { task: true, timed_out: true, five: 5, wait_for_timed_out: true, group: [1, 'slept'] },
          exe,
        );
    }
  });

  it('uses an active venv: its prefix and site-packages', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trvenv-'));
    try {
      execFileSync('python3', ['-m', 'venv', '--without-pip', dir]);
      const site = execFileSync(
        path.join(dir, 'bin/python'),
        ['-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'],
        { encoding: 'utf8' },
      ).trim();
      fs.writeFileSync(path.join(site, 'venv_marker.py'), 'MARK = "from the venv"\n');
      const r = await child('venv', { VIRTUAL_ENV: dir, TEST_RIG_PYTHON: '' });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.out?.prefix, dir);
      assert.equal(r.out?.extra, 'from the venv');
      assert.ok((r.out?.syspath as string[]).includes(site));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits cleanly with a live non-daemon Python thread, flushing Python output', async () => {
    for (const mode of ['exit', 'exit-natural']) {
      const started = Date.now();
      const r = await child(mode, { PYTHONUNBUFFERED: '' });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.out?.finalState, 'Completed');
      assert.match(r.stdout, /buffered line from python/);
      assert.ok(Date.now() - started < 20_000);
    }
  });

  it('ends naturally, never aborting, while a Python thread keeps waking the JS thread', async function () {
    this.timeout(300_000); // eight processes, each starting Python: slow on a loaded machine
    // The exit probe's poller leaves a thread making blocking calls to JS as the
    // process ends: a wake-up is in flight during Node's environment cleanup,
    // which used to abort (exit 134, "terminate called after throwing ... Napi::Error").
    const failures: string[] = [];
    for (let run = 0; run < 8; run++) {
      const r = await probe(['poller']);
      if (r.code !== 0 || !/^ok Completed$/m.test(r.stdout))
        failures.push(`exit ${r.code}: ${r.stderr.trim()}`);
    }
    assert.deepEqual(failures, []);
  });

  it('releases the objects of a result that fails to convert part-way (no reference leaks)', async () => {
    const rt = PythonRuntime.get();
    await rt.describeHandlers(path.join(fixtures, 'refcounts.py')); // imports it with its folder on sys.path
    const mod = rt.importModule('refcounts');
    const fn = rt.call(mod, '__getattribute__', ['half_convertible']) as PyRef;
    const lane = rt.acquireLane();
    try {
      const before = rt.call(mod, 'sentinel_refs', []) as number;
      for (let k = 0; k < 50; k++)
        await assert.rejects(rt.submit(lane, fn, null, []), /nested more than 1000 levels/);
      assert.equal(rt.call(mod, 'sentinel_refs', []), before);
    } finally {
      rt.releaseLane(lane);
    }
  });

  it('refuses to start in a worker thread instead of crashing', async () => {
    const { Worker } = await import('node:worker_threads');
    const index = path.join(here, '../../ts/index.js');
    const message = await new Promise<string>((resolve, reject) => {
      const w = new Worker(
        `const { parentPort } = require('node:worker_threads');
         import(${JSON.stringify(index)}).then((m) => {
           try { m.PythonRuntime.get(); parentPort.postMessage('started'); }
           catch (e) { parentPort.postMessage(e.message); }
         });`,
        { eval: true },
      );
      w.once('message', resolve);
      w.once('error', reject);
    });
    assert.match(message, /runs on Node's main thread only/);
  });

  it('explains in one line when Python is missing or too old', async () => {
    const missing = await child('smoke', { TEST_RIG_PYTHON: '/nonexistent/python3' });
    assert.notEqual(missing.code, 0);
    assert.match(
      missing.stderr,
      /no usable Python: tried TEST_RIG_PYTHON=\/nonexistent\/python3 \(not found\).*TEST_RIG_PYTHON/,
    );
    const old = ['/root/.pyenv/versions/3.8.18/bin/python3', '/usr/bin/python3.8'].find((p) =>
      fs.existsSync(p),
    );
    if (old) {
      const r = await child('smoke', { TEST_RIG_PYTHON: old });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /older than 3\.9/);
    }
  });
});
