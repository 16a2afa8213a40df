// The published package. Packs the module, installs the tarball
// into an empty project with no compiler on PATH and no network (served from
// the npm cache), then uses it the way a user would: ESM import, CommonJS
// require, types, `npx test-rig`, Python handlers under every CPython 3.9–3.13
// on the machine, a venv, a static-only Python, no prebuild, build from source.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..'); // dist/test/packaging → the checkout
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
};
const platformDir = `${process.platform}-${process.arch}`;

// A user's project: one Python handler, an ESM and a CommonJS consumer.
const HANDLERS_PY = `
import sys
from test_rig import PyState, PyStateHandler

PROBE = {}  # read back from JS after the run


class ProbeHandler(PyStateHandler):
    state = "Probe"

    def execute(self, context):
        import _json, _ssl  # C extensions resolve against the preloaded libpython
        try:
            import rig_venv_marker  # only in the venv's site-packages
            mark = rig_venv_marker.MARK
        except ImportError:
            mark = None
        PROBE.update(version="%d.%d" % sys.version_info[:2], executable=sys.executable, mark=mark)
        return PyState.completed()
`;

const ESM_MJS = `
import { PythonRuntime, StateMachine, StateContext, loadPythonHandlers } from 'test-rig';
const machine = new StateMachine();
await loadPythonHandlers(machine, new URL('./handlers.py', import.meta.url).pathname);
const ctx = new StateContext();
const r = await machine.run(ctx, { initialState: 'Probe' });
const rt = PythonRuntime.get();
const probe = rt.call(rt.importModule('handlers'), '__getattribute__', ['PROBE']);
console.log(JSON.stringify({ finalState: r.finalState, probe }));
`;

const CJS_CJS = `
const rig = require('test-rig');
const { PythonRuntime, StateMachine, StateContext, loadPythonHandlers } = rig;
(async () => {
  const machine = new StateMachine();
  await loadPythonHandlers(machine, require('node:path').join(__dirname, 'handlers.py'));
  const ctx = new StateContext();
  const r = await machine.run(ctx, { initialState: 'Probe' });
  const rt = PythonRuntime.get();
  const probe = rt.call(rt.importModule('handlers'), '__getattribute__', ['PROBE']);
  console.log(JSON.stringify({ finalState: r.finalState, probe, exports: Object.keys(rig).length }));
})();
`;

// Type-checked, not run: both module kinds see the same typed API.
const TYPES_MTS = `
import { loadPythonHandlers, StateMachine, type LoadOptions } from 'test-rig';
const options: LoadOptions = { mapping: { ProbeHandler: 'Probe' } };
export const use = (m: StateMachine) => loadPythonHandlers(m, 'handlers.py', options);
// @ts-expect-error the path must be a string (fails to compile only if the types are real)
loadPythonHandlers(new StateMachine(), 42);
`;
const TYPES_CTS = `
import rig = require('test-rig');
import type { LoadOptions } from 'test-rig';
const options: LoadOptions = {};
export const use = (m: rig.StateMachine) => rig.loadPythonHandlers(m, 'handlers.py', options);
// @ts-expect-error the path must be a string
rig.loadPythonHandlers(new rig.StateMachine(), 42);
`;

interface Probe {
  finalState: string;
  probe: { version: string; executable: string; mark: string | null };
  exports?: number;
}

