// Hot reloading of Python handlers. A watcher follows the folders of a
// project's Python modules; after a short debounce the changed files, and the
// project modules importing them, are re-executed in dependency order on a
// lane of the watcher's own (python/test_rig/_reload.py). Nothing is watched
// unless asked, and a state visit never touches the file system.
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { PythonError } from './errors.js';
import type { HandlerInfo } from './handler-info.js';
import type { PyRef } from './native.js';
import { PythonRuntime } from './runtime.js';
import { StopSignals } from '../io/stop-signals.js';

export interface ReloadedClass {
  cls: PyRef;
  info: HandlerInfo;
}

export interface WatcherEvents {
  /** Modules re-executed, and the handler classes they now define. */
  /** `files` are the changed files; `moduleFiles` every file re-executed (dependents included). */
  reload: [{ modules: string[]; files: string[]; moduleFiles: string[]; classes: ReloadedClass[] }];
  /** A changed file failed to load; the previous code stays. Emitted once per distinct error. */
  error: [PythonError];
}

export class PythonWatcher extends EventEmitter<WatcherEvents> {
  readonly #rt: PythonRuntime;
  readonly #root: string;
  readonly #lane: number;
  readonly #watchers = new Map<string, fs.FSWatcher>();
  readonly #changed = new Set<string>();
  readonly #debounceMs: number;
  #timer: NodeJS.Timeout | undefined;
  #lastError = '';
  #busy: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(rt: PythonRuntime, root: string, options: { debounceMs?: number } = {}) {
    super();
    this.#rt = rt;
    this.#root = path.resolve(root);
    this.#lane = rt.acquireLane(); // reloads never wait behind a running handler
    this.#debounceMs = options.debounceMs ?? 100;
    this.#watchFolders();
  }

  /** The folder whose Python files are watched (and whose modules are reloaded). */
  get root(): string {
    return this.#root;
  }

  /** Resolves once every reload triggered so far has finished. */
  settled(): Promise<void> {
    return this.#busy;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    for (const w of this.#watchers.values()) w.close();
    this.#watchers.clear();
    this.#rt.releaseLane(this.#lane);
  }

  // Every folder under the root (skipping caches, hidden folders and node_modules), also
  // those without .py files yet, and folders created later: an event naming a new folder
  // watches it and its subfolders, and the .py files already in it count as changed.
  // (Not fs.watch's `recursive`, nor chokidar: both would watch everything under the root,
  // node_modules included, and Node 20's recursive mode is not on every platform.)
  #watchFolders(): void {
    this.#watchTree(this.#root, false);
  }

  #watchTree(dir: string, arrivedLater: boolean): void {
    if (this.#closed || this.#watchers.has(dir)) return;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // gone already, or unreadable
    }
    let w: fs.FSWatcher;
    try {
      w = fs.watch(dir, (_event, name) => name && this.#onEvent(dir, String(name)));
    } catch {
      return;
    }
    w.on('error', () => this.#unwatch(dir)); // the folder was removed
    w.unref(); // watching must not keep a finished process alive
    this.#watchers.set(dir, w);
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isDirectory() && watchable(e.name)) this.#watchTree(full, arrivedLater);
      else if (arrivedLater && e.isFile() && e.name.endsWith('.py')) this.#noteChange(full);
    }
  }

  #onEvent(dir: string, name: string): void {
    const full = path.join(dir, name);
    if (name.endsWith('.py')) this.#noteChange(full);
    else if (watchable(path.basename(name)) && !this.#watchers.has(full) && isDirectory(full))
      this.#watchTree(full, true);
  }

  #unwatch(dir: string): void {
    this.#watchers.get(dir)?.close();
    this.#watchers.delete(dir);
  }

  #noteChange(file: string): void {
    if (this.#closed) return;
    this.#changed.add(file);
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      const files = [...this.#changed];
      this.#changed.clear();
      this.#busy = this.#busy.then(() => this.#reload(files));
    }, this.#debounceMs);
    this.#timer.unref();
  }

  async #reload(files: string[]): Promise<void> {
    if (this.#closed) return;
    const result = (await this.#rt.submit(this.#lane, this.#rt.fn.reload_files, null, [
      files,
      this.#root,
    ])) as {
      error?: Partial<PythonError> & { message: string };
      reloaded?: string[];
      files?: string[];
      handlers?: [PyRef, HandlerInfo][];
    };
    if (result.error) {
      const err = new PythonError(result.error.message, result.error);
      const where = err.where ? `${err.where}: ` : '';
      err.message = `reload failed, keeping the previous handlers: ${where}${err.message}`;
      if (err.message !== this.#lastError) {
        this.#lastError = err.message;
        this.emit('error', err);
      }
      return;
    }
    this.#lastError = '';
    this.emit('reload', {
      modules: result.reloaded ?? [],
      files,
      moduleFiles: result.files ?? [],
      classes: (result.handlers ?? []).map(([cls, info]) => ({ cls, info })),
    });
  }
}

