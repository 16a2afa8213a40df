// Sharding: which of the planned cases one of n parallel runs takes. The split
// is a pure function of the case ids, n and (optionally) the durations of an
// earlier run, so every pod of a Kubernetes Indexed Job or job of a CI matrix
// computes the same split without talking to the others.
import fs from 'node:fs';
import type { CaseSpec } from './types.js';

/** One shard of a run: `index` is 1-based (`--shard 2/4` is index 2 of count 4). */
export interface Shard {
  index: number;
  count: number;
  /** Where an `auto` shard came from (`JOB_COMPLETION_INDEX`, …), for messages. */
  source?: string;
}

export class ShardError extends Error {
  override name = 'ShardError';
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** More shards than any matrix or Indexed Job runs. */
export const MAX_SHARDS = 10_000;

const wholeNumber = (v: string | undefined): number | undefined =>
  v !== undefined && /^\s*\d+\s*$/.test(v) ? Number(v) : undefined;

/** Parses `i/n` (1 ≤ i ≤ n). */
export function parseShard(s: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(s);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || count > MAX_SHARDS || index < 1 || index > count) {
    throw new ShardError(
      `--shard '${s.slice(0, 40)}': expected i/n with 1 <= i <= n <= ${MAX_SHARDS}, or auto`,
      'e.g. --shard 1/4, or --shard auto in a Kubernetes Indexed Job or CI matrix',
    );
  }
  return { index, count };
}

/** Parses a shard count (`--shard-count`, `TEST_RIG_SHARD_COUNT`). */
export function parseShardCount(v: string, what = '--shard-count'): number {
  const n = wholeNumber(v);
  if (n === undefined || n < 1 || n > MAX_SHARDS)
    throw new ShardError(`${what} '${v.slice(0, 40)}': expected a whole number from 1 to ${MAX_SHARDS}`);
  return n;
}

/**
 * The engines whose environment names a shard: each gives an index variable
 * (0- or 1-based) and, except Kubernetes, a count variable. A Kubernetes
 * Indexed Job sets only `JOB_COMPLETION_INDEX`: the count is `--shard-count`
 * or `TEST_RIG_SHARD_COUNT` (the Job's `completions`).
 */
const ENGINES: { name: string; index: string; count?: string; base: 0 | 1 }[] = [
  { name: 'Kubernetes Indexed Job', index: 'JOB_COMPLETION_INDEX', base: 0 },
  { name: 'GitLab CI parallel', index: 'CI_NODE_INDEX', count: 'CI_NODE_TOTAL', base: 1 },
  { name: 'CircleCI parallelism', index: 'CIRCLE_NODE_INDEX', count: 'CIRCLE_NODE_TOTAL', base: 0 },
  {
    name: 'Buildkite parallelism',
    index: 'BUILDKITE_PARALLEL_JOB',
    count: 'BUILDKITE_PARALLEL_JOB_COUNT',
    base: 0,
  },
];

/**
 * `--shard auto`: the shard the engine running this process names in the
 * environment. `count` (`--shard-count`) overrides the engine's count;
 * `TEST_RIG_SHARD_COUNT` gives it where the engine has none.
 */
export function shardFromEnv(env: NodeJS.ProcessEnv = process.env, count?: number): Shard {
  for (const e of ENGINES) {
    const raw = env[e.index];
    if (raw === undefined || raw.trim() === '') continue;
    const i = wholeNumber(raw);
    if (i === undefined)
      throw new ShardError(`--shard auto: ${e.index}='${raw.slice(0, 40)}' is not a whole number`);
    let n = count;
    let from = '--shard-count';
    if (n === undefined && env.TEST_RIG_SHARD_COUNT !== undefined) {
      n = parseShardCount(env.TEST_RIG_SHARD_COUNT, 'TEST_RIG_SHARD_COUNT');
      from = 'TEST_RIG_SHARD_COUNT';
    }
    if (n === undefined && e.count && env[e.count] !== undefined) {
      n = parseShardCount(env[e.count]!, e.count);
      from = e.count;
    }
    if (n === undefined)
      throw new ShardError(
        `--shard auto: ${e.index} is set (${e.name}) but not the number of shards`,
        `give --shard-count N or set TEST_RIG_SHARD_COUNT to the Job's completions`,
      );
    const index = i + (1 - e.base);
    if (index < 1 || index > n)
      throw new ShardError(
        `--shard auto: ${e.index}=${i} is outside the ${n} shards of ${from}`,
        e.base === 0 ? `${e.index} counts from 0 to N-1` : `${e.index} counts from 1 to N`,
      );
    return { index, count: n, source: e.index };
  }
  throw new ShardError(
    `--shard auto: no shard in the environment (none of ${ENGINES.map((e) => e.index).join(', ')} is set)`,
    'in a GitHub Actions matrix pass --shard ${{ matrix.shard }}/N; elsewhere give --shard i/n',
  );
}

