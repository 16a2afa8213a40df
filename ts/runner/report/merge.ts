// Merging the JSON-lines reports of a sharded run into one: the cases of every
// shard, totals over them, and what is wrong with the set (a shard missing,
// repeated or cut off, a case run twice). Reading and checking only; the
// `merge` command writes the results (ts/cli/merge.ts).
import fs from 'node:fs';
import { junitXml } from './junit.js';
import type { CaseResult, CaseSpec, Status, Summary } from '../types.js';

/** A file that is no test-rig JSON report at all: a usage error, nothing to merge. */
export class MergeInputError extends Error {
  override name = 'MergeInputError';
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

type Json = Record<string, unknown>;

/** One shard's JSON-lines report as read. */
export interface ShardReport {
  file: string;
  /** `i/n` from the start line; undefined for an unsharded run. */
  shard?: string;
  start: Json;
  cases: Json[];
  /** The summary line; undefined when the report was cut off. */
  summary?: Json;
  /** Why the report is incomplete (no summary line, a broken line). */
  cutOff?: string;
}

const HINT = 'merge reads the JSON reports the shards wrote with --json FILE';
const STATUSES: Status[] = ['passed', 'failed', 'skipped', 'flaky', 'cancelled'];

/** Reads one report. Throws MergeInputError when it is not a JSON report of `test-rig run`. */
export function readShardReport(file: string, text: string): ShardReport {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const records: Json[] = [];
  let cutOff: string | undefined;
  for (const [i, line] of lines.entries()) {
    let rec: unknown;
    try {
      rec = JSON.parse(line);
    } catch {
      rec = undefined;
    }
    if (rec === null || typeof rec !== 'object' || Array.isArray(rec)) {
      if (i === 0) throw new MergeInputError(`${file} is not a JSON report of test-rig run`, HINT);
      // a last line without its newline is a write cut short; anything else is damage
      cutOff = `line ${i + 1} is not a JSON record${i === lines.length - 1 ? ' (cut off mid-line)' : ''}`;
      break;
    }
    records.push(rec as Json);
  }
  const start = records[0];
  if (!start || start.event !== 'start' || typeof start.cases !== 'number')
    throw new MergeInputError(
      records.length === 0 ? `${file} is empty` : `${file} is not a JSON report of test-rig run`,
      records.length === 0 ? 'the shard wrote nothing: did it start?' : HINT,
    );
  if (Array.isArray(start.shards))
    throw new MergeInputError(`${file} is a merged report already`, 'merge the reports of the shards');
  const cases = records.filter((r) => r.event === 'case' && typeof r.id === 'string');
  const summary = records.find((r) => r.event === 'summary');
  if (!summary && !cutOff) cutOff = 'it has no summary line (the shard ended before its run did)';
  return {
    file,
    shard: typeof start.shard === 'string' ? start.shard : undefined,
    start,
    cases,
    summary,
    cutOff,
  };
}

/** Reads `file`; a file that does not exist is undefined (a missing shard, not a usage error). */
export function loadShardReport(file: string): ShardReport | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new MergeInputError(`cannot read ${file}${code ? ` (${code})` : ''}`);
  }
  return readShardReport(file, text);
}

export interface MergedShard {
  file: string;
  shard: string | null;
  total: number;
  cases: number;
  failed: number;
  cancelled: number;
  notRun: number;
  interrupted: boolean;
  cutOff: string | null;
}

export interface MergeResult {
  /** Every case record, shard by shard, in each shard's order. */
  cases: Json[];
  summary: Summary;
  shards: MergedShard[];
  /** What makes the set incomplete or inconsistent: each fails the merge. */
  problems: string[];
  /** The shards whose run failed (failed or cancelled cases, interrupted, cases not run). */
  failedShards: string[];
  /** The server the first shard ran against (`MariaDB 11.4.2`). */
  server?: string;
  /** True when every shard is there once, complete, and passed. */
  ok: boolean;
}

const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/**
 * Merges the reports of the shards. `missing` are files named but absent.
 * Every shard `1..n` of the one split must be there exactly once.
 */
