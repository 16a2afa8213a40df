// The end-of-run summary: one row per suite, totals, and the failures again.
import type { CaseResult, Summary } from '../types.js';

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m}m${Math.round((ms % 60_000) / 1000)}s`;
}

/** `table: false` (-q) leaves out the per-suite table: the totals and the failures only. */
export function summaryTable(
  summary: Summary,
  results: CaseResult[],
  { table = true }: { table?: boolean } = {},
): string[] {
  const suites = new Map<
    string,
    { passed: number; failed: number; skipped: number; flaky: number; cancelled: number; ms: number }
  >();
  for (const r of results) {
    const row = suites.get(r.case.suite) ?? {
      passed: 0,
      failed: 0,
      skipped: 0,
      flaky: 0,
      cancelled: 0,
      ms: 0,
    };
    row[r.status]++;
    row.ms += r.durationMs;
    suites.set(r.case.suite, row);
  }
  // a cancelled case (Ctrl-C) did not fail: its own column, shown when there is one
  const withCancelled = [...suites.values()].some((s) => s.cancelled > 0);
  const header = [
    'suite',
    'passed',
    'failed',
    'skipped',
    'flaky',
    ...(withCancelled ? ['cancelled'] : []),
    'time',
  ];
  const rows = [...suites.entries()].map(([name, s]) => [
    name,
    String(s.passed),
    String(s.failed),
    String(s.skipped),
    String(s.flaky),
    ...(withCancelled ? [String(s.cancelled)] : []),
    formatDuration(s.ms),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const out = table ? ['', line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)] : [];
  const parts = [`${summary.passed} passed`, `${summary.failed} failed`, `${summary.skipped} skipped`];
  if (summary.flaky) parts.push(`${summary.flaky} flaky`);
  if (summary.cancelled) parts.push(`${summary.cancelled} cancelled`);
  if (summary.notRun) parts.push(`${summary.notRun} not run`);
  out.push(
    '',
    `${summary.total} case${summary.total === 1 ? '' : 's'}: ${parts.join(', ')} in ${formatDuration(summary.durationMs)}${summary.interrupted ? ' (interrupted)' : ''}`,
  );
  const failed = results.filter((r) => r.status === 'failed');
  if (failed.length) {
    out.push('', 'failed:');
    for (const r of failed) out.push(`  ${r.case.id}: ${r.failure?.message.split('\n')[0] ?? ''}`);
  }
  return out;
}