function which(cmd: string, pathVar = process.env.PATH ?? ''): string | undefined {
  for (const dir of pathVar.split(path.delimiter)) {
    const f = path.join(dir, cmd);
    try {
      fs.accessSync(f, fs.constants.X_OK);
      return f;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** Interpreters 3.9–3.13 with a shared libpython, one per minor version. */
function sharedPythons(): { minor: string; exe: string; libdir: string }[] {
  const found = new Map<string, { minor: string; exe: string; libdir: string }>();
  const candidates = [
    ...(fs.existsSync('/root/.pyenv/versions')
      ? fs.readdirSync('/root/.pyenv/versions').map((v) => `/root/.pyenv/versions/${v}/bin/python3`)
      : []),
    ...['3.9', '3.10', '3.11', '3.12', '3.13'].map((v) => `/usr/bin/python${v}`),
  ];
  for (const exe of candidates) {
    if (!fs.existsSync(exe)) continue;
    try {
      const out = execFileSync(
        exe,
        [
          '-c',
          'import os, sys, sysconfig; v = sysconfig.get_config_var; d = v("LIBDIR") or ""; ' +
            'print("%d.%d" % sys.version_info[:2], d, os.path.isfile(os.path.join(d, v("INSTSONAME") or "-")))',
        ],
        { encoding: 'utf8', timeout: 20_000 },
      ).trim();
      const [minor, libdir, shared] = out.split(' ');
      const m = Number(minor.split('.')[1]);
      if (shared === 'True' && m >= 9 && m <= 13 && !found.has(minor))
        found.set(minor, { minor, exe, libdir });
    } catch {
      /* not runnable */
    }
  }
  return [...found.values()].sort((a, b) => Number(a.minor.split('.')[1]) - Number(b.minor.split('.')[1]));
}

function portOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host });
    s.setTimeout(1000);
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
    s.once('timeout', () => (s.destroy(), resolve(false)));
  });
}

