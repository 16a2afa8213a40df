// JUnit XML (the dialect Jenkins, GitLab and GitHub Actions read): one
// <testsuite> per suite and file, one <testcase> per handler class.
import path from 'node:path';
import { writeOutputFile } from '../../io/output-file.js';
import { formatDeadlock } from '../../db/deadlocks.js';
import { summarizeTimeline } from '../../db/timeline.js';
import { formatPostMortem } from '../postmortem.js';
import type { CaseResult, Reporter, Summary } from '../types.js';

export function escapeXml(s: string): string {
  // characters XML 1.0 forbids are dropped
  return s
    .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]/g, '')
    .replace(/[<>&"']/g, (ch) => `&${{ '<': 'lt', '>': 'gt', '&': 'amp', '"': 'quot', "'": 'apos' }[ch]};`);
}

const secs = (ms: number) => (ms / 1000).toFixed(3);

export interface JUnitOptions {
  /** `i/n` of a sharded run, written as the property `shard` of each suite. */
  shard?: string;
}

export function junitXml(
  results: CaseResult[],
  summary: Summary,
  timestamp = new Date(),
  options: JUnitOptions = {},
): string {
  const groups = new Map<string, CaseResult[]>();
  for (const r of results) {
    const key = `${r.case.suite}.${r.case.fileName.replace(/\.py$/, '')}`;
    const list = groups.get(key) ?? [];
    list.push(r);
    groups.set(key, list);
  }
  const a = (s: string) => escapeXml(s);
  const out = ['<?xml version="1.0" encoding="UTF-8"?>'];
  const failures = results.filter((r) => r.status === 'failed').length;
  // a cancelled case is an error, and so is a failed teardown (as pytest reports it)
  const isError = (r: CaseResult): number => (r.status === 'cancelled' ? 1 : 0) + (r.teardownError ? 1 : 0);
  const errors = results.reduce((n, r) => n + isError(r), 0);
  const skipped = results.filter((r) => r.status === 'skipped').length;
  out.push(
    `<testsuites name="test-rig" tests="${results.length}" failures="${failures}" errors="${errors}" skipped="${skipped}" time="${secs(summary.durationMs)}" timestamp="${timestamp.toISOString()}">`,
  );
  for (const [name, list] of groups) {
    const f = list.filter((r) => r.status === 'failed').length;
    const e = list.reduce((n, r) => n + isError(r), 0);
    const s = list.filter((r) => r.status === 'skipped').length;
    const time = list.reduce((t, r) => t + r.durationMs, 0);
    const first = list[0].case;
    out.push(
      `  <testsuite name="${a(name)}" tests="${list.length}" failures="${f}" errors="${e}" skipped="${s}" time="${secs(time)}" file="${a(first.file)}">`,
    );
    if (options.shard)
      out.push(`    <properties><property name="shard" value="${a(options.shard)}"/></properties>`);
    for (const r of list) {
      const c = r.case;
      out.push(
        `    <testcase classname="${a(name)}" name="${a(c.name)}" file="${a(path.relative(process.cwd(), c.file) || c.file)}" line="${c.line}" time="${secs(r.durationMs)}">`,
      );
      if (r.status === 'failed' || r.status === 'cancelled') {
        const tag = r.status === 'failed' ? 'failure' : 'error';
        const f = r.failure;
        const body = [
          f?.message ?? '',
          f?.where ? `at ${f.where}` : '',
          ...(f?.details ?? []),
          f?.traceback ?? '',
        ]
          .filter(Boolean)
          .join('\n');
        out.push(
          `      <${tag} message="${a(f?.message.split('\n')[0] ?? r.status)}" type="${a(f?.type ?? r.status)}">${a(body)}</${tag}>`,
        );
      } else if (r.status === 'skipped') {
        out.push(`      <skipped message="${a(r.skipReason ?? '')}"/>`);
      } else if (r.status === 'flaky') {
        for (const f of r.earlierFailures ?? []) {
          out.push(
            `      <flakyFailure message="${a(f.message.split('\n')[0])}" type="${a(f.type ?? 'failure')}">${a([f.message, f.traceback ?? ''].join('\n'))}</flakyFailure>`,
          );
        }
      }
      if (r.teardownError) {
        const t = r.teardownError;
        out.push(
          `      <error message="${a(t.message.split('\n')[0])}" type="Teardown">${a(t.message)}</error>`,
        );
      }
      const text = (stream: string) =>
        r.output
          .filter((l) => (stream === 'stdout' ? l.stream !== 'stderr' : l.stream === 'stderr'))
          .map((l) => (l.stream === 'sql' ? `SQL ${l.text}` : l.text))
          .join('\n');
      const explained = [
        ...(r.postmortem ? formatPostMortem(r.postmortem) : []),
        ...(r.deadlocks ?? []).flatMap(formatDeadlock),
        ...(r.timeline ? [summarizeTimeline(r.timeline)] : []),
      ].join('\n');
      const so = [text('stdout'), explained].filter(Boolean).join('\n');
      const se = text('stderr');
      if (so) out.push(`      <system-out>${a(so)}</system-out>`);
      if (se) out.push(`      <system-err>${a(se)}</system-err>`);
      out.push('    </testcase>');
    }
    out.push('  </testsuite>');
  }
  out.push('</testsuites>');
  return out.join('\n') + '\n';
}

/** A copy of `value` with `redact` applied to every string in it. */
function redactDeep<T>(value: T, redact: (text: string) => string): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => redactDeep(v, redact)) as T;
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v, redact)])) as T;
  return value;
}

/**
 * Writes the JUnit file at the end of the run (also after Ctrl-C). A file that
 * cannot be written throws OutputFileError, which fails the run.
 */
export class JUnitReporter implements Reporter {
  /** `redact` masks secrets in every string written (Logger.redact). */
  constructor(
    readonly file: string,
    readonly redact?: (text: string) => string,
    readonly options: JUnitOptions = {},
  ) {}

  end(summary: Summary, results: CaseResult[]): void {
    const xml = junitXml(
      this.redact ? redactDeep(results, this.redact) : results,
      summary,
      new Date(),
      this.options,
    );
    writeOutputFile('the JUnit report', this.file, xml);
  }
}
