// A case's statement timeline: every statement on every connection of the
// case, with who ran it, when, and how it ended. Recording is two small
// objects per statement; secrets are masked only when the timeline is read.
import { redactSecrets } from '../log/redact.js';

/** One statement on one connection. Times are milliseconds since the timeline started. */
export interface TimelineEntry {
  /** The connection's name (`main`, `conn_0`, ...). */
  conn: string;
  /** The server's thread (connection) id of that connection. */
  threadId: number;
  sql: string;
  startMs: number;
  /** Unset while the statement is running. */
  endMs?: number;
  /** Rows of the first result set. */
  rows?: number;
  affected?: number;
  /** The rig's error class (see classifyError), e.g. 'deadlock', 'lock_wait_timeout'. */
  errorClass?: string;
  errno?: number;
  error?: string;
}

/** What a timeline looks like in reports: secrets masked, times rounded to 0.1 ms. */
export interface TimelineRecord {
  /** Wall-clock start, ISO 8601. */
  started: string;
  entries: TimelineEntry[];
  /** Statements not kept (the timeline keeps the first and the last ones). */
  dropped: number;
}

/** Kept per case: the first half and the last half of this many statements. */
export const TIMELINE_LIMIT = 20_000;

export class Timeline {
  readonly startedAt = Date.now();
  readonly #origin = performance.now();
  readonly #head: TimelineEntry[] = [];
  // the newest statements, a ring once the head is full
  readonly #tail: TimelineEntry[] = [];
  #tailNext = 0;
  #dropped = 0;

  /** Notes a statement starting; the caller ends it with end() or fail(). */
  begin(conn: string, threadId: number, sql: string): TimelineEntry {
    const entry: TimelineEntry = { conn, threadId, sql, startMs: performance.now() - this.#origin };
    const half = TIMELINE_LIMIT / 2;
    if (this.#head.length < half) this.#head.push(entry);
    else if (this.#tail.length < half) this.#tail.push(entry);
    else {
      this.#tail[this.#tailNext] = entry;
      this.#tailNext = (this.#tailNext + 1) % half;
      this.#dropped++;
    }
    return entry;
  }

  end(entry: TimelineEntry, rows: number, affected: number): void {
    entry.endMs = performance.now() - this.#origin;
    entry.rows = rows;
    entry.affected = affected;
  }

  fail(entry: TimelineEntry, error: { message: string; errno?: number; errorClass?: string }): void {
    entry.endMs = performance.now() - this.#origin;
    entry.error = error.message;
    if (error.errno !== undefined) entry.errno = error.errno;
    if (error.errorClass !== undefined) entry.errorClass = error.errorClass;
  }

  /** Milliseconds since the timeline started. */
  now(): number {
    return performance.now() - this.#origin;
  }

  /** Every kept statement, oldest first (not masked: for the rig's own use). */
  entries(): TimelineEntry[] {
    const tail = this.#tail.slice(this.#tailNext).concat(this.#tail.slice(0, this.#tailNext));
    return this.#head.concat(tail);
  }

  /** The statement each connection is running now, by connection name. */
  running(): Map<string, TimelineEntry> {
    const out = new Map<string, TimelineEntry>();
    for (const e of this.entries()) if (e.endMs === undefined) out.set(e.conn, e);
    return out;
  }

  /** The server thread id of each connection seen, by name (the latest, after a reconnect). */
  threads(): Map<string, number> {
    const out = new Map<string, number>();
    for (const e of this.entries()) out.set(e.conn, e.threadId);
    return out;
  }

  toJSON(): TimelineRecord {
    const round = (ms: number) => Math.round(ms * 10) / 10;
    return {
      started: new Date(this.startedAt).toISOString(),
      dropped: this.#dropped,
      entries: this.entries().map((e) => ({
        ...e,
        sql: redactSecrets(e.sql),
        ...(e.error !== undefined ? { error: redactSecrets(e.error) } : {}),
        startMs: round(e.startMs),
        ...(e.endMs !== undefined ? { endMs: round(e.endMs) } : {}),
      })),
    };
  }
}

/** A short, one-line summary of a timeline for JUnit's system-out. */
export function summarizeTimeline(t: TimelineRecord, limit = 200): string {
  const lines = [`timeline (${t.entries.length} statements${t.dropped ? `, ${t.dropped} not kept` : ''}):`];
  const shown = t.entries.length > limit ? t.entries.slice(-limit) : t.entries;
  if (shown.length < t.entries.length) lines.push(`  ... ${t.entries.length - shown.length} earlier`);
  for (const e of shown) {
    const end = e.endMs === undefined ? 'running' : `${(e.endMs - e.startMs).toFixed(1)} ms`;
    const what =
      e.error !== undefined
        ? ` ERROR ${e.errno ?? ''} ${e.errorClass ?? ''}`.replace(/\s+/g, ' ').trimEnd()
        : e.endMs === undefined
          ? ''
          : ` rows=${e.rows ?? 0} affected=${e.affected ?? 0}`;
    const sql = e.sql.replace(/\s+/g, ' ').slice(0, 200);
    lines.push(`  +${(e.startMs / 1000).toFixed(3)}s [${e.conn}#${e.threadId}] ${sql} (${end})${what}`);
  }
  return lines.join('\n');
}