describe('packaging: npm pack, install without a compiler, use', function () {
  this.timeout(60_000);
  if (process.platform !== 'linux') return;

  let tmp: string;
  let bin: string; // the only PATH of the user's shell: node, npm, npx, python3, coreutils
  let proj: string;
  let installed: string;
  let tarball: string;
  let tarballSize: number;
  let files: string[];
  const pythons = sharedPythons();

  /** The environment of the user's shell: compilers hidden, nothing Python-related preset. */
  function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) {
      if (/^npm_|^TEST_RIG_|^VIRTUAL_ENV$|^LD_LIBRARY_PATH$|^PYTHON|^PYENV|^INIT_CWD$/.test(k)) continue;
      env[k] = v;
    }
    return { ...env, PATH: bin, ...extra };
  }

  function run(
    cmd: string,
    args: string[],
    env: NodeJS.ProcessEnv,
    timeout = 30_000,
  ): SpawnSyncReturns<string> {
    const r = spawnSync(cmd, args, { cwd: proj, env, encoding: 'utf8', timeout });
    if (r.error) throw r.error;
    return r;
  }

  function ok(r: SpawnSyncReturns<string>, what: string): string {
    assert.equal(r.status, 0, `${what} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  }

  function probe(cmd: string[], extra: NodeJS.ProcessEnv = {}): { out: Probe; stderr: string } {
    const r = run(cmd[0], cmd.slice(1), userEnv(extra));
    const stdout = ok(r, cmd.join(' '));
    const line = stdout
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .pop();
    assert.ok(line, `no JSON line from ${cmd.join(' ')}:\n${stdout}\n${r.stderr}`);
    return { out: JSON.parse(line) as Probe, stderr: r.stderr };
  }

  before(function () {
    this.timeout(120_000);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'test-rig-pack-'));
    bin = path.join(tmp, 'bin');
    proj = path.join(tmp, 'project');
    installed = path.join(proj, 'node_modules', pkg.name);
    fs.mkdirSync(bin);
    fs.mkdirSync(proj);

    // The prebuild: .ci/run built it (`npm run build:prebuild`), so up to date → no-op; else built here.
    execFileSync(process.execPath, [path.join(root, 'scripts', 'prebuild.mjs')], {
      cwd: root,
      stdio: 'ignore',
    });
    // dist/ts is built by `npm test`; --ignore-scripts skips prepack, which would rebuild both.
    const packed = JSON.parse(
      execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], {
        cwd: root,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }),
    ) as { filename: string; size: number; files: { path: string }[] }[];
    tarball = path.join(tmp, packed[0].filename);
    tarballSize = packed[0].size;
    files = packed[0].files.map((f) => f.path);

    // Compilers hidden: PATH holds links to these and nothing else.
    const python3 = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], {
      encoding: 'utf8',
    }).trim();
    fs.symlinkSync(python3, path.join(bin, 'python3'));
    fs.symlinkSync(process.execPath, path.join(bin, 'node'));
    for (const c of [
      'npm',
      'npx',
      'sh',
      'bash',
      'env',
      'cat',
      'ls',
      'mkdir',
      'rm',
      'cp',
      'mv',
      'chmod',
      'uname',
    ]) {
      const f = which(c);
      if (f) fs.symlinkSync(f, path.join(bin, c));
    }
    for (const c of ['g++', 'c++', 'cc', 'gcc', 'clang', 'cmake', 'make'])
      assert.equal(which(c, bin), undefined);

    // Offline: pin the package's dependencies to the versions of the repo's lockfile,
    // which `npm ci` put in the npm cache (a fresh resolution would want newer ones).
    const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { version: string; dev?: boolean; devOptional?: boolean }>;
    };
    const overrides: Record<string, string> = {};
    for (const [k, v] of Object.entries(lock.packages)) {
      const name = k.slice('node_modules/'.length);
      if (k.startsWith('node_modules/') && !name.includes('node_modules/') && !v.dev && !v.devOptional)
        overrides[name] = v.version;
    }
    fs.writeFileSync(
      path.join(proj, 'package.json'),
      JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, overrides }, null, 2),
    );
    fs.writeFileSync(path.join(proj, 'handlers.py'), HANDLERS_PY);
    fs.writeFileSync(path.join(proj, 'esm.mjs'), ESM_MJS);
    fs.writeFileSync(path.join(proj, 'cjs.cjs'), CJS_CJS);

    // --ignore-scripts: what npm does when the user has not approved test-rig's install
    // script; the prebuild must load without it.
    const args = ['install', '--ignore-scripts', '--no-audit', '--no-fund', tarball];
    let r = run('npm', [...args, '--offline'], userEnv(), 60_000);
    if (r.status !== 0 && /ENOTCACHED/.test(r.stderr))
      r = run('npm', [...args, '--prefer-offline'], userEnv(), 60_000);
    ok(r, 'npm install <tarball>');
  });

  after(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('packs the prebuild, the compiled library with types, python/, docs and the build sources, nothing heavy', () => {
    console.log(
      `      ${path.basename(tarball)}: ${(tarballSize / 1024).toFixed(0)} KB, ${files.length} files`,
    );
    for (const f of [
      `prebuilds/${platformDir}/${pkg.name}.node`,
      'dist/ts/index.js',
      'dist/ts/index.d.ts',
      'dist/ts/cli/main.js',
      'cjs/index.cjs',
      'cjs/index.d.cts',
      'python/test_rig/__init__.py',
      'python/test_rig/py.typed',
      'docs/troubleshooting.md',
      'README.md',
      'binding.gyp',
      'native/addon.cc',
      'scripts/install.cjs',
      'scripts/python-include.cjs',
    ])
      assert.ok(files.includes(f), `${f} is not in the tarball`);
    const heavy = files.filter((f) =>
      /^(ts|test|bench|build|node_modules|dist\/test|dist\/bench)\/|\.map$|__pycache__|\.tgz$/.test(f),
    );
    assert.deepEqual(heavy, []);
    assert.ok(tarballSize < 1024 * 1024, `tarball is ${tarballSize} bytes`);
    // stripped: no .symtab (readelf comes with binutils, which prebuildify's strip needs too)
    const sections = execFileSync(
      'readelf',
      ['-S', '-W', path.join(installed, 'prebuilds', platformDir, `${pkg.name}.node`)],
      { encoding: 'utf8' },
    );
    assert.match(sections, /\.dynsym/);
    assert.doesNotMatch(sections, /\.symtab/);
  });

  it('installed without building anything', () => {
    assert.ok(!fs.existsSync(path.join(installed, 'build')), 'the install built the addon');
    assert.ok(fs.existsSync(path.join(proj, 'node_modules', '.bin', 'test-rig')));
  });

  it('ESM import runs a Python handler with the python3 on PATH', () => {
    const { out } = probe(['node', 'esm.mjs']);
    assert.equal(out.finalState, 'Completed');
    assert.match(out.probe.version, /^3\.(9|1[0-3])$/);
  });

  it('node -e import() and require() both load the package, require() without warnings', () => {
    const imp = ok(
      run(
        'node',
        [
          '-e',
          "import('test-rig').then(m => console.log(typeof m.loadPythonHandlers, typeof m.StateMachine))",
        ],
        userEnv(),
      ),
      'import()',
    );
    assert.equal(imp.trim(), 'function function');
    const r = run(
      'node',
      ['-e', "const m = require('test-rig'); console.log(typeof m.loadPythonHandlers)"],
      userEnv(),
    );
    assert.equal(ok(r, 'require()').trim(), 'function');
    assert.doesNotMatch(r.stderr, /Warning/);
    const { out, stderr } = probe(['node', 'cjs.cjs']);
    assert.equal(out.finalState, 'Completed');
    assert.ok((out.exports ?? 0) > 20);
    assert.doesNotMatch(stderr, /Warning/);
  });

  it('type-checks from ESM and CommonJS consumers', function () {
    this.timeout(60_000);
    fs.mkdirSync(path.join(proj, 'types'));
    fs.writeFileSync(path.join(proj, 'types', 'esm.mts'), TYPES_MTS);
    fs.writeFileSync(path.join(proj, 'types', 'cjs.cts'), TYPES_CTS);
    fs.writeFileSync(
      path.join(proj, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          typeRoots: [path.join(root, 'node_modules', '@types')],
          types: ['node'],
        },
        include: ['types'],
      }),
    );
    const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    ok(run('node', [tsc, '-p', 'tsconfig.json'], userEnv(), 60_000), 'tsc');
  });

  it('npx test-rig --version and connect', async () => {
    const v = ok(run('npx', ['--no', '--', 'test-rig', '--version'], userEnv()), 'npx test-rig --version');
    assert.equal(v.trim(), pkg.version);
    const port = Number(process.env.TEST_RIG_TEST_PORT ?? 3306);
    if (!(await portOpen(port))) return; // no server: --version is enough
    const c = run(
      'npx',
      [
        '--no',
        '--',
        'test-rig',
        'connect',
        '-H',
        `127.0.0.1:${port}`,
        '-u',
        process.env.TEST_RIG_TEST_USER ?? 'root',
        '--password=',
      ],
      userEnv(),
    );
    assert.match(ok(c, 'npx test-rig connect'), /connected to 127\.0\.0\.1/);
  });

  it('runs a handler under every CPython 3.9–3.13 here (TEST_RIG_PYTHON), libpython off the default library path', function () {
    assert.ok(
      pythons.length >= 2,
      `need two Python minor versions with a shared libpython, found ${pythons.length}`,
    );
    const ldcache = fs.existsSync('/sbin/ldconfig')
      ? execFileSync('/sbin/ldconfig', ['-p'], { encoding: 'utf8' })
      : '';
    let offPath = 0;
    for (const py of pythons) {
      const { out } = probe(['node', 'esm.mjs'], { TEST_RIG_PYTHON: py.exe });
      assert.equal(out.finalState, 'Completed', py.exe);
      assert.equal(out.probe.version, py.minor, py.exe);
      if (!ldcache.includes(`${py.libdir}/`)) offPath++; // e.g. pyenv's lib/: found only through the preload
    }
    console.log(
      `      ${pythons.map((p) => p.minor).join(', ')} (${offPath} with libpython off the linker's path)`,
    );
    assert.ok(offPath >= 1, 'no Python with its libpython off the default library path to test');
  });

  it('runs in a venv: $VIRTUAL_ENV/bin/python, its site-packages importable from handlers', () => {
    const base = pythons[pythons.length - 1];
    const venv = path.join(tmp, 'venv');
    execFileSync(base.exe, ['-m', 'venv', '--without-pip', venv], { timeout: 30_000 });
    const site = execFileSync(
      path.join(venv, 'bin', 'python'),
      ['-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'],
      { encoding: 'utf8' },
    ).trim();
    fs.writeFileSync(path.join(site, 'rig_venv_marker.py'), 'MARK = "from-the-venv"\n');
    const { out } = probe(['node', 'esm.mjs'], { VIRTUAL_ENV: venv });
    assert.equal(out.probe.mark, 'from-the-venv');
    assert.equal(out.probe.executable, path.join(venv, 'bin', 'python'));
  });

  it('names the Debian/pyenv fix for a static-only Python (no shared libpython)', function () {
    // Debian's /usr/bin/python3.11 is linked statically against libpython; the shared
    // library comes from the separate libpython3.11 package. In a private mount
    // namespace we hide those files (/dev/null bound over them): the machine as it
    // is when only python3.11 is installed. The interpreter itself is untouched.
    const debian = '/usr/bin/python3.11';
    const libdir = '/usr/lib/x86_64-linux-gnu';
    if (!fs.existsSync(debian) || !fs.existsSync('/usr/bin/unshare')) this.skip();
    const needed = execFileSync('sh', ['-c', `ldd ${debian} || true`], { encoding: 'utf8' });
    assert.doesNotMatch(needed, /libpython/, 'Debian python3.11 should not need libpython3.11.so');
    const libs = fs.readdirSync(libdir).filter((f) => /^libpython3\.11\.so/.test(f));
    const script =
      libs.map((f) => `mount --bind /dev/null ${libdir}/${f} && `).join('') + 'exec node esm.mjs';
    const r = run('/usr/bin/unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], {
      ...userEnv({ TEST_RIG_PYTHON: debian }),
      PATH: `${bin}:/usr/bin:/bin`, // mount; the node started is still the hidden-compiler one via bin first
    });
    if (r.status !== 0 && /unshare failed|Operation not permitted|permission denied/i.test(r.stderr))
      this.skip();
    assert.notEqual(r.status, 0, r.stdout);
    assert.match(r.stderr, /PythonNotFoundError/);
    assert.match(r.stderr, /has no shared libpython: it was built static-only/);
    assert.match(r.stderr, /Debian\/Ubuntu: apt-get install/);
    assert.match(r.stderr, /pyenv: PYTHON_CONFIGURE_OPTS=--enable-shared/);
  });

  it('with no prebuild for the platform, says to approve and `npm rebuild test-rig`, or build from source', () => {
    const prebuilds = path.join(installed, 'prebuilds');
    const aside = path.join(installed, 'prebuilds.aside');
    fs.renameSync(prebuilds, aside);
    try {
      const r = run('node', ['esm.mjs'], userEnv());
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /NativeLoadError: test-rig: no native addon for linux-x64/);
      assert.match(r.stderr, /npm install-scripts approve test-rig && npm rebuild test-rig/);
      assert.match(r.stderr, /npm run build:native/);
    } finally {
      fs.renameSync(aside, prebuilds);
    }
  });

  it('the install script, when it runs, needs no compiler: the prebuild fits', () => {
    ok(run('npm', ['rebuild', pkg.name, '--foreground-scripts'], userEnv()), 'npm rebuild test-rig');
    assert.ok(!fs.existsSync(path.join(installed, 'build')));
  });

  it('--build-from-source builds with node-gyp (compilers back on PATH) and the local build is loaded first', function () {
    this.timeout(120_000);
    const env = userEnv({ PATH: process.env.PATH, npm_config_build_from_source: 'true' });
    ok(
      run('npm', ['rebuild', pkg.name, '--foreground-scripts'], env, 110_000),
      'npm rebuild --build-from-source',
    );
    const built = path.join(installed, 'build', 'Release', 'test_rig.node');
    assert.ok(fs.existsSync(built));
    const resolved = ok(
      run(
        'node',
        ['-e', `console.log(require('node-gyp-build').resolve(${JSON.stringify(installed)}))`],
        userEnv(),
      ),
      'resolve',
    ).trim();
    assert.equal(resolved, built);
    assert.equal(probe(['node', 'esm.mjs']).out.finalState, 'Completed');
  });
});
