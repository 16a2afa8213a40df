// The server's own record of the latest deadlock, with each transaction mapped
// to a case's connection: InnoDB's "LATEST DETECTED DEADLOCK" (MySQL, MariaDB)
// or TiDB's information_schema.DEADLOCKS.
import type { Connection } from './connection.js';
import type { ServerKind } from './server.js';
import type { TimelineEntry } from './timeline.js';
import { redactSecrets } from '../log/redact.js';

export interface DeadlockTransaction {
  /** The case's connection name, when the thread (or statement) is the case's. */
  conn?: string;
  threadId?: number;
  sql?: string;
  /** The lock it waited for, and the locks it held, as the server words them. */
  waitsFor?: string;
  holds?: string;
  /** The other transaction's lock it conflicts with (MariaDB's record). */
  conflictsWith?: string;
  /** Rolled back by the server to break the deadlock. */
  victim: boolean;
}

export interface Deadlock {
  source: 'innodb' | 'tidb';
  time?: string;
  transactions: DeadlockTransaction[];
}

/** Whether a statement failed with a deadlock (1213) or a TiDB write conflict (9007). */
export function isDeadlock(e: Pick<TimelineEntry, 'errno' | 'errorClass'>): boolean {
  return e.errno === 1213 || e.errno === 9007 || e.errorClass === 'deadlock';
}

/** The "LATEST DETECTED DEADLOCK" section of SHOW ENGINE INNODB STATUS; undefined when there is none. */
export function parseInnodbDeadlock(status: string): Deadlock | undefined {
  const start = status.indexOf('LATEST DETECTED DEADLOCK');
  if (start < 0) return undefined;
  const rest = status.slice(start).split('\n').slice(2); // the title and its dashes
  const endAt = rest.findIndex((l, i) => i > 0 && /^-{4,}$/.test(l) && /^[A-Z ]+$/.test(rest[i + 1] ?? ''));
  const body = (endAt > 0 ? rest.slice(0, endAt) : rest).join('\n');
  const time = /^\d{4}-\d\d-\d\d[ T][\d:]+/m.exec(body)?.[0];
  const victim = /WE ROLL BACK TRANSACTION \((\d+)\)/.exec(body)?.[1];
  const parts = body.split(/^\*\*\* \((\d+)\) /m);
  const byNumber = new Map<string, DeadlockTransaction>();
  for (let i = 1; i < parts.length; i += 2) {
    const n = parts[i];
    const text = parts[i + 1];
    const tx = byNumber.get(n) ?? { victim: n === victim };
    byNumber.set(n, tx);
    if (text.startsWith('TRANSACTION:')) {
      const lines = text.split('\n');
      const at = lines.findIndex((l) => /(MySQL|MariaDB) thread id \d+/.test(l));
      if (at >= 0) {
        tx.threadId = Number(/thread id (\d+)/.exec(lines[at])![1]);
        const sql = [];
        for (const l of lines.slice(at + 1)) {
          if (l.startsWith('***') || l === '') break;
          sql.push(l);
        }
        if (sql.length) tx.sql = redactSecrets(sql.join('\n'));
      }
    }
    // MariaDB puts the locks inside the transaction's part; MySQL 8 numbers them as parts of their own
    tx.waitsFor ??= lockAfter(text, /^(?:\*\*\* )?WAITING FOR THIS LOCK TO BE GRANTED:$/m);
    tx.holds ??= lockAfter(text, /^(?:\*\*\* )?HOLDS THE LOCK\(S\):$/m);
    tx.conflictsWith ??= lockAfter(text, /^(?:\*\*\* )?CONFLICTING WITH:$/m);
  }
  const transactions = [...byNumber.values()];
  return transactions.length ? { source: 'innodb', time, transactions } : undefined;
}

/** The lock line under a heading, without its page coordinates: "index PRIMARY of table `d`.`t` lock_mode X ...". */
function lockAfter(text: string, heading: RegExp): string | undefined {
  const m = heading.exec(text);
  if (!m) return undefined;
  const line = text
    .slice(m.index + m[0].length)
    .split('\n')[1]
    ?.trim();
  if (!line) return undefined;
  return line
    .replace(/^RECORD LOCKS space id \d+ page no \d+ n bits \d+ /, '')
    .replace(/ trx id \d+/, '')
    .replace(/^TABLE LOCK /, 'table lock ');
}