export function mergeShardReports(given: ShardReport[], missing: string[] = []): MergeResult {
  // shard order, whatever order the files came in (a shell glob sorts 10/12 before 2/12)
  const index = (r: ShardReport) => (r.shard ? Number(r.shard.split('/')[0]) : Infinity);
  const reports = [...given].sort((x, y) => index(x) - index(y));
  const problems = missing.map((f) => `missing report ${f}: no such file`);
  const failedShards: string[] = [];
  const sharded = reports.filter((r) => r.shard !== undefined);
  if (sharded.length > 0 && sharded.length < reports.length)
    problems.push(
      `${reports
        .filter((r) => r.shard === undefined)
        .map((r) => r.file)
        .join(', ')}: not the report of a shard (run without --shard), merged with shards`,
    );
  const counts = new Set(sharded.map((r) => Number(r.shard!.split('/')[1])));
  if (counts.size > 1)
    problems.push(
      `the reports are of different splits (${[...counts].map((n) => `${n} shards`).join(', ')})`,
    );
  const n = counts.size === 1 ? [...counts][0] : 0;
  const seen = new Map<string, string>();
  for (const r of sharded) {
    const other = seen.get(r.shard!);
    if (other !== undefined) problems.push(`shard ${r.shard} is repeated: ${other} and ${r.file}`);
    else seen.set(r.shard!, r.file);
  }
  for (let i = 1; i <= n; i++)
    if (!seen.has(`${i}/${n}`)) problems.push(`shard ${i}/${n} is missing: no report of it was given`);

  const cases: Json[] = [];
  const where = new Map<string, string>();
  const shards: MergedShard[] = [];
  let planned = 0;
  let durationMs = 0;
  let interrupted = false;
  const merged = new Set<string>();
  for (const r of reports) {
    const label = r.shard ?? r.file;
    // a repeated shard (a retried pod's report next to the first) counts once: it is a problem already
    if (r.shard !== undefined && merged.has(r.shard)) continue;
    if (r.shard !== undefined) merged.add(r.shard);
    if (r.cutOff) problems.push(`${r.file}${r.shard ? ` (shard ${r.shard})` : ''} is cut off: ${r.cutOff}`);
    for (const c of r.cases) {
      const id = c.id as string;
      const before = where.get(id);
      if (before !== undefined) problems.push(`case ${id} is in ${before} and in ${r.file}`);
      where.set(id, r.file);
      cases.push(c);
    }
    const total = r.summary ? num(r.summary.total) : num(r.start.cases);
    const failed = r.cases.filter((c) => c.status === 'failed').length;
    const cancelled = r.cases.filter((c) => c.status === 'cancelled').length;
    const notRun = Math.max(0, total - r.cases.length);
    const stopped = r.summary?.interrupted === true;
    planned += total;
    durationMs = Math.max(durationMs, num(r.summary?.duration_ms));
    interrupted ||= stopped;
    shards.push({
      file: r.file,
      shard: r.shard ?? null,
      total,
      cases: r.cases.length,
      failed,
      cancelled,
      notRun,
      interrupted: stopped,
      cutOff: r.cutOff ?? null,
    });
    if (failed + cancelled + notRun > 0 || stopped) failedShards.push(label);
  }
  const count = (s: Status) => cases.filter((c) => c.status === s).length;
  const summary: Summary = {
    total: planned,
    passed: count('passed'),
    failed: count('failed'),
    skipped: count('skipped'),
    flaky: count('flaky'),
    cancelled: count('cancelled'),
    notRun: Math.max(0, planned - cases.length),
    // the shards ran side by side: the run took as long as the longest
    durationMs,
    interrupted,
  };
  return {
    cases,
    summary,
    shards,
    problems,
    failedShards,
    server: reports.map((r) => str(r.start.server)).find((s) => s !== undefined),
    ok: problems.length === 0 && failedShards.length === 0 && reports.length > 0,
  };
}

/** The merged JSON-lines report: a start line naming the shards, every case line, a summary with totals. */
export function mergedJsonLines(m: MergeResult, time = new Date()): string {
  const lines: Json[] = [
    {
      event: 'start',
      time: time.toISOString(),
      cases: m.summary.total,
      shard: null,
      shards: m.shards.map((s) => s.shard ?? s.file),
      merged: m.shards.map((s) => s.file),
      server: m.server ?? null,
    },
    ...m.cases,
    {
      event: 'summary',
      total: m.summary.total,
      passed: m.summary.passed,
      failed: m.summary.failed,
      skipped: m.summary.skipped,
      flaky: m.summary.flaky,
      cancelled: m.summary.cancelled,
      not_run: m.summary.notRun,
      duration_ms: Math.round(m.summary.durationMs),
      interrupted: m.summary.interrupted,
      problems: m.problems,
      failed_shards: m.failedShards,
      shards: m.shards.map((s) => ({
        file: s.file,
        shard: s.shard,
        total: s.total,
        cases: s.cases,
        failed: s.failed,
        cancelled: s.cancelled,
        not_run: s.notRun,
        interrupted: s.interrupted,
        cut_off: s.cutOff,
      })),
    },
  ];
  return lines.map((l) => JSON.stringify(l)).join('\n') + '\n';
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

/** A case record of a JSON report back as the CaseResult it was written from (for JUnit). */
export function caseResultOf(c: Json): CaseResult {
  const spec: CaseSpec = {
    id: str(c.id) ?? '',
    suite: str(c.suite) ?? '',
    suiteDir: '',
    file: str(c.path) ?? str(c.file) ?? '',
    fileName: str(c.file) ?? '',
    name: str(c.class) ?? '',
    line: num(c.line),
    tags: Array.isArray(c.tags) ? c.tags.filter((t): t is string => typeof t === 'string') : [],
    requires: null,
    doc: '',
  };
  const status = STATUSES.includes(c.status as Status) ? (c.status as Status) : 'failed';
  const message = str(c.message);
  return {
    case: spec,
    status,
    durationMs: num(c.duration_ms),
    attempts: num(c.attempts) || 1,
    skipReason: str(c.skip_reason),
    failure:
      message !== undefined
        ? {
            message,
            type: str(c.error_type),
            where: str(c.where),
            traceback: str(c.traceback),
          }
        : undefined,
    earlierFailures: Array.isArray(c.earlier_failures)
      ? c.earlier_failures.filter((m): m is string => typeof m === 'string').map((m) => ({ message: m }))
      : undefined,
    states: Array.isArray(c.states) ? c.states.filter((s): s is string => typeof s === 'string') : undefined,
    output: Array.isArray(c.output)
      ? (c.output as Json[])
          .filter((l) => l && typeof l.text === 'string')
          .map((l) => ({
            stream: l.stream === 'stderr' || l.stream === 'sql' ? l.stream : 'stdout',
            text: l.text as string,
          }))
      : [],
    database: str(c.database),
  };
}

/** The merged JUnit XML: the cases of every shard, totals over all. */
export function mergedJUnit(m: MergeResult, time = new Date()): string {
  return junitXml(m.cases.map(caseResultOf), m.summary, time);
}
