// The plain data that joins discover → plan → run → report.
import type { Deadlock } from '../db/deadlocks.js';
import type { TimelineRecord } from '../db/timeline.js';
import type { HandlerInfo } from '../python/handlers.js';
import type { PyRef } from '../python/native.js';
import type { PostMortem } from './postmortem.js';

/** One collected test case: a handler class in a test file of a suite. */
export interface CaseSpec {
  /** `suite/file.py::ClassName`: unique, stable, used for sharding and -k. */
  id: string;
  suite: string;
  /** The suite folder (absolute). */
  suiteDir: string;
  /** Absolute path of the test file. */
  file: string;
  /** The file name, e.g. `test_basic.py`. */
  fileName: string;
  /** The handler class name (the case's name in reports). */
  name: string;
  line: number;
  tags: string[];
  requires: unknown;
  doc: string;
  /** An old-style handler (its file imports `test_rig_python`): held to --strict-legacy. */
  legacy?: boolean;
  /** Set when the file could not be imported: the case is this failure. */
  broken?: CaseFailure;
  /**
   * The handler class, from the one import of its file in this run (discovery's):
   * cases are instantiated from it, never re-imported. Opaque; not reported.
   */
  found?: { cls: PyRef; info: HandlerInfo };
}

export interface CaseFailure {
  message: string;
  /** Python error type, e.g. 'SyntaxError'. */
  type?: string;
  /** Formatted Python traceback, when the failure came from Python. */
  traceback?: string;
  /** `file:line` of the user's code. */
  where?: string;
  /** A Python exception's causes and ExceptionGroup members, one line each (PythonError.details). */
  details?: string[];
  /** The phase of the attempt that failed (a run's own failures, such as an unimportable file, have none). */
  phase?: Phase;
}

/** The phases of one attempt, as pytest has them: setup, call, teardown. */
export type Phase = 'setup' | 'call' | 'teardown';

export type Status = 'passed' | 'failed' | 'skipped' | 'flaky' | 'cancelled';

export interface CaseResult {
  case: CaseSpec;
  status: Status;
  durationMs: number;
  /** Attempts made (1 + retries used). */
  attempts: number;
  /** The skip reason or the failure. */
  skipReason?: string;
  failure?: CaseFailure;
  /** Failures of earlier attempts (flaky cases). */
  earlierFailures?: CaseFailure[];
  /** States the case went through. */
  states?: string[];
  /** Printed output and SQL echo lines, in order. */
  output: OutputLine[];
  /** The scratch database it ran in. */
  database?: string;
  /** The teardown failed (its scratch database could not be dropped): an error of its own, whatever the status. */
  teardownError?: CaseFailure;
  /** Every statement of the case on every connection (kept per --timeline). */
  timeline?: TimelineRecord;
  /** Where the case was stuck when it timed out or was interrupted. */
  postmortem?: PostMortem;
  /** The server's record of deadlocks the case's statements ran into. */
  deadlocks?: Deadlock[];
}

export interface OutputLine {
  stream: 'stdout' | 'stderr' | 'sql';
  text: string;
}

export interface Summary {
  total: number;
  passed: number;
  failed: number;
  skipped: number;
  flaky: number;
  cancelled: number;
  /** Cases planned but never started (fail-fast, Ctrl-C). */
  notRun: number;
  durationMs: number;
  interrupted: boolean;
}

/** What every reporter receives; each method is optional. */
export interface Reporter {
  start?(info: { cases: CaseSpec[]; jobs: number; shard?: string; server?: string }): void;
  caseStart?(c: CaseSpec): void;
  output?(c: CaseSpec, line: OutputLine): void;
  caseEnd?(r: CaseResult): void;
  end?(summary: Summary, results: CaseResult[]): void | Promise<void>;
}
