// Planning: which collected cases run — filters (--suite is applied at
// discovery), --file, --handler glob, --tag, -k expression — and the shard.
import { parseShard, shardCases, type Shard } from './shard.js';
import type { CaseSpec } from './types.js';

export { parseShard };

export class PlanError extends Error {
  override name = 'PlanError';
}

export interface PlanOptions {
  /** File names or globs (`test_basic.py`, `test_*txn*.py`); a name without `.py` gets it. */
  files?: string[];
  /** Class name globs (case-insensitive). */
  handlers?: string[];
  /** Cases having any of these tags. */
  tags?: string[];
  /** A -k expression. */
  keyword?: string;
  /** `i/n` (1-based), or a resolved shard (see ./shard.ts for `auto`). */
  shard?: string | Shard;
  /** Case durations (id → ms) of an earlier run: shards are balanced by time, else by case count. */
  durations?: ReadonlyMap<string, number>;
}

/** Longer than any class or file name pattern anyone types. */
export const MAX_GLOB_LENGTH = 256;

/**
 * A glob (`*` any run of characters, `?` one character), matched against a
 * whole name, case-insensitively. Matching is the two-pointer wildcard walk:
 * on a mismatch it resumes after the last `*` only, so it takes at most
 * (pattern length × name length) steps, never the exponential backtracking
 * of a RegExp such as `^.*M.*M.*X$`.
 */
export function compileGlob(glob: string, what = 'glob'): (name: string) => boolean {
  if (glob.length > MAX_GLOB_LENGTH)
    throw new PlanError(`${what} is ${glob.length} characters long, at most ${MAX_GLOB_LENGTH}`);
  const p = glob.toLowerCase().replace(/\*+/g, '*');
  return (name) => wildcardMatch(p, name.toLowerCase());
}

function wildcardMatch(p: string, s: string): boolean {
  let i = 0; // in s
  let j = 0; // in p
  let star = -1; // index in p of the last '*' seen
  let resume = 0; // where in s that '*' match would be extended from
  while (i < s.length) {
    if (j < p.length && (p[j] === '?' || (p[j] !== '*' && p[j] === s[i]))) {
      i++;
      j++;
    } else if (j < p.length && p[j] === '*') {
      star = j++;
      resume = i;
    } else if (star >= 0) {
      j = star + 1;
      i = ++resume;
    } else {
      return false;
    }
  }
  while (j < p.length && p[j] === '*') j++;
  return j === p.length;
}

export function fileMatcher(files: string[] | undefined): ((fileName: string) => boolean) | undefined {
  if (!files || files.length === 0) return undefined;
  const matchers = files.map((f) => {
    const base = f.split(/[\\/]/).pop() ?? f;
    return compileGlob(
      /\.py$/i.test(base) || base.includes('*') ? base : `${base}.py`,
      `--file '${f.slice(0, 40)}'`,
    );
  });
  return (name) => matchers.some((m) => m(name));
}

type Expr = (words: string) => boolean;

/**
 * Compiles a -k expression: words combined with `and`, `or`, `not` and
 * parentheses. A word matches when it is a case-insensitive substring of the
 * case's suite, file, class name or tags (`*` globs inside a word are allowed).
 */
export function compileKeyword(expr: string): (c: CaseSpec) => boolean {
  const tokens = expr.match(/\(|\)|[^\s()]+/g) ?? [];
  let pos = 0;
  const peek = () => tokens[pos];
  const fail = (why: string): never => {
    throw new PlanError(`-k '${expr}': ${why}`);
  };
  const parseOr = (): Expr => {
    let left = parseAnd();
    while (peek()?.toLowerCase() === 'or') {
      pos++;
      const l = left;
      const r = parseAnd();
      left = (w) => l(w) || r(w);
    }
    return left;
  };
  const parseAnd = (): Expr => {
    let left = parseNot();
    while (peek()?.toLowerCase() === 'and') {
      pos++;
      const l = left;
      const r = parseNot();
      left = (w) => l(w) && r(w);
    }
    return left;
  };
  const parseNot = (): Expr => {
    if (peek()?.toLowerCase() === 'not') {
      pos++;
      const inner = parseNot();
      return (w) => !inner(w);
    }
    return parseAtom();
  };
  const parseAtom = (): Expr => {
    const t = peek();
    if (t === undefined) return fail('unexpected end of expression');
    pos++;
    if (t === '(') {
      const inner = parseOr();
      if (peek() !== ')') fail('missing )');
      pos++;
      return inner;
    }
    if (t === ')' || ['and', 'or'].includes(t.toLowerCase())) return fail(`unexpected '${t}'`);
    const word = t.toLowerCase();
    if (word.includes('*') || word.includes('?')) {
      const m = compileGlob(`*${word}*`, `-k word '${word.slice(0, 40)}'`);
      return (w) => w.split('\n').some(m);
    }
    return (w) => w.includes(word);
  };
  if (tokens.length === 0) return () => true;
  const e = parseOr();
  if (pos < tokens.length) fail(`unexpected '${tokens[pos]}'`);
  return (c) => e([c.suite, c.fileName, c.name, ...c.tags].join('\n').toLowerCase());
}

/**
 * Applies the filters, then the shard (./shard.ts): every machine of a CI
 * matrix computes the same split, shards never overlap and their union is the
 * whole plan.
 */
export function planCases(cases: CaseSpec[], options: PlanOptions = {}): CaseSpec[] {
  const byFile = fileMatcher(options.files);
  const handlerRes = (options.handlers ?? []).map((g) => compileGlob(g, `--handler '${g.slice(0, 40)}'`));
  const tags = (options.tags ?? []).map((t) => t.toLowerCase());
  const keyword = options.keyword ? compileKeyword(options.keyword) : undefined;
  let out = cases.filter((c) => {
    if (byFile && !byFile(c.fileName)) return false;
    // a broken file stands for all its cases: keep it unless the filters rule the file out
    if (handlerRes.length && !c.broken && !handlerRes.some((m) => m(c.name))) return false;
    if (tags.length && !c.broken && !c.tags.some((t) => tags.includes(t.toLowerCase()))) return false;
    if (keyword && !keyword(c)) return false;
    return true;
  });
  if (options.shard) {
    const shard = typeof options.shard === 'string' ? parseShard(options.shard) : options.shard;
    out = shardCases(out, shard, options.durations);
  }
  return out;
}
