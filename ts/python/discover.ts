// Finds the Python to embed, once per process: TEST_RIG_PYTHON, else the
// active venv's python, else python3 on PATH. The interpreter itself reports
// its version, prefixes, sys.path and where its shared libpython lives.
import { execFileSync } from 'node:child_process';
import path from 'node:path';

export interface PythonInfo {
  executable: string;
  version: string;
  versionInfo: [number, number, number];
  prefix: string;
  execPrefix: string;
  basePrefix: string;
  baseExecPrefix: string;
  /** The interpreter's sys.path (venv site-packages included). */
  path: string[];
  /** Absolute path of the shared libpython to preload. */
  libpython: string;
}

export class PythonNotFoundError extends Error {
  override name = 'PythonNotFoundError';
}

const MIN_VERSION: [number, number] = [3, 9];

// Runs inside the candidate interpreter. Prints one JSON line.
const PROBE = String.raw`
import json, os, sys, sysconfig
v = sysconfig.get_config_var
libdir, multiarch = v("LIBDIR") or "", v("MULTIARCH") or ""
names = [n for n in (v("INSTSONAME"), v("LDLIBRARY"), "libpython%d.%d.so.1.0" % sys.version_info[:2], "libpython%d.%d.so" % sys.version_info[:2]) if n and ".so" in n]
dirs = [libdir, os.path.join(libdir, multiarch), os.path.join(sys.base_prefix, "lib"), os.path.join("/usr/lib", multiarch), "/usr/lib64", "/usr/lib"]
lib = next((os.path.join(d, n) for n in names for d in dirs if d and os.path.isfile(os.path.join(d, n))), "")
print(json.dumps({"executable": sys.executable, "version": "%d.%d.%d" % sys.version_info[:3],
  "versionInfo": list(sys.version_info[:3]), "prefix": sys.prefix, "execPrefix": sys.exec_prefix,
  "basePrefix": sys.base_prefix, "baseExecPrefix": sys.base_exec_prefix, "path": sys.path, "libpython": lib}))
`;

const HOW_TO_FIX =
  'point TEST_RIG_PYTHON at a Python 3.9+ that has a shared libpython ' +
  '(Debian/Ubuntu: apt-get install libpython3-dev; pyenv: PYTHON_CONFIGURE_OPTS=--enable-shared pyenv install 3.11)';

function candidates(env: NodeJS.ProcessEnv): { exe: string; why: string }[] {
  if (env.TEST_RIG_PYTHON)
    return [{ exe: env.TEST_RIG_PYTHON, why: `TEST_RIG_PYTHON=${env.TEST_RIG_PYTHON}` }];
  const list: { exe: string; why: string }[] = [];
  if (env.VIRTUAL_ENV)
    list.push({ exe: path.join(env.VIRTUAL_ENV, 'bin', 'python'), why: `$VIRTUAL_ENV/bin/python` });
  list.push({ exe: 'python3', why: 'python3 on PATH' });
  return list;
}

/** Asks each candidate in turn; throws PythonNotFoundError with a one-line explanation. */
export function discoverPython(env: NodeJS.ProcessEnv = process.env): PythonInfo {
  const tried: string[] = [];
  for (const { exe, why } of candidates(env)) {
    let info: PythonInfo;
    try {
      const out = execFileSync(exe, ['-c', PROBE], {
        encoding: 'utf8',
        timeout: 30_000,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...env, PYTHONHOME: undefined },
      });
      info = JSON.parse(out.trim().split('\n').pop() ?? '') as PythonInfo;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      tried.push(`${why} (${code === 'ENOENT' ? 'not found' : 'failed to run'})`);
      continue;
    }
    info.path = info.path.filter((p) => p !== ''); // '' is the probe's own -c working dir
    const [major, minor] = info.versionInfo;
    if (major < MIN_VERSION[0] || (major === MIN_VERSION[0] && minor < MIN_VERSION[1])) {
      tried.push(`${why} (Python ${info.version} is older than 3.9)`);
      continue;
    }
    if (!info.libpython) {
      tried.push(
        `${why} (Python ${info.version} at ${info.executable} has no shared libpython: it was built static-only)`,
      );
      continue;
    }
    return info;
  }
  throw new PythonNotFoundError(`test-rig: no usable Python: tried ${tried.join(', ')}; ${HOW_TO_FIX}`);
}
