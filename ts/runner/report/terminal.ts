// Live terminal output: a verdict line per case as it finishes, the case's
// printed output and SQL (prefixed with the case name) when asked for, the
// failure with its Python traceback, a progress line on a TTY, the summary.
import { formatDeadlock } from '../../db/deadlocks.js';
import { formatPostMortem } from '../postmortem.js';
import pc from 'picocolors';
import type { CaseResult, CaseSpec, OutputLine, Reporter, Summary } from '../types.js';
import { formatDuration, summaryTable } from './summary.js';

/** `quiet` (-q): failures and the totals only. */
export type OutputLevel = 'quiet' | 'normal' | 'verbose' | 'debug';

export interface TerminalOptions {
  level?: OutputLevel;
  /** Print every case's output live (also on at verbose and debug). */
  showOutput?: boolean;
  /** Print SQL lines live. */
  showSql?: boolean;
  out?: (text: string) => void;
  /** The progress line goes here, only when it is a TTY. */
  progress?: NodeJS.WriteStream;
  color?: boolean;
  /** Print the summary at the end (default true; the supervisor prints it for a continued run). */
  summary?: boolean;
  /** After the summary, the N slowest cases (0: every case). */
  durations?: number;
}

/** How many captured lines a failed case shows when its output was not streamed. */
const FAILURE_OUTPUT_LINES = 60;

export class TerminalReporter implements Reporter {
  readonly #level: OutputLevel;
  readonly #live: boolean;
  readonly #sql: boolean;
  readonly #out: (text: string) => void;
  readonly #progress?: NodeJS.WriteStream;
  readonly #c: ReturnType<typeof pc.createColors>;
  #total = 0;
  #done = 0;
  #failed = 0;
  #cancelled = 0;
  #started = performance.now();
  #progressShown = false;
  #timer?: ReturnType<typeof setInterval>;
  #parallel = false;
  readonly #summary: boolean;
  readonly #durations?: number;
  /** verbose or debug */
  readonly #detailed: boolean;

  constructor(options: TerminalOptions = {}) {
    this.#summary = options.summary ?? true;
    this.#level = options.level ?? 'normal';
    this.#detailed = this.#level === 'verbose' || this.#level === 'debug';
    this.#durations = options.durations;
    this.#live = Boolean(options.showOutput) || this.#detailed;
    this.#sql = Boolean(options.showSql);
    this.#out = options.out ?? ((t) => process.stdout.write(t));
    this.#progress = options.progress?.isTTY ? options.progress : undefined;
    this.#c = pc.createColors(options.color ?? Boolean(process.stdout.isTTY && !process.env.NO_COLOR));
  }

  start(info: { cases: CaseSpec[]; jobs: number; server?: string }): void {
    this.#total = info.cases.length;
    this.#parallel = info.jobs > 1;
    this.#started = performance.now();
    if (this.#level !== 'quiet')
      this.#print(
        `running ${info.cases.length} case${info.cases.length === 1 ? '' : 's'}${info.server ? ` on ${info.server}` : ''}${info.jobs > 1 ? ` with ${info.jobs} jobs` : ''}`,
      );
    if (this.#progress) {
      this.#timer = setInterval(() => this.#drawProgress(), 1000);
      this.#timer.unref();
    }
  }

