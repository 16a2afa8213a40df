// Rewriting the free text of a case (printed output, echoed SQL, failure
// messages, tracebacks, skip reasons, state names) on its way to reporters,
// never the rig's own fields (status, counts, ids, times): secrets are masked
// once before any reporter sees a case (so a password such as `passed` or `1`
// cannot corrupt a report), and control characters are made visible on the
// terminal.
import type { CaseFailure, CaseResult, CaseSpec, Reporter } from '../types.js';

type Redact = (text: string) => string;

function redactFailure(f: CaseFailure, redact: Redact): CaseFailure {
  return {
    ...f,
    message: redact(f.message),
    traceback: f.traceback === undefined ? undefined : redact(f.traceback),
    where: f.where === undefined ? undefined : redact(f.where),
    details: f.details?.map(redact),
  };
}

function redactSpec(c: CaseSpec, redact: Redact): CaseSpec {
  return c.broken ? { ...c, broken: redactFailure(c.broken, redact) } : c;
}

export function redactResult(r: CaseResult, redact: Redact): CaseResult {
  return {
    ...r,
    case: redactSpec(r.case, redact),
    skipReason: r.skipReason === undefined ? undefined : redact(r.skipReason),
    failure: r.failure && redactFailure(r.failure, redact),
    earlierFailures: r.earlierFailures?.map((f) => redactFailure(f, redact)),
    states: r.states?.map(redact),
    output: r.output.map((l) => ({ ...l, text: redact(l.text) })),
    timeline: r.timeline && redactDeep(r.timeline, redact),
    postmortem: r.postmortem && redactDeep(r.postmortem, redact),
    deadlocks: r.deadlocks && redactDeep(r.deadlocks, redact),
  };
}

/** A copy of `value` with every string in it passed through `redact`. */
function redactDeep<T>(value: T, redact: Redact): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => redactDeep(v, redact)) as T;
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v, redact)])) as T;
  return value;
}

/**
 * Control characters (ESC sequences, carriage returns, bells, C1 codes) shown
 * as escapes, so handler text cannot move the cursor, clear or retitle the
 * terminal, or hide earlier lines. Tabs and newlines stay.
 */
export function escapeControls(text: string): string {
  return text.replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, (ch) => {
    if (ch === '\r') return '\\r';
    return `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}

/** `inner` receiving every event with its free text passed through `redact`. */
export function redactingReporter(inner: Reporter, redact: Redact): Reporter {
  // end() gets the results caseEnd() had: redact each once
  const done = new WeakMap<CaseResult, CaseResult>();
  const once = (r: CaseResult) => {
    let red = done.get(r);
    if (!red) done.set(r, (red = redactResult(r, redact)));
    return red;
  };
  return {
    start: (info) => inner.start?.(info),
    caseStart: (c) => inner.caseStart?.(c),
    output: (c, line) => inner.output?.(c, { ...line, text: redact(line.text) }),
    caseEnd: (r) => inner.caseEnd?.(once(r)),
    end: (summary, results) => inner.end?.(summary, results.map(once)),
  };
}
