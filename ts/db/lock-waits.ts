// Who waits for whom on the server, by server thread id: each server kind
// exposes lock waits in its own tables, read here into one shape. The readers
// of rows are pure (tested with canned rows for servers the tests lack).
import type { Connection } from './connection.js';
import type { ServerKind } from './server.js';

type Row = Record<string, unknown>;

/** One server thread (connection) as the processlist and the transaction tables show it. */
export interface ThreadState {
  threadId: number;
  command: string;
  state: string;
  /** Seconds in the current command (idle time when sleeping). */
  seconds: number;
  /** The statement it is running, if any. */
  info: string | null;
  /** Its open transaction, if any. */
  trx?: { id: string; state: string; started: string | null };
}

/** `waiter` waits for a lock `blocker` holds. */
export interface LockWait {
  waiter: number;
  blocker: number;
  kind: 'row' | 'metadata';
  /** The lock or object waited for (`test.t`, an index record), when known. */
  lock?: string;
  /** The holder is guessed (no table names metadata lock holders on this server). */
  inferred?: boolean;
}

export interface ServerState {
  threads: ThreadState[];
  waits: LockWait[];
  /** Queries that failed or timed out (missing privilege, table, plugin). */
  notes: string[];
}

const num = (v: unknown): number => (typeof v === 'number' ? v : Number(v ?? 0));
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
/** A row's value by column name, whatever case the server spells it in. */
function col(row: Row, name: string): unknown {
  if (name in row) return row[name];
  const lower = name.toLowerCase();
  for (const k of Object.keys(row)) if (k.toLowerCase() === lower) return row[k];
  return undefined;
}

/** Rows of information_schema.PROCESSLIST. */
export function threadsFrom(processlist: Row[], trx: Row[] = []): ThreadState[] {
  const byThread = new Map<number, Row>();
  for (const t of trx) byThread.set(num(col(t, 'trx_mysql_thread_id')), t);
  return processlist.map((p) => {
    const id = num(col(p, 'ID'));
    const t = byThread.get(id);
    return {
      threadId: id,
      command: String(col(p, 'COMMAND') ?? ''),
      state: String(col(p, 'STATE') ?? ''),
      seconds: col(p, 'TIME_MS') !== undefined ? num(col(p, 'TIME_MS')) / 1000 : num(col(p, 'TIME')),
      info: str(col(p, 'INFO')),
      ...(t
        ? {
            trx: {
              id: String(col(t, 'trx_id')),
              state: String(col(t, 'trx_state') ?? ''),
              started: str(col(t, 'trx_started')),
            },
          }
        : {}),
    };
  });
}

/**
 * MariaDB and MySQL 5.7: information_schema.INNODB_LOCK_WAITS joined to INNODB_TRX
 * by transaction id, and to INNODB_LOCKS for the lock's table, index and key.
 */
export function innodbWaits(trx: Row[], waits: Row[], locks: Row[] = []): LockWait[] {
  const thread = new Map<string, number>();
  for (const t of trx) thread.set(String(col(t, 'trx_id')), num(col(t, 'trx_mysql_thread_id')));
  const lockName = new Map<string, string>();
  for (const l of locks) {
    const index = str(col(l, 'lock_index'));
    const data = str(col(l, 'lock_data'));
    lockName.set(
      String(col(l, 'lock_id')),
      `${String(col(l, 'lock_table'))}${index ? ` index ${index}` : ''}${data ? ` key (${data})` : ''}`,
    );
  }
  const out: LockWait[] = [];
  for (const w of waits) {
    const waiter = thread.get(String(col(w, 'requesting_trx_id')));
    const blocker = thread.get(String(col(w, 'blocking_trx_id')));
    if (waiter === undefined || blocker === undefined) continue;
    const id = String(col(w, 'blocking_lock_id') ?? '');
    out.push({ waiter, blocker, kind: 'row', lock: lockName.get(id) ?? (id || undefined) });
  }
  return out;
}

/**
 * MySQL 8: performance_schema.data_lock_waits, with each side's processlist id
 * (the query joins performance_schema.threads; see MYSQL8_ROW_WAITS).
 */
export function performanceSchemaWaits(rows: Row[]): LockWait[] {
  return rows.map((r) => {
    const table = [col(r, 'OBJECT_SCHEMA'), col(r, 'OBJECT_NAME')].filter((x) => x).join('.');
    const index = col(r, 'INDEX_NAME');
    return {
      waiter: num(col(r, 'waiter')),
      blocker: num(col(r, 'blocker')),
      kind: 'row' as const,
      lock: `${table}${index ? ` index ${String(index)}` : ''}` || undefined,
    };
  });
}

/**
 * Metadata locks from a table listing each lock with its owner's processlist id
 * and whether it is granted (MySQL 8 performance_schema.metadata_locks): a
 * PENDING lock waits for every GRANTED lock on the same object by another thread.
 */