  caseStart(c: CaseSpec): void {
    if (this.#detailed) this.#print(this.#c.dim(`▶ ${c.id}`));
  }

  output(c: CaseSpec, line: OutputLine): void {
    if (line.stream === 'sql' ? !(this.#sql || this.#live) : !this.#live) return;
    const text = line.stream === 'sql' ? `SQL ${line.text}` : line.text;
    this.#print(`  ${this.#c.dim(`[${c.name}]`)} ${line.stream === 'stderr' ? this.#c.yellow(text) : text}`);
  }

  caseEnd(r: CaseResult): void {
    this.#done++;
    const c = this.#c;
    const time = c.dim(`(${formatDuration(r.durationMs)})`);
    const tries = r.attempts > 1 ? c.dim(` [${r.attempts} attempts]`) : '';
    switch (r.status) {
      case 'passed':
        if (this.#level !== 'quiet') this.#print(`${c.green('✔ PASS ')} ${r.case.id} ${time}`);
        break;
      case 'flaky':
        this.#print(
          `${c.yellow('⚠ FLAKY')} ${r.case.id} ${time}${tries}: failed first with ${r.earlierFailures?.[0]?.message ?? '?'}`,
        );
        break;
      case 'skipped':
        if (this.#level !== 'quiet') this.#print(`${c.cyan('○ SKIP ')} ${r.case.id}: ${r.skipReason ?? ''}`);
        break;
      case 'cancelled':
        this.#cancelled++; // (not a failure: the suite table counts it apart too)
        this.#print(`${c.yellow('■ CANCEL')} ${r.case.id} ${time}`);
        for (const l of explanation(r)) this.#print(`    ${c.yellow('│')} ${l}`);
        break;
      case 'failed': {
        this.#failed++;
        const f = r.failure;
        this.#print(`${c.red('✖ FAIL ')} ${r.case.id} ${time}${tries}`);
        const lines = [`${f?.message ?? 'failed'}`];
        if (f?.where) lines.push(`at ${f.where}`);
        for (const d of f?.details ?? []) lines.push(d);
        if (f?.traceback && this.#detailed) lines.push(...f.traceback.trimEnd().split('\n'));
        else if (f?.traceback) lines.push(...shortTraceback(f.traceback));
        if (!this.#live && r.output.length) {
          const shown = r.output.filter((l) => l.stream !== 'sql' || this.#sql);
          const tail = shown.slice(-FAILURE_OUTPUT_LINES);
          if (tail.length) {
            lines.push(`output${shown.length > tail.length ? ` (last ${tail.length} lines)` : ''}:`);
            for (const l of tail) lines.push(`  ${l.stream === 'sql' ? `SQL ${l.text}` : l.text}`);
          }
        }
        lines.push(...explanation(r));
        for (const l of lines) this.#print(`    ${c.red('│')} ${l}`);
      }
    }
    if (this.#level === 'debug' && r.states?.length)
      this.#print(c.dim(`    states: ${r.states.join(' → ')}`));
    this.#drawProgress();
  }

  end(summary: Summary, results: CaseResult[]): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#clearProgress();
    if (!this.#summary) return;
    const quiet = this.#level === 'quiet';
    for (const line of summaryTable(summary, results, { table: !quiet })) this.#out(`${line}\n`);
    if (this.#durations !== undefined)
      for (const line of slowest(results, this.#durations)) this.#out(`${line}\n`);
  }

  #print(line: string): void {
    this.#clearProgress();
    this.#out(`${line}\n`);
  }

  #drawProgress(): void {
    if (!this.#progress || this.#total === 0) return;
    const secs = ((performance.now() - this.#started) / 1000).toFixed(0);
    const failed = this.#failed ? this.#c.red(` ${this.#failed} failed`) : '';
    const cancelled = this.#cancelled ? this.#c.yellow(` ${this.#cancelled} cancelled`) : '';
    this.#progress.write(
      `\r\x1b[K[${this.#done}/${this.#total}]${failed}${cancelled} ${secs}s${this.#parallel ? '' : ''}`,
    );
    this.#progressShown = true;
  }

  #clearProgress(): void {
    if (this.#progressShown && this.#progress) {
      this.#progress.write('\r\x1b[K');
      this.#progressShown = false;
    }
  }
}

/** The `n` slowest cases (0: all), slowest first, as pytest's --durations prints them. */
export function slowest(results: CaseResult[], n: number): string[] {
  const ran = results.filter((r) => r.status !== 'skipped').sort((a, b) => b.durationMs - a.durationMs);
  const shown = n === 0 ? ran : ran.slice(0, n);
  if (shown.length === 0) return [];
  const width = Math.max(...shown.map((r) => formatDuration(r.durationMs).length));
  return [
    '',
    `slowest ${n === 0 ? '' : `${shown.length} `}durations:`,
    ...shown.map((r) => `  ${formatDuration(r.durationMs).padStart(width)}  ${r.case.id}`),
  ];
}

/** The user's frames of a Python traceback: the header, the lines from their files, the last line. */
export function shortTraceback(tb: string): string[] {
  const lines = tb.trimEnd().split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (/^\s+File "/.test(l)) {
      if (/[\\/]test_rig[\\/]|"<frozen /.test(l)) continue;
      out.push(l.trim());
      const code = lines[i + 1];
      if (code && !/^\s+File "/.test(code) && /^\s{4,}/.test(code)) out.push(`  ${code.trim()}`);
    }
  }
  const last = lines[lines.length - 1];
  // (an ExceptionGroup's traceback ends in a rule line: its members are in the failure's details)
  if (last && !out.includes(last) && !/^[\s|+-]*$/.test(last)) out.push(last);
  return out;
}

/** The post-mortem and the deadlocks of a case, as lines. */
function explanation(r: CaseResult): string[] {
  return [
    ...(r.postmortem ? formatPostMortem(r.postmortem) : []),
    ...(r.deadlocks ?? []).flatMap(formatDeadlock),
  ];
}
