// The end-of-run suite table and the progress line: a case cancelled by Ctrl-C is not counted as failed.
import assert from 'node:assert/strict';
import { summaryTable } from '../../ts/runner/report/summary.js';
import { TerminalReporter } from '../../ts/runner/report/terminal.js';
import type { CaseResult, Summary } from '../../ts/runner/types.js';

const result = (suite: string, status: CaseResult['status']): CaseResult =>
  ({
    case: { suite, id: `${suite}/test_x.py::${status}` },
    status,
    durationMs: 5,
    output: [],
  }) as unknown as CaseResult;

const summary = (over: Partial<Summary>): Summary =>
  ({
    total: 0,
    passed: 0,
    failed: 0,
    skipped: 0,
    flaky: 0,
    cancelled: 0,
    notRun: 0,
    durationMs: 10,
    interrupted: false,
    ...over,
  }) as Summary;

const row = (lines: string[], name: string): string[] => lines.find((l) => l.startsWith(name))!.split(/\s+/);

describe('summary table', () => {
  it('counts cancelled cases in a column of their own, not as failed', () => {
    const lines = summaryTable(summary({ total: 3, passed: 1, failed: 1, cancelled: 1, interrupted: true }), [
      result('txn', 'passed'),
      result('txn', 'failed'),
      result('txn', 'cancelled'),
    ]);
    assert.deepEqual(row(lines, 'suite'), [
      'suite',
      'passed',
      'failed',
      'skipped',
      'flaky',
      'cancelled',
      'time',
    ]);
    assert.deepEqual(row(lines, 'txn').slice(0, 6), ['txn', '1', '1', '0', '0', '1']);
  });

  it('shows no cancelled column when nothing was cancelled', () => {
    const lines = summaryTable(summary({ total: 1, passed: 1 }), [result('ddl', 'passed')]);
    assert.deepEqual(row(lines, 'suite'), ['suite', 'passed', 'failed', 'skipped', 'flaky', 'time']);
  });
});

describe('progress line on a terminal', () => {
  it('counts a cancelled case apart, not as failed', () => {
    const writes: string[] = [];
    const progress = { isTTY: true, write: (t: string) => writes.push(t) } as unknown as NodeJS.WriteStream;
    const reporter = new TerminalReporter({ progress, out: () => undefined, color: false });
    const cases = [result('txn', 'failed'), result('txn', 'cancelled'), result('txn', 'cancelled')];
    reporter.start({ cases: cases.map((r) => r.case), jobs: 1 });
    for (const r of cases) reporter.caseEnd(r);
    reporter.end(summary({ total: 3, failed: 1, cancelled: 2, interrupted: true }), cases);
    assert.match(writes.at(-2) ?? '', /\[3\/3\] 1 failed 2 cancelled /);
  });
});