function watchable(folder: string): boolean {
  return !folder.startsWith('.') && folder !== '__pycache__' && folder !== 'node_modules';
}

function isDirectory(file: string): boolean {
  try {
    return fs.statSync(file).isDirectory();
  } catch {
    return false;
  }
}

export interface RerunOptions {
  note: (line: string) => void;
  debounceMs?: number;
  /** The files a change re-runs (passed to `run`), or undefined to ignore the change. */
  affected: (change: { files: string[]; moduleFiles: string[]; error?: PythonError }) => string[] | undefined;
}

/**
 * The loop behind `run --watch` and `demo --watch`: runs once, then again for
 * each change under `roots` (one run at a time), until Ctrl-C or SIGTERM. Returns
 * 130 or 143 (ts/io/stop-signals.ts), the same for every command a signal stops.
 */
export async function runAndRerun(
  roots: string[],
  run: (files?: string[]) => Promise<number>,
  options: RerunOptions,
): Promise<number> {
  // Ctrl-C (or SIGTERM) during a run also reaches that run's own handling; here it ends the watch.
  const stop = new StopSignals();
  let code = await run();
  const watchers = roots.map(
    (root) => new PythonWatcher(PythonRuntime.get(), root, { debounceMs: options.debounceMs }),
  );
  let queue = Promise.resolve();
  const rerun = (files: string[] | undefined) => {
    if (!files) return;
    queue = queue.then(async () => {
      options.note(`changed: ${files.map((f) => path.basename(f)).join(', ')}: running again`);
      code = await run(files);
      options.note('watching for changes (Ctrl-C to stop)');
    });
  };
  for (const w of watchers) {
    w.on('reload', ({ files, moduleFiles }) => rerun(options.affected({ files, moduleFiles })));
    w.on('error', (error) => {
      options.note(error.message);
      rerun(options.affected({ files: error.file ? [error.file] : [], moduleFiles: [], error }));
    });
  }
  options.note('watching for changes (Ctrl-C to stop)');
  const keepAlive = setInterval(() => undefined, 1 << 30); // the watchers are unref'd: the watch is the job
  await stop.stopped;
  clearInterval(keepAlive);
  for (const w of watchers) w.close();
  await queue;
  stop.dispose();
  return stop.exitCode ?? code;
}

/**
 * The folder a hot-reload watcher follows: the target's own folder (a path), or the
 * top-level package folder of the first handler's file (a module name).
 */
export function watchRoot(
  moduleOrPath: string,
  handlers: readonly { info: { file: string | null } }[],
): string | undefined {
  if (fs.existsSync(moduleOrPath)) {
    return fs.statSync(moduleOrPath).isDirectory()
      ? path.resolve(moduleOrPath)
      : path.dirname(path.resolve(moduleOrPath));
  }
  const file = handlers.find((h) => h.info.file)?.info.file;
  if (!file) return undefined;
  let dir = path.dirname(file);
  while (fs.existsSync(path.join(path.dirname(dir), '__init__.py'))) dir = path.dirname(dir);
  return dir;
}
