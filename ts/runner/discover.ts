// Discovery: suites are folders, cases are handler classes in their test_*.py
// files (the Python side applies the class rule: named …Handler, a subclass of
// PyStateHandler at any depth, defined in that file). Needs Python, not a server.
import fs from 'node:fs';
import path from 'node:path';
import type { HandlerInfo } from '../python/handlers.js';
import { PythonError } from '../python/errors.js';
import { MachineLane } from '../python/lane.js';
import type { PyRef } from '../python/native.js';
import type { PythonRuntime } from '../python/runtime.js';
import type { CaseFailure, CaseSpec } from './types.js';

export interface Suite {
  /** The folder name (`load_data`), or the --suite-dir folder's name. */
  name: string;
  dir: string;
}

/** Old suite names that map onto folders (the Rust rig called load_data `import`). */
export const SUITE_ALIASES: Record<string, string> = { import: 'load_data' };

export class DiscoveryError extends Error {
  override name = 'DiscoveryError';
}

/** Every folder under `root` with an `__init__.py`, sorted by name. A missing root yields []. */
export function findSuites(root: string): Suite[] {
  if (!fs.existsSync(root)) return [];
  if (!fs.statSync(root).isDirectory()) throw new DiscoveryError(`suites folder ${root} is not a folder`);
  return fs
    .readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && !d.name.startsWith('.') && !d.name.startsWith('_'))
    .filter((d) => fs.existsSync(path.join(root, d.name, '__init__.py')))
    .map((d) => ({ name: d.name, dir: path.resolve(root, d.name) }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** A folder given with --suite-dir: a suite whether or not it has `__init__.py`. */
export function suiteFromDir(dir: string): Suite {
  const abs = path.resolve(dir);
  if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory())
    throw new DiscoveryError(`--suite-dir ${dir}: no such folder`);
  return { name: path.basename(abs), dir: abs };
}

/** Picks suites by name (case-insensitive, aliases accepted); unknown names are a usage error. */
export function selectSuites(all: Suite[], names: string[]): Suite[] {
  if (names.length === 0) return all;
  const out: Suite[] = [];
  for (const raw of names) {
    const want = raw.toLowerCase();
    const target = SUITE_ALIASES[want] ?? want;
    const found = all.find((s) => s.name.toLowerCase() === target);
    if (!found) {
      const have = all.map((s) => s.name).join(', ') || 'none';
      throw new DiscoveryError(`no suite named '${raw}' (suites: ${have})`);
    }
    if (!out.includes(found)) out.push(found);
  }
  return out;
}

/** The `test_*.py` files of a suite, sorted. */
export function testFiles(suite: Suite): string[] {
  return fs
    .readdirSync(suite.dir)
    .filter((f) => /^test_.*\.py$/.test(f) && f !== 'test_rig_python.py')
    .sort()
    .map((f) => path.join(suite.dir, f));
}

/** A handler class found in a test file, and what Python says about it. */
export interface FoundClass {
  info: HandlerInfo;
  /** The class itself (absent when only described, e.g. in tests of discovery). */
  cls?: PyRef;
}

export type Describe = (file: string) => Promise<FoundClass[]>;

/** A test file that did not finish importing in time. */
export class ImportTimeoutError extends Error {
  override name = 'ImportTimeout';
  constructor(
    message: string,
    /** `file:line` where the import was stuck. */
    readonly where?: string,
  ) {
    super(message);
  }
}

/**
 * Imports one test file (once per run: its cases are instantiated from the
 * classes found here) on a lane of its own, within `timeoutMs`. A file still
 * importing then (a module-level sleep, a lock, a loop) is given up on: its
 * lane is abandoned (interrupted, never reused) and the error says where it hung.
 */
export async function importTestFile(
  rt: PythonRuntime,
  file: string,
  timeoutMs: number,
): Promise<FoundClass[]> {
  const lane = new MachineLane(rt);
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<'expired'>((resolve) => {
    timer = setTimeout(() => resolve('expired'), timeoutMs);
  });
  try {
    const job = rt.submit(lane.id, rt.fn.load_handlers, null, [file]) as Promise<[PyRef, HandlerInfo][]>;
    job.catch(() => undefined); // an abandoned import may still fail later
    const found = await Promise.race([job, expired]);
    if (found === 'expired') {
      lane.abandon();
      const stuck = lane.stuck;
      const where = stuck?.file ? `${stuck.file}:${stuck.line ?? 0}` : undefined;
      const s = timeoutMs / 1000;
      throw new ImportTimeoutError(
        `still importing after ${Number.isInteger(s) ? s : s.toFixed(1)}s (the --timeout)${where ? `, at ${where}` : ''}: module-level code must not block`,
        where,
      );
    }
    return found.map(([cls, info]) => ({ cls, info }));
  } finally {
    clearTimeout(timer);
    lane.release();
  }
}

export interface DiscoveryResult {
  cases: CaseSpec[];
  /** Files that define no test case (worth a warning). */
  empty: string[];
}

/**
 * Collects the cases of the suites. A file that fails to import becomes one
 * failed case named after the file, and discovery goes on with the next file.
 */
export async function discoverCases(
  suites: Suite[],
  describe: Describe,
  options: { fileFilter?: (fileName: string) => boolean } = {},
): Promise<DiscoveryResult> {
  const cases: CaseSpec[] = [];
  const empty: string[] = [];
  for (const suite of suites) {
    for (const file of testFiles(suite)) {
      const fileName = path.basename(file);
      if (options.fileFilter && !options.fileFilter(fileName)) continue;
      const base = { suite: suite.name, suiteDir: suite.dir, file, fileName };
      let found: FoundClass[];
      try {
        found = await describe(file);
      } catch (err) {
        cases.push({
          ...base,
          id: `${suite.name}/${fileName}`,
          name: fileName.replace(/\.py$/, ''),
          line: 0,
          tags: [],
          requires: null,
          doc: '',
          broken: failureOf(err, `cannot import ${fileName}`),
        });
        continue;
      }
      if (found.length === 0) empty.push(file);
      for (const { info, cls } of found) {
        cases.push({
          ...base,
          id: `${suite.name}/${fileName}::${info.name}`,
          name: info.name,
          line: info.line,
          tags: info.tags,
          requires: info.requires,
          doc: info.doc,
          legacy: info.legacy === true,
          found: cls ? { cls, info } : undefined,
        });
      }
    }
  }
  return { cases, empty };
}

/** A failure record for any error (Python errors keep type, traceback and file:line). */
export function failureOf(err: unknown, prefix?: string): CaseFailure {
  const cause = err instanceof Error && err.cause instanceof PythonError ? err.cause : err;
  if (cause instanceof PythonError) {
    const msg = err instanceof Error && err !== cause ? err.message : `${cause.pyType}: ${cause.pyMessage}`;
    let where = cause.where;
    if (!where || where.startsWith('<')) {
      // e.g. a SyntaxError: the user's file is the last real file in the traceback
      const files = [...(cause.pyTraceback ?? '').matchAll(/File "([^"<]+)", line (\d+)/g)].filter(
        (m) => !/[\\/]test_rig[\\/]/.test(m[1]),
      );
      const last = files[files.length - 1];
      where = last ? `${last[1]}:${last[2]}` : undefined;
    }
    return {
      message: prefix ? `${prefix}: ${msg}` : msg,
      type: cause.pyType,
      traceback: cause.pyTraceback || undefined,
      where,
      ...(cause.details ? { details: cause.details } : {}),
    };
  }
  const message = err instanceof Error ? err.message : String(err);
  return {
    message: prefix ? `${prefix}: ${message}` : message,
    type: err instanceof Error ? err.name : undefined,
    where: err instanceof ImportTimeoutError ? err.where : undefined,
  };
}
