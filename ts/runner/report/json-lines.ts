// JSON lines, written as they happen (synchronously, one line per event), so
// a crash or Ctrl-C loses nothing already finished. Events: start, case, summary.
import fs from 'node:fs';
import { openOutputFile, writeToOutput } from '../../io/output-file.js';
import type { CaseResult, CaseSpec, Reporter, Summary } from '../types.js';

export function caseRecord(r: CaseResult): Record<string, unknown> {
  const c = r.case;
  return {
    event: 'case',
    id: c.id,
    suite: c.suite,
    file: c.fileName,
    path: c.file,
    class: c.name,
    line: c.line,
    tags: c.tags,
    status: r.status,
    duration_ms: Math.round(r.durationMs),
    attempts: r.attempts,
    skip_reason: r.skipReason ?? null,
    message: r.failure?.message ?? null,
    error_type: r.failure?.type ?? null,
    where: r.failure?.where ?? null,
    traceback: r.failure?.traceback ?? null,
    details: r.failure?.details ?? null,
    phase: r.failure?.phase ?? null,
    teardown_error: r.teardownError
      ? { message: r.teardownError.message, type: r.teardownError.type ?? null }
      : null,
    earlier_failures: r.earlierFailures?.map((f) => f.message) ?? [],
    states: r.states ?? [],
    database: r.database ?? null,
    output: r.output.map((l) => ({ stream: l.stream, text: l.text })),
    ...(r.timeline ? { timeline: r.timeline } : {}),
    ...(r.postmortem ? { postmortem: r.postmortem } : {}),
    ...(r.deadlocks ? { deadlocks: r.deadlocks } : {}),
  };
}

export class JsonLinesReporter implements Reporter {
  readonly #fd: number;
  readonly #ownsFd: boolean;
  readonly #file: string;
  #closed = false;

  readonly #redact?: (text: string) => string;

  /**
   * `file` '-' writes to stdout, a number to that descriptor. `redact` masks
   * secrets in every string written (Logger.redact). `append` adds to the file
   * instead of starting it anew (the supervisor finishing the report of a run
   * process that died).
   */
  constructor(file: string | number, redact?: (text: string) => string, options: { append?: boolean } = {}) {
    this.#redact = redact;
    this.#file = file === '-' || file === 1 ? 'stdout' : String(file);
    if (typeof file === 'number') {
      this.#fd = file;
      this.#ownsFd = false;
    } else if (file === '-') {
      this.#fd = 1;
      this.#ownsFd = false;
    } else {
      this.#fd = openOutputFile('the JSON report', file, { append: options.append });
      this.#ownsFd = true;
    }
  }

  #write(record: Record<string, unknown>): void {
    if (this.#closed) return;
    const redact = this.#redact;
    const text = redact
      ? JSON.stringify(record, (_k, v: unknown) => (typeof v === 'string' ? redact(v) : v))
      : JSON.stringify(record);
    try {
      writeToOutput('the JSON report', this.#file, this.#fd, `${text}\n`);
    } catch (e) {
      // report the first failure (it fails the run) and write no more
      this.close();
      throw e;
    }
  }

  start(info: { cases: CaseSpec[]; jobs: number; shard?: string; server?: string }): void {
    this.#write({
      event: 'start',
      time: new Date().toISOString(),
      cases: info.cases.length,
      jobs: info.jobs,
      // `i/n` of a sharded run: test-rig merge checks that every shard is there once
      shard: info.shard ?? null,
      server: info.server ?? null,
    });
  }

  caseEnd(r: CaseResult): void {
    this.#write(caseRecord(r));
  }

  end(summary: Summary): void {
    this.#write({
      event: 'summary',
      total: summary.total,
      passed: summary.passed,
      failed: summary.failed,
      skipped: summary.skipped,
      flaky: summary.flaky,
      cancelled: summary.cancelled,
      not_run: summary.notRun,
      duration_ms: Math.round(summary.durationMs),
      interrupted: summary.interrupted,
    });
    this.close();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ownsFd)
      try {
        fs.closeSync(this.#fd);
      } catch {
        /* nothing more to write */
      }
  }
}
