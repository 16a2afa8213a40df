// The embedded Python runtime, one per process: discovery, the addon, lanes,
// and the requests Python makes of JavaScript (queries, transactions, new
// connections), served from the connections TypeScript owns.
import { setImmediate as nextTurn } from 'node:timers/promises';
import { isMainThread } from 'node:worker_threads';
import type { Connection, QueryResult, ResultSet } from '../db/connection.js';
import { SqlLiteral, type SqlLiteralKind } from '../db/sql-values.js';
import type { StateContext } from '../machine/context.js';
import { ContextMirror } from './context-mirror.js';
import { discoverPython, type PythonInfo } from './discover.js';
import { encodeErrorForPython, toPythonError } from './errors.js';
import { loadNative, pythonPackageDir, type NativeAddon, type PyRef } from './native.js';
import { packResultSets } from './packed-rows.js';

/** Functions of test_rig._bridge / _discovery that JS calls (see exports()). */
interface BridgeFunctions {
  call_handler: PyRef;
  visit: PyRef;
  visit_async: PyRef;
  visit_inline: PyRef;
  visit_inline_async: PyRef;
  run_inline: PyRef;
  resume_inline: PyRef;
  new_inline_task: PyRef;
  start_lane: PyRef;
  wrap_connection: PyRef;
  new_context: PyRef;
  load_handlers: PyRef;
  load_handlers_checked: PyRef;
  instantiate: PyRef;
  describe_handlers: PyRef;
  interrupt_lane: PyRef;
  where_stuck: PyRef;
  threads_where: PyRef;
  set_output: PyRef;
  flush_output: PyRef;
  add_import_path: PyRef;
  reload_files: PyRef;
  carry_over: PyRef;
  shared_get: PyRef;
  shared_set: PyRef;
  shared_delete: PyRef;
  shared_keys: PyRef;
}

/**
 * What Python asks of JavaScript: `[op, ...args]` (python/test_rig/connection.py
 * builds them). Arrays, not objects: they cross the bridge more cheaply.
 */
export type Request =
  | [op: 'query' | 'start', conn: number, sql: string, params: unknown[] | null]
  | [op: 'blocked', id: number, ms: number]
  | [op: 'wait', id: number]
  | [op: 'begin' | 'commit' | 'rollback' | 'close' | 'info', conn: number]
  | [op: 'open', name: string, ctx: number | null, overrides: Record<string, unknown>]
  | [op: 'output', ctx: number, stream: 'stdout' | 'stderr', text: string]
  | [op: 'dropped', ctx: number, lines: number, chars: number]
  // an inline handler's asyncio.sleep: wait until its timer is due (python/test_rig/_inline_loop.py)
  | [op: 'sleep', ms: number];

const AS_ARRAYS = { rowsAsArray: true } as const;

/**
 * Python's parameters as the SQL encoder takes them: _types.encode_param sends
 * what JS has no exact type for (Decimal, date, time, datetime, timedelta) as
 * `{$sql: kind, text}`, which becomes a SqlLiteral; tuples arrive as arrays.
 */
function fromPython(params: unknown[] | null): unknown[] | undefined {
  if (params === null) return undefined;
  return params.map(function literal(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(literal);
    if (typeof v === 'object' && v !== null && !(v instanceof Uint8Array)) {
      const tag = v as { $sql?: unknown; text?: unknown };
      return SqlLiteral.of(tag.$sql as SqlLiteralKind, tag.text as string);
    }
    return v;
  });
}

/**
 * A query result as PyConnection._rows reads it: [packed result sets (packed-rows.ts),
 * affectedRows, insertId, warningCount]; or, when a value has no packed form,
 * [columns, rows, affectedRows, insertId, warningCount, moreResultSets], columns as
 * [key, type] and each further result set (a CALL's) as [columns, rows].
 */
function forPython(r: QueryResult): unknown[] {
  const packed = packResultSets(r.resultSets);
  if (packed) return [packed, r.affectedRows, r.insertId, r.warningCount];
  const columns = (set: ResultSet) => set.columns.map((c) => [c.key, c.type]);
  const more = r.resultSets.slice(1).map((set) => [columns(set), set.rows]);
  return [columns(r), r.rows, r.affectedRows, r.insertId, r.warningCount, more];
}

