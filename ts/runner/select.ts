// Node ids: what `test-rig run` accepts as arguments, in every form the rig
// prints a case — `suite/file.py::Class` (failures, --list, JSON), a suite name,
// `suite/file.py`, a path to a suite folder or test file (with `::Class`), and
// JUnit's `suite.Class` — so a failing case can be pasted back to re-run it.
import fs from 'node:fs';
import path from 'node:path';
import { SUITE_ALIASES, type Suite } from './discover.js';
import type { CaseSpec } from './types.js';

export class SelectError extends Error {
  override name = 'SelectError';
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** One parsed argument. Unset parts match anything. */
export interface NodeId {
  raw: string;
  /** Suite name, lower case (aliases resolved). */
  suite?: string;
  /** The folder of the suite (absolute), for an argument that is a path on disk. */
  dir?: string;
  /** Test file name, lower case, with `.py`. */
  file?: string;
  /** Class name, lower case. */
  cls?: string;
}

const lower = (s: string) => s.toLowerCase();
const withPy = (f: string) => (/\.py$/i.test(f) ? f : `${f}.py`);

/**
 * Parses one argument. A path that exists (relative to the current folder) is
 * taken as a path; otherwise `suite[/file[.py]][::Class]`, `suite.Class` or `Class`.
 * A bare word that is no suite (of `suiteNames`) but a folder here is that folder.
 */
export function parseNodeId(arg: string, cwd = process.cwd(), suiteNames: string[] = []): NodeId {
  // as printed after a failure's id in the summary (`id: message`) or JUnit (`suite.Class`)
  const raw = arg.trim().replace(/:$/, '');
  const [pathPart, cls, ...more] = raw.split('::');
  if (more.length || cls === '')
    throw new SelectError(`'${arg}' is not a node id`, 'e.g. txn/test_x.py::XHandler');
  const out: NodeId = { raw: arg };
  if (cls !== undefined) out.cls = lower(cls);
  const onDisk = pathPart ? path.resolve(cwd, pathPart) : '';
  const stat =
    onDisk && (pathPart.includes('/') || pathPart.includes('\\') || /\.py$/i.test(pathPart))
      ? statOf(onDisk)
      : undefined;
  if (stat?.isDirectory()) return { ...out, dir: onDisk };
  if (stat?.isFile()) return { ...out, dir: path.dirname(onDisk), file: lower(path.basename(onDisk)) };
  const parts = pathPart.split(/[\\/]/).filter((p) => p !== '' && p !== '.');
  if (parts.length === 1 && cls === undefined && !/\.py$/i.test(parts[0])) {
    // `suite`, JUnit's `suite.Class`, or a bare class name (decided against the cases found)
    // JUnit: classname `suite.test_file`, so `suite.test_file.Class`; also `suite.Class`
    const [head, ...rest] = parts[0].split('.');
    const file = rest.length && /^test_/i.test(rest[0]) ? lower(`${rest[0]}.py`) : undefined;
    const clsName = (file ? rest.slice(1) : rest).join('.');
    const junit = { ...(file ? { file } : {}), ...(clsName ? { cls: lower(clsName) } : {}) };
    const localDir = (w: string) => {
      if (suiteNames.some((n) => lower(n) === suiteName(w))) return undefined;
      const p = path.resolve(cwd, w);
      return statOf(p)?.isDirectory() ? p : undefined;
    };
    const dir = head ? localDir(head) : undefined;
    if (dir) return { ...out, dir, ...junit };
    if (rest.length) return { ...out, suite: suiteName(head), ...junit };
    return { ...out, suite: suiteName(parts[0]) };
  }
  if (parts.length === 1) return { ...out, file: lower(withPy(parts[0])) };
  const suite = parts[parts.length - 2];
  return { ...out, suite: suiteName(suite), file: lower(withPy(parts[parts.length - 1])) };
}

function suiteName(s: string): string {
  const l = lower(s);
  return SUITE_ALIASES[l] ?? l;
}

function statOf(p: string): fs.Stats | undefined {
  try {
    return fs.statSync(p);
  } catch {
    return undefined;
  }
}

/** Does the case fall under the node id? (A bare word also matches a class of that name.) */
export function matchesNode(c: CaseSpec, n: NodeId): boolean {
  const bareWord = n.suite !== undefined && n.file === undefined && n.cls === undefined && !n.dir;
  if (bareWord && lower(c.name) === n.suite) return true;
  if (n.dir) {
    const inDir = c.suiteDir === n.dir || c.file.startsWith(n.dir + path.sep);
    if (!inDir) return false;
  } else if (n.suite !== undefined && lower(c.suite) !== n.suite) return false;
  if (n.file !== undefined && lower(c.fileName) !== n.file) return false;
  // a file that did not import stands for all its classes
  if (n.cls !== undefined && !c.broken && lower(c.name) !== n.cls) return false;
  return true;
}

/**
 * The suites the node ids need: named suites from `all`, folders on disk as
 * suites of their own; `undefined` when one of them could be anywhere (a bare
 * class name), so every suite is searched.
 */
export function suitesFor(ids: NodeId[], all: Suite[]): Suite[] | undefined {
  const out: Suite[] = [];
  let anywhere = false;
  const add = (s: Suite) => {
    if (!out.some((o) => o.dir === s.dir)) out.push(s);
  };
  for (const n of ids) {
    if (n.dir) {
      // a folder inside a suite, the suite folder, or a folder of test files of its own
      const owner = all.find((s) => n.dir === s.dir || n.dir!.startsWith(s.dir + path.sep));
      // or a folder of suites (the suites folder itself)
      const below = all.filter((s) => s.dir.startsWith(n.dir! + path.sep));
      if (owner) add(owner);
      else if (below.length) below.forEach(add);
      else add({ name: path.basename(n.dir), dir: n.dir });
      continue;
    }
    const found = n.suite !== undefined ? all.find((s) => lower(s.name) === n.suite) : undefined;
    if (found) add(found);
    // a bare `…Handler` may be a class of any suite (the naming rule of cases); a file name, in any suite
    else if (n.suite === undefined || (isBare(n) && n.suite.endsWith('handler'))) anywhere = true;
    // otherwise the suite does not exist: said before any file is imported
    else
      throw unknownId(
        n,
        all.map((s) => s.name),
        all,
        n.suite,
      );
  }
  return anywhere ? undefined : out;
}

const isBare = (n: NodeId) => n.file === undefined && n.cls === undefined && !n.dir;

/** The error for an id that matches nothing; `suite` when it is the suite that does not exist. */
function unknownId(n: NodeId, candidates: string[], suites: Suite[], suite?: string): SelectError {
  const close = closeMatches(suite ?? n.raw, candidates);
  return new SelectError(
    `no suite, file or case matches '${n.raw}'`,
    close.length
      ? `did you mean ${suite ? 'the suite ' : ''}${close.join(', ')}? see --list`
      : isBare(n)
        ? `suites: ${suites.map((s) => s.name).join(', ') || 'none'}; see --list`
        : 'see the node ids with --list',
  );
}

/**
 * The cases the node ids select (their union, in discovery order). An id that
 * selects nothing — and is not an existing suite or test file — is an error
 * naming the closest ids.
 */
export function selectByNodeIds(cases: CaseSpec[], ids: NodeId[], suites: Suite[]): CaseSpec[] {
  const unknown: NodeId[] = [];
  const chosen = new Set<CaseSpec>();
  for (const n of ids) {
    const hit = cases.filter((c) => matchesNode(c, n));
    for (const c of hit) chosen.add(c);
    if (hit.length === 0 && !exists(n, suites)) unknown.push(n);
  }
  if (unknown.length) {
    const n = unknown[0];
    const candidates = [
      ...new Set([
        ...suites.map((s) => s.name),
        ...cases.map((c) => `${c.suite}/${c.fileName}`),
        ...cases.map((c) => c.id),
      ]),
    ];
    throw unknownId(n, candidates, suites);
  }
  return cases.filter((c) => chosen.has(c));
}

/** A suite or test file that exists but has no case (an empty selection, not a typo). */
function exists(n: NodeId, suites: Suite[]): boolean {
  if (n.cls !== undefined) return false;
  const suite = n.dir
    ? { dir: n.dir }
    : suites.find((s) => n.suite !== undefined && lower(s.name) === n.suite);
  if (!suite) return false;
  if (n.file === undefined) return true;
  try {
    return fs.readdirSync(suite.dir).some((f) => lower(f) === n.file);
  } catch {
    return false;
  }
}

/** Up to `max` candidates closest to `word` (edit distance, case-insensitive), closest first. */
export function closeMatches(word: string, candidates: string[], max = 3): string[] {
  const w = lower(word);
  const limit = Math.max(3, Math.floor(w.length / 3));
  const scored = candidates
    .map((c) => {
      const l = lower(c);
      // a candidate that contains the word is close whatever its length
      const d = l.includes(w) ? 0.5 : distance(w, l);
      return { c, d };
    })
    .filter((x) => x.d <= limit);
  // what the word is the start of (a class name cut short) beats every typo
  const containing = scored.filter((x) => x.d < 1);
  return (containing.length ? containing : scored)
    .sort((a, b) => a.d - b.d || a.c.length - b.c.length)
    .slice(0, max)
    .map((x) => x.c);
}

/** Levenshtein distance, two rows. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}
