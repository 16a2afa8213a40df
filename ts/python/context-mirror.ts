// Keeps a Python PyStateContext in step with the TypeScript StateContext it
// mirrors. TypeScript owns the fields; before each handler call the few that
// can change are compared and only changes cross into Python.
import { Connection } from '../db/connection.js';
import { parseHostPort } from '../db/address.js';
import type { StateContext } from '../machine/context.js';
import type { PyRef } from './native.js';
import { PythonSharedData, type SharedDataRuntime } from './shared-data.js';

/** What a mirror needs of the runtime that owns it: an interface, so the runtime imports the mirror and not the reverse. */
export interface MirrorRuntime extends SharedDataRuntime {
  call(target: PyRef, method: string | null, args?: unknown[]): unknown;
  readonly fn: SharedDataRuntime['fn'] & { readonly set_output: PyRef };
  pyConnection(conn: Connection): PyRef;
}

/**
 * A field Python sees on its context beyond the built-in ones, read from the TypeScript context.
 * Layers above Python (the import-job monitor) register theirs, so this module knows none of them.
 */
export interface MirroredField {
  /** The current value. Compared by identity: a producer replaces the value to change it, never mutates it. */
  read(ctx: StateContext): unknown;
  /** The value as Python gets it (default: as read; undefined becomes None). */
  toPython?(value: unknown): unknown;
  /** The ctx.customData key it is read from: kept TypeScript's, not shared with Python's custom_data. */
  customDataKey?: string;
}

const mirroredFields = new Map<string, MirroredField>();
/** The ctx.customData keys of the mirrored fields (a live set: a context shares data by it). */
const keptKeys = new Set<string>();

/** Makes `context.<pythonName>` in Python follow `field.read(ctx)`; registering a name again replaces it. */
export function mirrorCustomData(pythonName: string, field: MirroredField): void {
  mirroredFields.set(pythonName, field);
  if (field.customDataKey !== undefined) keptKeys.add(field.customDataKey);
}

interface Snapshot {
  host: string;
  port: number;
  username: string;
  password: string;
  database: string | undefined;
  connection: Connection | undefined;
  connectionCount: number;
  server: unknown;
  params: unknown;
  custom: Map<string, unknown>;
}

export class ContextMirror {
  readonly #runtime: MirrorRuntime;
  readonly #ctx: StateContext;
  readonly #opened: Connection[] = [];
  #snap: Snapshot | undefined;
  #output: ((text: string, stream: 'stdout' | 'stderr') => void) | undefined;

  constructor(
    runtime: MirrorRuntime,
    ctx: StateContext,
    readonly key: number,
    readonly ref: PyRef,
  ) {
    this.#runtime = runtime;
    this.#ctx = ctx;
    // One custom-data store for both languages; a mirrored field's key is TypeScript's own
    // (its identity tells sync() when it changed; Python reads it as a context attribute).
    ctx.customData.share(new PythonSharedData(runtime, ref), keptKeys);
  }

  /** Where this context's Python print output goes (undefined: the process's stdout/stderr). */
  get output(): ((text: string, stream: 'stdout' | 'stderr') => void) | undefined {
    return this.#output;
  }

  set output(sink: ((text: string, stream: 'stdout' | 'stderr') => void) | undefined) {
    this.#output = sink;
    this.#runtime.call(this.#runtime.fn.set_output, null, [this.ref, sink ? this.key : null]);
  }

  /**
   * Told how many lines (and characters) of this context's output Python
   * dropped: printed faster than JS took them, past the first lines.
   */
  dropped: ((lines: number, chars: number) => void) | undefined;

  /** Pushes changed fields into Python; returns the Python context. Cheap when nothing changed. */
  sync(): PyRef {
    const c = this.#ctx;
    const s = this.#snap;
    if (
      s !== undefined &&
      s.connection === c.connection &&
      s.connectionCount === c.connections.size &&
      s.server === c.server &&
      s.database === c.database &&
      s.host === c.host &&
      s.port === c.port &&
      s.username === c.username &&
      s.password === c.password &&
      s.params === c.params &&
      sameCustom(s.custom, c)
    ) {
      return this.ref;
    }
    const fields: Record<string, unknown> = {};
    if (s?.host !== c.host) fields.host = c.host;
    if (s?.port !== c.port) fields.port = c.port;
    if (s?.username !== c.username) fields.username = c.username;
    if (s?.password !== c.password) fields.password = c.password;
    if (s?.database !== c.database) fields.database = c.database ?? null;
    if (s?.params !== c.params) fields.params = c.params;
    if (s?.server !== c.server)
      fields.server = c.server ? { kind: c.server.kind, version: c.server.version, raw: c.server.raw } : null;
    if (s?.connection !== c.connection)
      fields.connection = c.connection ? this.#runtime.pyConnection(c.connection) : null;
    if (s?.connectionCount !== c.connections.size) {
      fields.connections = [...c.connections.values()]
        .filter((conn) => conn !== c.connection)
        .map((conn) => this.#runtime.pyConnection(conn));
    }
    const custom = new Map<string, unknown>();
    for (const [name, field] of mirroredFields) {
      const value = field.read(c);
      custom.set(name, value);
      if (s === undefined || !s.custom.has(name) || s.custom.get(name) !== value)
        fields[name] = (field.toPython ? field.toPython(value) : value) ?? null;
    }
    this.#runtime.call(this.ref, '_mirror', [fields]);
    this.#snap = {
      host: c.host,
      port: c.port,
      username: c.username,
      password: c.password,
      database: c.database,
      connection: c.connection,
      connectionCount: c.connections.size,
      server: c.server,
      params: c.params,
      custom,
    };
    return this.ref;
  }

  /** A new connection for Python (context.open_connection, RealPyConnection): the context's server and database unless overridden. */
  async openConnection(name: string, overrides: Record<string, unknown>): Promise<Connection> {
    const c = this.#ctx;
    let host = c.host;
    let port = c.port;
    if (typeof overrides.host === 'string' && overrides.host !== '') {
      const parsed = parseHostPort(
        overrides.host,
        typeof overrides.port === 'number' ? overrides.port : c.port || undefined,
      );
      host = parsed.host;
      port = parsed.port;
    }
    if (typeof overrides.port === 'number') port = overrides.port;
    const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
    const options = c.connectionOptions;
    const conn = await Connection.open(
      {
        host,
        port,
        user: str(overrides.username) ?? str(overrides.user) ?? c.username,
        password: str(overrides.password) ?? c.password,
        database: str(overrides.database) ?? c.database,
        ssl: options.ssl,
        connectTimeoutMs: options.connectTimeoutMs,
        localInfile: options.localInfile,
        sessionVariables: options.sessionVariables,
      },
      {
        name,
        echo: options.echo,
        retry: options.retry,
        breaker: options.breaker,
        timeline: options.timeline,
      },
    );
    c.connections.set(name, conn);
    this.#opened.push(conn);
    return conn;
  }

  async closeOpened(): Promise<void> {
    await Promise.all(this.#opened.map((conn) => conn.close().catch(() => undefined)));
    this.#opened.length = 0;
  }
}

function sameCustom(seen: Map<string, unknown>, ctx: StateContext): boolean {
  if (seen.size !== mirroredFields.size) return false;
  for (const [name, field] of mirroredFields)
    if (!seen.has(name) || seen.get(name) !== field.read(ctx)) return false;
  return true;
}