export class PythonRuntime {
  static #instance: PythonRuntime | undefined;

  /** The process's runtime, started on first use (discovers Python, loads the addon). */
  static get(): PythonRuntime {
    PythonRuntime.#instance ??= new PythonRuntime(discoverPython());
    return PythonRuntime.#instance;
  }

  readonly python: PythonInfo;
  /** Python's sys.version. */
  readonly version: string;
  readonly fn: BridgeFunctions;
  readonly #native: NativeAddon;
  readonly #freeLanes: number[] = [];
  readonly #connections = new Map<number, Connection>();
  readonly #connectionKeys = new WeakMap<Connection, number>();
  readonly #pyConnections = new WeakMap<Connection, PyRef>();
  readonly #mirrors = new WeakMap<StateContext, ContextMirror>();
  readonly #mirrorsByKey = new Map<number, ContextMirror>();
  /** Statements Python started without waiting (PyConnection.start), by id. */
  readonly #started = new Map<
    number,
    Promise<{ ok: true; value: unknown } | { ok: false; error: unknown }>
  >();
  /**
   * The statement PyConnection.start left running on a connection (by connection key),
   * until it settles: the connection takes no other statement meanwhile (mysql2 would
   * queue it behind the first, so a lock test would hang instead of failing at once).
   */
  readonly #running = new Map<number, { id: number; sql: string }>();
  #nextKey = 1;
  #shutDown = false;

