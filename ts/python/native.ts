// Loads the addon: first the discovered libpython, RTLD_GLOBAL so that C
// extension modules (_json, _ssl, _decimal…) resolve its symbols, then the
// stable-ABI .node (a prebuild, else a local build).
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PythonInfo } from './discover.js';

/** The addon's exports (native/addon.cc). */
export interface NativeAddon {
  init(options: {
    home: string;
    path: string[];
    executable: string;
    prefix: string;
    execPrefix: string;
  }): string;
  shutdown(options?: { finalize?: boolean }): void;
  importModule(name: string): PyRef;
  call(target: PyRef, method: string | null, ...args: unknown[]): unknown;
  laneCreate(): { id: number; fd: number };
  submit(lane: number, target: PyRef, method: string | null, args: unknown[]): Promise<unknown>;
  setJsHandler(fn: (id: number, payload: unknown) => void): void;
  resolveJsCall(id: number, ok: boolean, value: unknown): void;
  /**
   * The JS thread's next Python call gets `ms` to return, else it is interrupted (inline_guard.cc);
   * with `ms` ≤ 0 it raises at once, running no Python.
   */
  armInlineDeadline(ms: number): void;
}

/** An opaque handle on a Python object. */
export type PyRef = { readonly __pyref: unique symbol };

export class NativeLoadError extends Error {
  override name = 'NativeLoadError';
}

/** The package root (where package.json, python/ and prebuilds/ live). */
export const packageRoot = fileURLToPath(new URL('../../../', import.meta.url));

const require = createRequire(import.meta.url);

function preloadLibpython(libpython: string): void {
  const { RTLD_NOW, RTLD_GLOBAL } = os.constants.dlopen;
  const RTLD_NODELETE = 0x1000; // keep it loaded after Node's dlclose of the "module"
  try {
    process.dlopen({ exports: {} } as NodeJS.Module, libpython, RTLD_NOW | RTLD_GLOBAL | RTLD_NODELETE);
  } catch (err) {
    // libpython is not a Node module, so a successful load still ends in "did not self-register".
    if (!/self-register/.test(String((err as Error).message))) {
      throw new NativeLoadError(`test-rig: cannot load ${libpython}: ${(err as Error).message}`);
    }
  }
}

export function loadNative(python: PythonInfo): NativeAddon {
  preloadLibpython(python.libpython);
  const load = require('node-gyp-build') as ((dir: string) => NativeAddon) & { resolve(dir: string): string };
  let file: string;
  try {
    // node-gyp-build's order: build/Release (a source build), then prebuilds/<platform>-<arch>
    file = load.resolve(packageRoot);
  } catch {
    throw new NativeLoadError(
      `test-rig: no native addon for ${process.platform}-${process.arch}: no prebuild fits this platform and there is no local build in ${path.join(packageRoot, 'build', 'Release')}. ` +
        'Build it from source (needs g++, make and the Python headers, e.g. apt-get install g++ make python3-dev): ' +
        'approve the install script and rebuild, `npm install-scripts approve test-rig && npm rebuild test-rig`, ' +
        'or in a checkout of test-rig run `npm run build:native`. See docs/troubleshooting.md',
    );
  }
  try {
    return require(file) as NativeAddon;
  } catch (err) {
    throw new NativeLoadError(
      `test-rig: cannot load the native addon ${file}: ${(err as Error).message.split('\n')[0]}. ` +
        'Build it from source for this machine: `npm install-scripts approve test-rig && npm rebuild test-rig --build-from-source`, ' +
        'or in a checkout of test-rig run `npm run build:native`. See docs/troubleshooting.md',
    );
  }
}

export const pythonPackageDir = path.join(packageRoot, 'python');
