// A case's post-mortem, taken when it times out or is interrupted and before
// its connections are torn down: where each Python thread of the case is, what
// each of its connections is doing on the server, and who waits for whom, by
// the case's connection names.
import type { Connection } from '../db/connection.js';
import { mentions, readServerState, type LockWait, type ThreadState } from '../db/lock-waits.js';
import type { ServerKind } from '../db/server.js';
import type { Timeline, TimelineEntry } from '../db/timeline.js';
import { redactSecrets } from '../log/redact.js';
import type { ThreadAt } from '../python/lane.js';

/** One connection of the case at the post-mortem. */
export interface ConnectionState {
  name: string;
  threadId: number;
  /** The server's COMMAND (Query, Sleep, ...), STATE and seconds in it; absent if the server did not list it. */
  command?: string;
  state?: string;
  seconds?: number;
  /** The statement it runs (the server's, else the timeline's). */
  statement?: string;
  /** Its open transaction (the server's record, else the timeline's BEGIN). */
  transaction?: { state: string; started?: string; since?: string };
}

/** A lock wait between two threads, by the case's connection names (`thread N` outside the case). */
export interface NamedWait {
  waiter: string;
  blocker: string;
  kind: LockWait['kind'];
  lock?: string;
  inferred?: boolean;
}

export interface PostMortem {
  /** Why it was taken: 'timeout' or 'interrupted'. */
  reason: 'timeout' | 'interrupted';
  /** Timeline time (ms) when it was taken. */
  atMs: number;
  python: ThreadAt[];
  connections: ConnectionState[];
  waits: NamedWait[];
  /** The story, one sentence per lock wait (or per connection when none waits). */
  explanation: string[];
  /** What could not be read, and why. */
  notes: string[];
}

export interface PostMortemInput {
  reason: PostMortem['reason'];
  timeline: Timeline;
  /** The case's connections by name. */
  connections: ReadonlyMap<string, Connection>;
  kind: ServerKind;
  /** Where the Python threads are (read first: the JS thread is free now). */
  python: () => ThreadAt[];
  /** Opens a connection for reading the server's tables (closed afterwards). */
  open: () => Promise<Connection>;
  perQueryMs?: number;
  totalMs?: number;
}

const BEGIN = /^\s*(BEGIN|START\s+TRANSACTION|SET\s+autocommit\s*=\s*0)\b/i;
const END = /^\s*(COMMIT|ROLLBACK|SET\s+autocommit\s*=\s*1)\b/i;

/** The statement that opened the connection's transaction still open at the end of `entries`, if any. */
export function openTransaction(entries: TimelineEntry[], conn: string): TimelineEntry | undefined {
  let open: TimelineEntry | undefined;
  for (const e of entries) {
    if (e.conn !== conn || e.error !== undefined) continue;
    if (BEGIN.test(e.sql)) open = e;
    else if (END.test(e.sql)) open = undefined;
  }
  return open;
}

/** Takes the post-mortem; never throws, and gives up on the server after `totalMs`. */
export async function takePostMortem(input: PostMortemInput): Promise<PostMortem> {
  const { timeline } = input;
  const pm: PostMortem = {
    reason: input.reason,
    atMs: timeline.now(),
    python: [],
    connections: [],
    waits: [],
    explanation: [],
    notes: [],
  };
  try {
    pm.python = input.python();
  } catch (err) {
    pm.notes.push(`python threads: ${(err as Error).message}`);
  }
  const entries = timeline.entries();
  const names = new Map<number, string>();
  for (const [name, conn] of input.connections) names.set(conn.threadId, name);
  for (const e of entries) if (!names.has(e.threadId)) names.set(e.threadId, e.conn);
  const running = timeline.running();
  pm.connections = [...input.connections].map(([name, conn]) => {
    const open = openTransaction(entries, name);
    return {
      name,
      threadId: conn.threadId,
      statement: running.get(name)?.sql,
      ...(open || conn.inTransaction
        ? {
            transaction: { state: 'open', since: open ? `+${(open.startMs / 1000).toFixed(1)}s` : undefined },
          }
        : {}),
    };
  });
  const byThread = new Map(pm.connections.map((c) => [c.threadId, c]));
  const nameOf = (id: number) => names.get(id) ?? `thread ${id}`;

  let inspector: Connection | undefined;
  const totalMs = input.totalMs ?? 3000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const server = (async () => {
    inspector = await input.open();
    return readServerState(inspector, input.kind, [...byThread.keys()], input.perQueryMs ?? 2000, {
      touched: (id, table) => entries.some((e) => e.threadId === id && mentions(e.sql, table)),
      inTransaction: (id) => {
        const c = byThread.get(id);
        return c !== undefined && c.transaction !== undefined;
      },
    });
  })();
  server.catch(() => undefined);
  try {
    const state = await Promise.race([
      server,
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), totalMs);
      }),
    ]);
    if (!state) pm.notes.push(`the server did not answer within ${totalMs / 1000} s`);
    else {
      pm.notes.push(...state.notes);
      for (const t of state.threads) merge(byThread.get(t.threadId), t);
      pm.waits = state.waits.map((w) => ({
        waiter: nameOf(w.waiter),
        blocker: nameOf(w.blocker),
        kind: w.kind,
        ...(w.lock ? { lock: w.lock } : {}),
        ...(w.inferred ? { inferred: true } : {}),
      }));
      pm.explanation = explain(pm, state.threads, entries);
    }
  } catch (err) {
    pm.notes.push(`server state: ${(err as Error).message}`);
  } finally {
    clearTimeout(timer);
    if (inspector) inspector.destroy();
    else
      void server.then(
        () => inspector?.destroy(),
        () => undefined,
      );
  }
  if (pm.explanation.length === 0)
    pm.explanation = pm.connections.map((c) => `conn \`${c.name}\` ${doing(c)}`);
  return pm;
}

