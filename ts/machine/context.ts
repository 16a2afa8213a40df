// The context every handler of one machine run shares: connection parameters,
// the open connection(s), what was learned about the server, and free-form data.
import { inspect } from 'node:util';
import type { Connection, SslOptions } from '../db/connection.js';
import type { ServerInfo } from '../db/server.js';
import type { Timeline } from '../db/timeline.js';
import type { RetryPolicy, CircuitBreaker } from '../db/retry.js';
import { formatHostPort } from '../db/address.js';
import { crosses, type SharedStore } from './data-share.js';

/** How the built-in Connecting handler opens connections. */
export interface ConnectionOptions {
  ssl?: SslOptions;
  connectTimeoutMs?: number;
  localInfile?: boolean;
  retry?: RetryPolicy;
  breaker?: CircuitBreaker;
  /** Receives each statement as `[<name>] <sql>` (for --show-sql). */
  echo?: (line: string) => void;
  /** Set on every connection opened with these options (e.g. lock wait timeouts). */
  sessionVariables?: Readonly<Record<string, number>>;
  /** Records every statement of every connection opened with these options. */
  timeline?: Timeline;
}

export interface StateContextOptions {
  /** Raw `host:port` (as -H takes it); ParsingConfig parses it into host and port. */
  address?: string;
  host?: string;
  port?: number;
  username?: string;
  password?: string;
  database?: string;
  /** Name of the connection the Connecting handler opens (default 'main'). */
  connectionName?: string;
  params?: Record<string, unknown>;
  connectionOptions?: ConnectionOptions;
  signal?: AbortSignal;
}

/**
 * A string-keyed map whose getter is typed by the caller. When Python handlers share the
 * context, the values that cross (see `crosses`) live in Python's `context.custom_data` and
 * `get` returns a copy: `set` a changed value again for the other side to see it.
 */
export class TypedDataMap {
  readonly #data = new Map<string, unknown>();
  #shared: SharedStore | undefined;
  #keep: ReadonlySet<string> = new Set();

  get<T>(key: string): T | undefined {
    // (a kept key never asks the store: ContextMirror.sync reads one before every Python call)
    if (this.#shared === undefined || this.#data.has(key) || this.#keep.has(key))
      return this.#data.get(key) as T | undefined;
    const found = this.#shared.get(key);
    return (found.found ? found.value : undefined) as T | undefined;
  }
  set<T>(key: string, value: T): this {
    if (this.#shared !== undefined && !this.#keep.has(key) && crosses(value)) {
      this.#data.delete(key);
      this.#shared.set(key, value);
    } else {
      this.#data.set(key, value);
      this.#shared?.delete(key);
    }
    return this;
  }
  has(key: string): boolean {
    if (this.#data.has(key) || this.#keep.has(key)) return this.#data.has(key);
    return this.#shared !== undefined && this.#shared.get(key).found;
  }
  delete(key: string): boolean {
    const local = this.#data.delete(key);
    const shared = this.#shared?.delete(key) ?? false;
    return local || shared;
  }
  keys(): string[] {
    if (this.#shared === undefined) return [...this.#data.keys()];
    return [...new Set([...this.#data.keys(), ...this.#shared.keys()])];
  }

  /**
   * Makes `store` the home of the values that cross (moving those already here), except under
   * the `keep` keys, which stay TypeScript's (a value whose identity matters).
   */
  share(store: SharedStore, keep: ReadonlySet<string> = new Set()): void {
    this.#keep = keep; // (live: a key registered later is kept too)
    this.#shared = store;
    for (const [key, value] of [...this.#data]) {
      if (!this.#keep.has(key) && crosses(value)) {
        this.#data.delete(key);
        store.set(key, value);
      }
    }
  }

  /** Ends sharing: the store's values are copied back here, so the map stays readable after the run. */
  unshare(): void {
    const store = this.#shared;
    if (store === undefined) return;
    for (const key of store.keys()) {
      const found = store.get(key);
      if (found.found && !this.#data.has(key)) this.#data.set(key, found.value);
    }
    this.#shared = undefined;
  }
}

/** Per-state scratch data: what a handler keeps between its enter, execute and exit. */
export class HandlerDataMap {
  readonly #data = new Map<string, unknown>();

  get<T>(state: string): T | undefined {
    return this.#data.get(state) as T | undefined;
  }
  set<T>(state: string, value: T): void {
    this.#data.set(state, value);
  }
  remove<T>(state: string): T | undefined {
    const value = this.#data.get(state) as T | undefined;
    this.#data.delete(state);
    return value;
  }
  has(state: string): boolean {
    return this.#data.has(state);
  }
}

export class StateContext {
  address?: string;
  host: string;
  port: number;
  username: string;
  password: string;
  database?: string;
  connectionName: string;
  /** The main connection, opened by the Connecting handler. */
  connection?: Connection;
  /** Every connection opened for this run, by name (the main one included). */
  readonly connections = new Map<string, Connection>();
  server?: ServerInfo;
  /** Raw `SELECT VERSION()` result. */
  serverVersion?: string;
  errorMessage?: string;
  /** The state the machine is in (set by the machine on each state entry). */
  state?: string;
  /** Test case parameters. */
  params: Record<string, unknown>;
  readonly customData = new TypedDataMap();
  readonly handlerData = new HandlerDataMap();
  connectionOptions: ConnectionOptions;
  /** Aborted when the run is cancelled or times out; pass it on to long waits. */
  signal?: AbortSignal;
  /**
   * When the handler call in progress must be done, as a `performance.now()` time: the
   * earliest of the run's own (set by `test-rig run` from `--timeout`) and the machine's
   * `stateTimeoutMs`/`runTimeoutMs`. Inline Python handlers still running then are
   * interrupted; undefined when there is none.
   */
  deadline?: number;

  constructor(options: StateContextOptions = {}) {
    this.address = options.address;
    this.host = options.host ?? '';
    this.port = options.port ?? 0;
    this.username = options.username ?? 'root';
    this.password = options.password ?? '';
    this.database = options.database;
    this.connectionName = options.connectionName ?? 'main';
    this.params = options.params ?? {};
    this.connectionOptions = options.connectionOptions ?? {};
    this.signal = options.signal;
  }

  /** Closes every connection of this context; errors are ignored because this is cleanup. */
  async closeConnections(): Promise<void> {
    const all = new Set(this.connections.values());
    if (this.connection) all.add(this.connection);
    await Promise.all([...all].map((c) => c.close().catch(() => c.destroy())));
    this.connections.clear();
    this.connection = undefined;
  }

  /** A plain, password-free view for logs and reporters. */
  toJSON(): Record<string, unknown> {
    return {
      host: this.host,
      port: this.port,
      username: this.username,
      password: this.password ? '***' : '',
      database: this.database,
      connectionName: this.connectionName,
      connections: [...this.connections.keys()],
      server: this.server,
      serverVersion: this.serverVersion,
      errorMessage: this.errorMessage,
      params: this.params,
      customData: this.customData.keys(),
    };
  }

  toString(): string {
    return `StateContext(${this.username}@${formatHostPort(this.host, this.port)}${this.database ? '/' + this.database : ''})`;
  }

  [inspect.custom](): string {
    return `StateContext ${inspect(this.toJSON())}`;
  }
}