/** `i/n` or `auto` (resolved from `env`), with `--shard-count` when given. */
export function resolveShard(arg: string, count?: number, env: NodeJS.ProcessEnv = process.env): Shard {
  if (arg.trim().toLowerCase() === 'auto') return shardFromEnv(env, count);
  const s = parseShard(arg);
  if (count !== undefined && count !== s.count)
    throw new ShardError(
      `--shard ${s.index}/${s.count} and --shard-count ${count} disagree`,
      '--shard-count is for --shard auto',
    );
  return s;
}

/** `i/n`, as the reports write it. */
export const shardLabel = (s: Shard): string => `${s.index}/${s.count}`;

/**
 * Case durations (id → ms) from `file`: a JSON-lines report (`--json`, one
 * shard's or a merged one; its case lines' `duration_ms`) or a JSON object of
 * id → ms (the durations cache). A case that ran more than once keeps its
 * longest time.
 */
export function loadDurations(file: string): Map<string, number> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ShardError(
      `--durations-file ${file}: cannot read it${code ? ` (${code})` : ''}`,
      'give the JSON report of an earlier run (--json FILE) or .test-rig-cache/durations.json',
    );
  }
  const out = new Map<string, number>();
  const add = (id: unknown, ms: unknown) => {
    if (typeof id !== 'string' || typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return;
    out.set(id, Math.max(ms, out.get(id) ?? 0));
  };
  const bad = () =>
    new ShardError(
      `--durations-file ${file}: not a JSON report of a run nor an object of case id to milliseconds`,
      'give the JSON report of an earlier run (--json FILE) or .test-rig-cache/durations.json',
    );
  const trimmed = text.trim();
  if (trimmed === '') return out;
  let whole: unknown;
  try {
    whole = JSON.parse(trimmed);
  } catch {
    whole = undefined; // JSON lines
  }
  if (whole !== undefined) {
    if (whole === null || typeof whole !== 'object' || Array.isArray(whole)) throw bad();
    let obj = whole as Record<string, unknown>;
    if (obj.event === undefined) {
      // a durations object, bare or under `durations`; a value is a number of ms, a
      // { ms } / { duration_ms } record, or a list of earlier times (their mean)
      const inner = obj.durations;
      if (inner && typeof inner === 'object' && !Array.isArray(inner)) obj = inner as Record<string, unknown>;
      for (const [id, v] of Object.entries(obj)) add(id, msOf(v));
      return out;
    }
    // a report of one line
    if (obj.event === 'case') add(obj.id, obj.duration_ms);
    return out;
  }
  let lines = 0;
  for (const line of trimmed.split('\n')) {
    let rec: Record<string, unknown>;
    try {
      rec = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue; // a report cut off mid-line: the lines before it still count
    }
    lines++;
    if (rec && rec.event === 'case') add(rec.id, rec.duration_ms);
  }
  if (lines === 0) throw bad();
  return out;
}

/** The milliseconds a durations-object value stands for (see loadDurations). */
function msOf(v: unknown): unknown {
  if (typeof v === 'number') return v;
  if (Array.isArray(v)) {
    const nums = v.filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
    return nums.length ? nums.reduce((a, b) => a + b, 0) / nums.length : undefined;
  }
  if (v && typeof v === 'object') {
    const r = v as Record<string, unknown>;
    return r.duration_ms ?? r.ms;
  }
  return undefined;
}

/**
 * Splits `cases` into `count` shards and returns shard `index`'s (1-based), in
 * the order given. Without durations every case weighs the same, so the shards
 * differ by at most one case. With durations it is longest-processing-time
 * first: cases from the longest down (ties by id) each go to the shard with
 * the least time so far (ties to the lowest shard); a case the durations do
 * not know is estimated at their median. The result depends only on the ids,
 * the count and the durations, never on the input order.
 */
export function shardCases<T extends Pick<CaseSpec, 'id'>>(
  cases: T[],
  shard: Shard,
  durations?: ReadonlyMap<string, number>,
): T[] {
  const owner = assignShards(
    cases.map((c) => c.id),
    shard.count,
    durations,
  );
  return cases.filter((c) => owner.get(c.id) === shard.index);
}

/** Each id's shard (1-based) among `count`; see shardCases. */
export function assignShards(
  ids: string[],
  count: number,
  durations?: ReadonlyMap<string, number>,
): Map<string, number> {
  const unique = [...new Set(ids)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const known = unique.map((id) => durations?.get(id)).filter((ms): ms is number => ms !== undefined);
  const owner = new Map<string, number>();
  if (known.length === 0) {
    // by case count: dealt round-robin in id order
    unique.forEach((id, i) => owner.set(id, (i % count) + 1));
    return owner;
  }
  const sorted = [...known].sort((a, b) => a - b);
  const median = sorted[Math.floor((sorted.length - 1) / 2)];
  // at least 1 ms each, so that cases of 0 ms still spread by count
  const weight = (id: string) => Math.max(1, durations?.get(id) ?? median);
  const order = [...unique].sort((a, b) => weight(b) - weight(a) || (a < b ? -1 : a > b ? 1 : 0));
  const load = new Array<number>(count).fill(0);
  for (const id of order) {
    let best = 0;
    for (let s = 1; s < count; s++) if (load[s] < load[best]) best = s;
    load[best] += weight(id);
    owner.set(id, best + 1);
  }
  return owner;
}