function merge(c: ConnectionState | undefined, t: ThreadState): void {
  if (!c) return;
  c.command = t.command;
  c.state = t.state;
  c.seconds = t.seconds;
  if (t.info) c.statement = redactSecrets(t.info);
  if (t.trx) c.transaction = { ...c.transaction, state: t.trx.state, started: t.trx.started ?? undefined };
}

const short = (sql: string) => {
  const one = redactSecrets(sql).replace(/\s+/g, ' ').trim();
  return one.length > 120 ? `${one.slice(0, 117)}...` : one;
};

/** What a connection is doing, as a phrase: "idle in a transaction for 4.1 s (opened at +0.2s)". */
function doing(c: ConnectionState): string {
  const secs = c.seconds !== undefined ? ` for ${c.seconds.toFixed(1)} s` : '';
  const opened = c.transaction?.since ? ` (opened at ${c.transaction.since})` : '';
  if (c.command === undefined)
    return c.statement ? `runs \`${short(c.statement)}\`` : 'is not listed by the server';
  if (c.command === 'Sleep') return c.transaction ? `idle in a transaction${secs}${opened}` : `idle${secs}`;
  const state = c.state ? ` (${c.state})` : '';
  return `runs \`${short(c.statement ?? '?')}\`${state}${secs}${c.transaction ? `, in a transaction${opened}` : ''}`;
}

function explain(pm: PostMortem, threads: ThreadState[], entries: TimelineEntry[]): string[] {
  const byName = new Map(pm.connections.map((c) => [c.name, c]));
  const out: string[] = [];
  for (const w of pm.waits) {
    const waiter = byName.get(w.waiter);
    const blocker = byName.get(w.blocker);
    const stmt =
      waiter?.statement ?? threads.find((t) => `thread ${t.threadId}` === w.waiter)?.info ?? undefined;
    const what = w.kind === 'metadata' ? 'the metadata lock' : 'a row lock';
    const on = w.lock ? ` on ${w.lock}` : '';
    const held = w.inferred ? 'probably held' : 'held';
    const blockerDoes = blocker ? `, ${doing(blocker)}` : '';
    const last = blocker ? lastStatement(entries, blocker.name) : undefined;
    out.push(
      `conn \`${w.waiter}\`${stmt ? ` \`${short(stmt)}\`` : ''} waits for ${what}${on} ${held} by \`${w.blocker}\`${blockerDoes}${last ? `; its last statement \`${short(last.sql)}\`` : ''}`,
    );
  }
  return out;
}

function lastStatement(entries: TimelineEntry[], conn: string): TimelineEntry | undefined {
  for (let i = entries.length - 1; i >= 0; i--) if (entries[i].conn === conn) return entries[i];
  return undefined;
}

/** The post-mortem as text lines (terminal, JUnit). */
export function formatPostMortem(pm: PostMortem): string[] {
  const lines = [`post-mortem (${pm.reason}):`];
  for (const t of pm.python) {
    const fn = t.function && t.function !== t.method ? `${t.function}() ` : '';
    const where = t.file ? `at ${t.file}:${t.line ?? 0}` : 'outside user code';
    lines.push(`  python ${t.thread}: ${t.method ? `${t.method}() ` : ''}${fn}${where}`);
  }
  for (const e of pm.explanation) lines.push(`  ${e}`);
  if (pm.waits.length > 0)
    for (const c of pm.connections) lines.push(`  conn \`${c.name}\` (thread ${c.threadId}) ${doing(c)}`);
  for (const n of pm.notes) lines.push(`  note: ${n}`);
  return lines;
}