  private constructor(python: PythonInfo) {
    // The interpreter is per process and its bridge belongs to one JS thread
    // (peers crash when workers hold Python: node-calls-python#69, pymport#69).
    if (!isMainThread)
      throw new Error("test-rig's Python runtime runs on Node's main thread only, not in a worker");
    this.python = python;
    this.#native = loadNative(python);
    this.version = this.#native.init({
      home: `${python.basePrefix}:${python.baseExecPrefix}`,
      path: [pythonPackageDir, ...python.path],
      executable: python.executable,
      prefix: python.prefix,
      execPrefix: python.execPrefix,
    });
    const bridge = this.#native.importModule('test_rig._bridge');
    this.fn = this.#native.call(bridge, 'exports') as BridgeFunctions;
    this.#native.setJsHandler((id, payload) => {
      this.handle(payload as Request).then(
        (value) => this.#native.resolveJsCall(id, true, value),
        (err: unknown) => this.#native.resolveJsCall(id, false, encodeErrorForPython(err)),
      );
    });
    // Node skips addon cleanup hooks on process.exit(); 'exit' always runs.
    process.once('exit', () => this.shutdown());
  }

  /** Calls `target.method(...args)` (or `target(...args)`) on the JS thread, holding the GIL. */
  call(target: PyRef, method: string | null, args: unknown[] = []): unknown {
    try {
      return this.#native.call(target, method, ...args);
    } catch (err) {
      throw toPythonError(err);
    }
  }

  /**
   * Gives the next `call` until `deadline` (a `performance.now()` time) to return: past it,
   * Python code still running in that call gets an InlineDeadlineError (TimeoutError). The
   * JS thread is held meanwhile, so no JS timer could stop it.
   */
  armDeadline(deadline: number): void {
    this.#native.armInlineDeadline(deadline - performance.now());
  }

  /** Runs `target.method(...args)` on a lane thread; coroutines are awaited there. */
  async submit(lane: number, target: PyRef, method: string | null, args: unknown[] = []): Promise<unknown> {
    try {
      return await this.#native.submit(lane, target, method, args);
    } catch (err) {
      throw toPythonError(err);
    }
  }

  importModule(name: string): PyRef {
    try {
      return this.#native.importModule(name);
    } catch (err) {
      throw toPythonError(err);
    }
  }

  /** Puts a folder at the front of Python's sys.path (once). */
  addImportPath(dir: string): void {
    this.call(this.fn.add_import_path, null, [dir]);
  }

  /** A lane of its own for one machine (a Python thread with an asyncio loop); give it back with releaseLane. */
  acquireLane(): number {
    const free = this.#freeLanes.pop();
    if (free !== undefined) return free;
    const { id, fd } = this.#native.laneCreate();
    this.call(this.fn.start_lane, null, [id, fd]);
    return id;
  }

  releaseLane(lane: number): void {
    this.#freeLanes.push(lane);
  }

  /**
   * Gives up on a lane stuck in a handler (a timeout): its tasks are cancelled
   * and TimeoutError is raised in its thread; the lane is never reused, so a
   * thread that cannot be interrupted (blocked in C) just stays parked.
   */
  abandonLane(lane: number): void {
    this.call(this.fn.interrupt_lane, null, [lane]);
  }

  /** Descriptions of the handler classes in a module or file, without instantiating them. */
  async describeHandlers(moduleOrPath: string): Promise<unknown[]> {
    const lane = this.acquireLane();
    try {
      return (await this.submit(lane, this.fn.describe_handlers, null, [moduleOrPath])) as unknown[];
    } finally {
      this.releaseLane(lane);
    }
  }

  /** The Python PyStateContext mirroring a TypeScript context (fields synced on each call). */
  mirror(ctx: StateContext): ContextMirror {
    let m = this.#mirrors.get(ctx);
    if (!m) {
      const key = this.#nextKey++;
      m = new ContextMirror(this, ctx, key, this.call(this.fn.new_context, null, [key]) as PyRef);
      this.#mirrors.set(ctx, m);
      this.#mirrorsByKey.set(key, m);
    }
    return m;
  }

  /** Drops a finished context: its Python mirror, and the connections Python opened for it are closed. */
  async release(ctx: StateContext): Promise<void> {
    const m = this.#mirrors.get(ctx);
    if (!m) return;
    if (m.output) {
      // the last lines Python holds back from a handler printing faster than JS takes them
      try {
        this.call(this.fn.flush_output, null, [m.ref]);
      } catch {
        /* Python is shutting down: nothing more to show */
      }
      // What an inline handler printed is queued like any request from Python and handled at
      // the event loop's next poll (the JS thread was busy running the handler): one loop
      // turn to reach that poll, one more past it, and the output is in before the sink goes.
      await nextTurn();
      await nextTurn();
    }
    this.#mirrors.delete(ctx);
    this.#mirrorsByKey.delete(m.key);
    ctx.customData.unshare();
    await m.closeOpened();
    for (const conn of ctx.connections.values()) this.forgetConnection(conn);
    if (ctx.connection) this.forgetConnection(ctx.connection);
  }

  /** The Python PyConnection for a TypeScript connection. */
  pyConnection(conn: Connection): PyRef {
    let ref = this.#pyConnections.get(conn);
    if (!ref) {
      const key = this.#nextKey++;
      this.#connections.set(key, conn);
      this.#connectionKeys.set(conn, key);
      ref = this.call(this.fn.wrap_connection, null, [key, conn.name]) as PyRef;
      this.#pyConnections.set(conn, ref);
    }
    return ref;
  }

  forgetConnection(conn: Connection): void {
    const key = this.#connectionKeys.get(conn);
    if (key !== undefined) this.#connections.delete(key);
    this.#connectionKeys.delete(conn);
    this.#pyConnections.delete(conn);
  }

  /** Serves one request Python made (from a lane, a handler's thread, or an inline coroutine). */
  async handle(req: Request): Promise<unknown> {
    switch (req[0]) {
      case 'query':
        this.#checkIdle(req[1], req[2]);
        return forPython(await this.#connection(req[1]).query(req[2], fromPython(req[3]), AS_ARRAYS));
      case 'start': {
        this.#checkIdle(req[1], req[2]);
        const id = this.#nextKey++;
        const key = req[1];
        this.#running.set(key, { id, sql: req[2] });
        const outcome = this.#connection(req[1])
          .query(req[2], fromPython(req[3]), AS_ARRAYS)
          .then(
            (r) => ({ ok: true as const, value: forPython(r) }),
            (error: unknown) => ({ ok: false as const, error }),
          );
        this.#started.set(id, outcome);
        void outcome.then(() => {
          if (this.#running.get(key)?.id === id) this.#running.delete(key);
        });
        return { id };
      }
      case 'blocked': {
        const started = this.#pending(req[1]);
        let timer: NodeJS.Timeout | undefined;
        const finished = await Promise.race([
          started.then(() => true),
          new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), req[2]))),
        ]);
        clearTimeout(timer);
        return finished;
      }
      case 'wait': {
        const outcome = await this.#pending(req[1]);
        this.#started.delete(req[1]);
        if (!outcome.ok) throw outcome.error;
        return outcome.value;
      }
      case 'begin':
        this.#checkIdle(req[1], 'BEGIN');
        return this.#connection(req[1]).beginTransaction();
      case 'commit':
        this.#checkIdle(req[1], 'COMMIT');
        return this.#connection(req[1]).commit();
      case 'rollback':
        this.#checkIdle(req[1], 'ROLLBACK');
        return this.#connection(req[1]).rollback();
      case 'info': {
        const conn = this.#connection(req[1]);
        return { threadId: conn.threadId, name: conn.name };
      }
      case 'close': {
        const conn = this.#connection(req[1]);
        this.forgetConnection(conn);
        return conn.close();
      }
      case 'open': {
        const mirror = req[2] !== null ? this.#mirrorsByKey.get(req[2]) : undefined;
        if (!mirror) throw new Error('no running test-rig context to open a connection from');
        const conn = await mirror.openConnection(req[1], req[3]);
        this.pyConnection(conn);
        return { key: this.#connectionKeys.get(conn) };
      }
      case 'output':
        this.#mirrorsByKey.get(req[1])?.output?.(req[3], req[2]);
        return null;
      case 'sleep':
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.ceil(req[1]))));
        return null;
      case 'dropped':
        this.#mirrorsByKey.get(req[1])?.dropped?.(req[2], req[3]);
        return null;
    }
  }

  #connection(key: number): Connection {
    const conn = this.#connections.get(key);
    if (!conn) throw new Error('this connection is closed');
    return conn;
  }

  #pending(id: number): Promise<{ ok: true; value: unknown } | { ok: false; error: unknown }> {
    const started = this.#started.get(id);
    if (!started) throw new Error(`no statement #${id} is pending`);
    return started;
  }

  /** Refuses a statement on a connection that still runs one PyConnection.start issued. */
  #checkIdle(key: number, sql: string): void {
    const running = this.#running.get(key);
    if (!running) return;
    const err = new Error(
      `[${this.#connection(key).name}] cannot run ${JSON.stringify(sql)}: the connection is still running statement #${running.id} (${JSON.stringify(running.sql)}) issued by start(); wait() for it first, or use another connection (open_connection())`,
    );
    err.name = 'StatementInFlightError';
    throw err;
  }

  /**
   * Sets this process's core-dump size limit to 0 (RLIMIT_CORE, soft limit):
   * a crash must not write the process's memory, password included, to disk.
   * Returns false where that is not possible (no `resource` module).
   */
  disableCoreDumps(): boolean {
    try {
      const resource = this.importModule('resource');
      const core = this.call(resource, '__getattribute__', ['RLIMIT_CORE']);
      const [, hard] = this.call(resource, 'getrlimit', [core]) as [number, number];
      this.call(resource, 'setrlimit', [core, [0, hard]]);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Returns a private copy of file descriptor 1 and points fd 1 at stderr:
   * from then on only the caller writes to the original stdout (`--json -`),
   * whatever else in the process (or its children) writes to fd 1.
   */
  takeStdout(): number {
    const os = this.importModule('os');
    const fd = this.call(os, 'dup', [1]) as number;
    this.call(os, 'dup2', [2, 1]);
    return fd;
  }

  /** Stops the lanes and flushes Python's output. Idempotent; never hangs. */
  shutdown(options: { finalize?: boolean } = {}): void {
    if (this.#shutDown) return;
    this.#shutDown = true;
    this.#native.shutdown(options);
  }
}