export function metadataLockWaits(rows: Row[]): LockWait[] {
  const key = (r: Row) => `${String(col(r, 'OBJECT_SCHEMA'))}.${String(col(r, 'OBJECT_NAME'))}`;
  const granted = rows.filter((r) => String(col(r, 'LOCK_STATUS')) === 'GRANTED');
  const out: LockWait[] = [];
  for (const p of rows.filter((r) => String(col(r, 'LOCK_STATUS')) === 'PENDING')) {
    const waiter = num(col(p, 'thread'));
    for (const g of granted) {
      const blocker = num(col(g, 'thread'));
      if (
        blocker !== waiter &&
        key(g) === key(p) &&
        !out.some((w) => w.waiter === waiter && w.blocker === blocker)
      )
        out.push({ waiter, blocker, kind: 'metadata', lock: key(p) });
    }
  }
  return out;
}

/** MariaDB's metadata_lock_info plugin lists granted locks only: the waiters are in the processlist. */
export function metadataLockInfoWaits(threads: ThreadState[], held: Row[]): LockWait[] {
  const out: LockWait[] = [];
  for (const t of threads.filter(waitsForMetadata)) {
    for (const h of held) {
      const blocker = num(col(h, 'THREAD_ID'));
      const name = String(col(h, 'TABLE_NAME') ?? '');
      if (blocker === t.threadId || !name || !mentions(t.info, name)) continue;
      if (!out.some((w) => w.waiter === t.threadId && w.blocker === blocker))
        out.push({
          waiter: t.threadId,
          blocker,
          kind: 'metadata',
          lock: `${String(col(h, 'TABLE_SCHEMA'))}.${name}`,
        });
    }
  }
  return out;
}

/** What the rig knows of a case's threads from its own timeline. */
export interface CaseThreads {
  /** Whether the thread ran a statement naming the table. */
  touched(threadId: number, table: string): boolean;
  /** Whether the thread began a transaction it has not ended. */
  inTransaction(threadId: number): boolean;
}

/**
 * Without a table of metadata lock holders (MariaDB without the plugin): a
 * thread waiting for a metadata lock is held up by the other threads of the case
 * in an open transaction (their transactions hold the table's metadata lock until
 * they end; a read-only one may be missing from INNODB_TRX, so the case's own
 * record counts too); those whose statements touched the table come first.
 */
export function inferMetadataWaits(threads: ThreadState[], known?: CaseThreads): LockWait[] {
  const out: LockWait[] = [];
  for (const t of threads.filter(waitsForMetadata)) {
    const table = tableOf(t.info);
    const holders = threads.filter(
      (o) => o.threadId !== t.threadId && (o.trx || known?.inTransaction(o.threadId)) && !waitsForMetadata(o),
    );
    const likely = table && known ? holders.filter((o) => known.touched(o.threadId, table)) : [];
    for (const h of likely.length ? likely : holders)
      out.push({ waiter: t.threadId, blocker: h.threadId, kind: 'metadata', lock: table, inferred: true });
  }
  return out;
}

/**
 * TiDB: information_schema.DATA_LOCK_WAITS (pessimistic lock waits) names the
 * transactions; TIDB_TRX (CLUSTER_TIDB_TRX) maps them to session ids.
 */
export function tidbWaits(waits: Row[], trx: Row[]): LockWait[] {
  const session = new Map<string, number>();
  for (const t of trx) session.set(String(col(t, 'ID')), num(col(t, 'SESSION_ID')));
  const out: LockWait[] = [];
  for (const w of waits) {
    const waiter = session.get(String(col(w, 'TRX_ID')));
    const blocker = session.get(String(col(w, 'CURRENT_HOLDING_TRX_ID')));
    if (waiter === undefined || blocker === undefined) continue;
    out.push({
      waiter,
      blocker,
      kind: 'row',
      lock: str(col(w, 'KEY_INFO')) ?? str(col(w, 'KEY')) ?? undefined,
    });
  }
  return out;
}

function waitsForMetadata(t: ThreadState): boolean {
  return /metadata lock/i.test(t.state);
}

/** The first table a DDL or DML statement names (`DROP TABLE r` → `r`). */
export function tableOf(sql: string | null): string | undefined {
  if (!sql) return undefined;
  const m =
    /\b(?:TABLE|INTO|FROM|UPDATE|JOIN)\s+(?:IF\s+(?:NOT\s+)?EXISTS\s+)?((?:`[^`]+`|\w+)(?:\.(?:`[^`]+`|\w+))?)/i.exec(
      sql,
    );
  if (!m) return undefined;
  const parts = m[1].split('.').map((p) => p.replace(/^`|`$/g, ''));
  return parts[parts.length - 1];
}

/** Whether `sql` names the table `name` as a word. */
export function mentions(sql: string | null | undefined, name: string): boolean {
  if (!sql) return false;
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^\\w$])\`?${escaped}\`?($|[^\\w$])`, 'i').test(sql);
}