/** A statement with its literals replaced by `?`, lower case, spaces collapsed (as TiDB's digest texts read). */
export function normalizeSql(sql: string): string {
  return sql
    .replace(/'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.)*"/g, '?')
    .replace(/\b\d+(\.\d+)?\b/g, '?')
    .replace(/`/g, '')
    .replace(/\s+/g, ' ')
    .replace(/\s*([=(),<>])\s*/g, '$1')
    .trim()
    .toLowerCase();
}

/** Rows of TiDB's information_schema.DEADLOCKS of its latest deadlock (one row per wait in the cycle). */
export function tidbDeadlock(rows: Record<string, unknown>[]): Deadlock | undefined {
  if (rows.length === 0) return undefined;
  const id = (r: Record<string, unknown>) => String(r.DEADLOCK_ID);
  const latest = rows.reduce((a, b) => (Number(id(b)) > Number(id(a)) ? b : a));
  const cycle = rows.filter((r) => id(r) === id(latest));
  return {
    source: 'tidb',
    time: latest.OCCUR_TIME === undefined ? undefined : String(latest.OCCUR_TIME),
    transactions: cycle.map((r, i) => ({
      sql: r.CURRENT_SQL_DIGEST_TEXT === null ? undefined : String(r.CURRENT_SQL_DIGEST_TEXT ?? ''),
      waitsFor: String(r.KEY_INFO ?? r.KEY ?? ''),
      holds:
        r.TRX_HOLDING_LOCK === undefined ? undefined : `held by transaction ${String(r.TRX_HOLDING_LOCK)}`,
      // TiDB rolls back the transaction whose lock request closed the cycle: the first row's
      victim: i === 0,
    })),
  };
}

/** Names each transaction by the case's connections: by thread id, else by its statement. */
export function nameDeadlock(d: Deadlock, entries: TimelineEntry[]): Deadlock {
  const byThread = new Map<number, string>();
  for (const e of entries) byThread.set(e.threadId, e.conn);
  for (const tx of d.transactions) {
    if (tx.threadId !== undefined) tx.conn = byThread.get(tx.threadId);
    if (tx.conn === undefined && tx.sql) {
      const want = normalizeSql(tx.sql);
      tx.conn = [...entries].reverse().find((e) => normalizeSql(e.sql) === want)?.conn;
    }
  }
  return d;
}

/** Reads the server's latest deadlock; undefined when it has none or cannot tell (`note` says why). */
export async function readDeadlock(
  conn: Connection,
  kind: ServerKind,
  entries: TimelineEntry[],
  note: (text: string) => void,
): Promise<Deadlock | undefined> {
  const signal = AbortSignal.timeout(2000);
  try {
    if (kind === 'tidb') {
      const { rows } = await conn.query('SELECT * FROM information_schema.DEADLOCKS', undefined, { signal });
      const d = tidbDeadlock(rows as Record<string, unknown>[]);
      return d && nameDeadlock(d, entries);
    }
    const { rows } = await conn.query('SHOW ENGINE INNODB STATUS', undefined, { signal });
    const status = String((rows as Record<string, unknown>[])[0]?.Status ?? '');
    const d = parseInnodbDeadlock(status);
    return d && nameDeadlock(d, entries);
  } catch (err) {
    note(`deadlock record: ${(err as Error).message.replace(/^\[[^\]]*\]\s*/, '')}`);
    return undefined;
  }
}

/** The deadlock as text lines (terminal, JUnit). */
export function formatDeadlock(d: Deadlock): string[] {
  const lines = [
    `deadlock (${d.source === 'tidb' ? 'information_schema.DEADLOCKS' : 'LATEST DETECTED DEADLOCK'}${d.time ? ` at ${d.time}` : ''}):`,
  ];
  for (const tx of d.transactions) {
    const who = tx.conn
      ? `conn \`${tx.conn}\``
      : tx.threadId !== undefined
        ? `thread ${tx.threadId}`
        : 'a transaction';
    lines.push(
      `  ${who}${tx.sql ? ` \`${tx.sql.replace(/\s+/g, ' ').slice(0, 160)}\`` : ''}${tx.victim ? ' (victim: rolled back)' : ''}`,
    );
    if (tx.waitsFor) lines.push(`    waits for ${tx.waitsFor}`);
    if (tx.holds) lines.push(`    holds ${tx.holds}`);
    if (tx.conflictsWith) lines.push(`    conflicting with ${tx.conflictsWith}`);
  }
  return lines;
}
