// Keeps a Python PyStateContext in step with the TypeScript StateContext it
// mirrors. TypeScript owns the fields; before each handler call the few that
// can change are compared and only changes cross into Python.
import { Connection } from '../db/connection.js';
import { parseHostPort } from '../db/address.js';
import type { StateContext } from '../machine/context.js';
import { IMPORT_JOBS_KEY, type ImportJobsSnapshot } from '../monitor/context.js';
import type { PyRef } from './native.js';
import type { PythonRuntime } from './runtime.js';
import { PythonSharedData } from './shared-data.js';

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
  importJobs: ImportJobsSnapshot | undefined;
}

export class ContextMirror {
  readonly #runtime: PythonRuntime;
  readonly #ctx: StateContext;
  readonly #opened: Connection[] = [];
  #snap: Snapshot | undefined;
  #output: ((text: string, stream: 'stdout' | 'stderr') => void) | undefined;

  constructor(
    runtime: PythonRuntime,
    ctx: StateContext,
    readonly key: number,
    readonly ref: PyRef,
  ) {
    this.#runtime = runtime;
    this.#ctx = ctx;
    // One custom-data store for both languages; the monitor's snapshot is TypeScript's own
    // (its identity tells sync() when the rows changed; Python reads it as import_jobs).
    ctx.customData.share(new PythonSharedData(runtime, ref), [IMPORT_JOBS_KEY]);
  }

  /** Where this context's Python print output goes (undefined: the process's stdout/stderr). */
  get output(): ((text: string, stream: 'stdout' | 'stderr') => void) | undefined {
    return this.#output;
  }

  set output(sink: ((text: string, stream: 'stdout' | 'stderr') => void) | undefined) {
    this.#output = sink;
    this.#runtime.call(this.#runtime.fn.set_output, null, [this.ref, sink ? this.key : null]);
  }

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
      s.importJobs === c.customData.get(IMPORT_JOBS_KEY)
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
    // The monitor states replace the snapshot only when the rows change: an identity check.
    const importJobs = c.customData.get<ImportJobsSnapshot>(IMPORT_JOBS_KEY);
    if (s?.importJobs !== importJobs) fields.import_jobs = this.#importJobs(importJobs);
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
      importJobs,
    };
    return this.ref;
  }

  /** For context.import_jobs: columns and array rows, made into dicts by Python (as execute_query's rows). */
  #importJobs(snapshot: ImportJobsSnapshot | undefined): unknown {
    if (!snapshot) return null;
    const names = snapshot.columns.map((col) => col.name);
    return {
      columns: snapshot.columns.map((col) => [col.name, col.type]),
      rows: snapshot.rows.map((row) => names.map((n) => row[n])),
    };
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
      { name, echo: options.echo, retry: options.retry, breaker: options.breaker },
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