const MYSQL8_ROW_WAITS = `SELECT r.PROCESSLIST_ID AS waiter, b.PROCESSLIST_ID AS blocker, l.OBJECT_SCHEMA, l.OBJECT_NAME, l.INDEX_NAME
  FROM performance_schema.data_lock_waits w
  JOIN performance_schema.threads r ON r.THREAD_ID = w.REQUESTING_THREAD_ID
  JOIN performance_schema.threads b ON b.THREAD_ID = w.BLOCKING_THREAD_ID
  JOIN performance_schema.data_locks l ON l.ENGINE_LOCK_ID = w.REQUESTING_ENGINE_LOCK_ID`;
const MYSQL8_MDL = `SELECT t.PROCESSLIST_ID AS thread, m.OBJECT_SCHEMA, m.OBJECT_NAME, m.LOCK_STATUS
  FROM performance_schema.metadata_locks m JOIN performance_schema.threads t ON t.THREAD_ID = m.OWNER_THREAD_ID
  WHERE m.OBJECT_TYPE = 'TABLE'`;

/**
 * Reads the server's view of `threadIds` and the lock waits among all threads
 * (a case's connection may wait for one outside it). Each query gets
 * `perQueryMs`; one that fails or is too slow leaves a note and is skipped.
 */
export async function readServerState(
  conn: Connection,
  kind: ServerKind,
  threadIds: number[],
  perQueryMs: number,
  known?: CaseThreads,
): Promise<ServerState> {
  const notes: string[] = [];
  const rows = async (sql: string, what: string): Promise<Row[]> => {
    const signal = AbortSignal.timeout(perQueryMs);
    try {
      return (await conn.query(sql, undefined, { signal })).rows as Row[];
    } catch (err) {
      notes.push(`${what}: ${(err as Error).message.replace(/^\[[^\]]*\]\s*/, '')}`);
      return [];
    }
  };
  const ids = threadIds.length ? threadIds.map((n) => Math.trunc(n)).join(', ') : '0';
  if (kind === 'tidb') {
    const list = await rows(
      `SELECT ID, COMMAND, TIME, STATE, INFO FROM information_schema.PROCESSLIST WHERE ID IN (${ids})`,
      'processlist',
    );
    const trx = await rows(
      'SELECT ID, SESSION_ID, STATE, START_TIME FROM information_schema.TIDB_TRX',
      'TIDB_TRX',
    );
    const waits = await rows('SELECT * FROM information_schema.DATA_LOCK_WAITS', 'DATA_LOCK_WAITS');
    const threads = threadsFrom(list).map((t) => {
      const x = trx.find((r) => num(col(r, 'SESSION_ID')) === t.threadId);
      return x
        ? {
            ...t,
            trx: {
              id: String(col(x, 'ID')),
              state: String(col(x, 'STATE')),
              started: str(col(x, 'START_TIME')),
            },
          }
        : t;
    });
    return { threads, waits: tidbWaits(waits, trx), notes };
  }
  const list = await rows(`SELECT * FROM information_schema.PROCESSLIST WHERE ID IN (${ids})`, 'processlist');
  const trx = await rows(
    'SELECT trx_id, trx_state, trx_started, trx_mysql_thread_id, trx_query FROM information_schema.INNODB_TRX',
    'INNODB_TRX',
  );
  const threads = threadsFrom(list, trx);
  const waits: LockWait[] = [];
  if (kind === 'mysql') {
    waits.push(...performanceSchemaWaits(await rows(MYSQL8_ROW_WAITS, 'data_lock_waits')));
    waits.push(...metadataLockWaits(await rows(MYSQL8_MDL, 'metadata_locks')));
  } else {
    const lockWaits = await rows('SELECT * FROM information_schema.INNODB_LOCK_WAITS', 'INNODB_LOCK_WAITS');
    const locks = lockWaits.length
      ? await rows(
          'SELECT lock_id, lock_table, lock_index, lock_data FROM information_schema.INNODB_LOCKS',
          'INNODB_LOCKS',
        )
      : [];
    waits.push(...innodbWaits(trx, lockWaits, locks));
    if (threads.some(waitsForMetadata)) {
      const plugin = await rows(
        "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'information_schema' AND TABLE_NAME = 'METADATA_LOCK_INFO'",
        'metadata_lock_info',
      );
      if (plugin.length) {
        const held = await rows(
          'SELECT THREAD_ID, LOCK_MODE, TABLE_SCHEMA, TABLE_NAME FROM information_schema.METADATA_LOCK_INFO',
          'METADATA_LOCK_INFO',
        );
        waits.push(...metadataLockInfoWaits(threads, held));
      } else waits.push(...inferMetadataWaits(threads, known));
    }
  }
  return { threads, waits, notes };
}
