// Runs N named connections concurrently, each with its own state machine, and
// gives them what they need to cooperate: per-connection status, shared state,
// broadcast events, barriers and a results table.
import { EventEmitter } from 'node:events';
import { formatHostPort } from '../db/address.js';
import type { Connection } from '../db/connection.js';
import type { ServerInfo } from '../db/server.js';
import { StateContext, type StateContextOptions } from './context.js';
import { createDefaultMachine } from './default-machine.js';
import type { RunOptions, RunResult, StateMachine } from './machine.js';
import { States, isErrorState } from './states.js';

export type ConnectionStatusKind =
  'pending' | 'connecting' | 'connected' | 'testing' | 'monitoring' | 'completed' | 'failed';

export interface ConnectionStatus {
  name: string;
  status: ConnectionStatusKind;
  /** The machine's current state. */
  state: string;
  /** True once the connection is open and the server version is known. */
  ready: boolean;
  host: string;
  port: number;
  user: string;
  server?: ServerInfo;
  error?: string;
  /** What the machine threw when the connection failed (`error` is its message); hints ride on it. */
  failure?: unknown;
  lastActivity: Date;
  result?: RunResult;
}

export interface CoordinatedConnection {
  name: string;
  /** Connection settings as for StateContext (address 'host:port', username, password, database, options...). */
  context: StateContextOptions;
  /** Builds this connection's machine; default: the default chain ending in Completed. */
  machine?: (name: string, coordinator: Coordinator) => StateMachine;
  runOptions?: RunOptions;
}

export interface CoordinatorEvent {
  type: string;
  /** Connection name, or 'coordinator' for events the coordinator itself raises. */
  from: string;
  data?: unknown;
  at: Date;
}

export interface ResultRow {
  connection: string;
  address: string;
  status: ConnectionStatusKind;
  server: string;
  version: string;
  steps: number;
  durationMs: number;
  error: string;
}

/** Which status a machine state implies; states of the default chain map to connection phases. */
export function statusForState(state: string): ConnectionStatusKind {
  if (state === States.Completed) return 'completed';
  if (isErrorState(state)) return 'failed';
  switch (state) {
    case States.Initial:
    case States.ParsingConfig:
    case States.Connecting:
      return 'connecting';
    case States.TestingConnection:
    case States.VerifyingDatabase:
    case States.GettingVersion:
      return 'connected';
    case States.CheckingImportJobs:
    case States.ShowingImportJobDetails:
      return 'monitoring';
    default:
      return 'testing';
  }
}

interface Entry {
  spec: CoordinatedConnection;
  ctx: StateContext;
  status: ConnectionStatus;
}

interface Barrier {
  arrived: Set<string>;
  released: boolean;
  waiters: Array<{ resolve: () => void; reject: (err: Error) => void }>;
}

export class Coordinator extends EventEmitter {
  /** Free-form state all connections share. */
  readonly shared = new Map<string, unknown>();
  /** Every broadcast event, in order. */
  readonly events: CoordinatorEvent[] = [];
  readonly #entries = new Map<string, Entry>();
  readonly #barriers = new Map<string, Barrier>();
  #allReadyAnnounced = false;

  constructor(connections: readonly CoordinatedConnection[]) {
    super();
    for (const spec of connections) {
      if (this.#entries.has(spec.name)) throw new Error(`duplicate connection name '${spec.name}'`);
      const ctx = new StateContext({ ...spec.context, connectionName: spec.name });
      this.#entries.set(spec.name, {
        spec,
        ctx,
        status: {
          name: spec.name,
          status: 'pending',
          state: States.Initial,
          ready: false,
          host: ctx.host,
          port: ctx.port,
          user: ctx.username,
          lastActivity: new Date(),
        },
      });
    }
  }

  get names(): string[] {
    return [...this.#entries.keys()];
  }

  status(name: string): ConnectionStatus {
    return { ...this.#entry(name).status };
  }

  statuses(): ConnectionStatus[] {
    return this.names.map((n) => this.status(n));
  }

  context(name: string): StateContext {
    return this.#entry(name).ctx;
  }

  /** The open main connection of every connection that has one, by name (e.g. for an Interleaving). */
  connections(): Map<string, Connection> {
    const map = new Map<string, Connection>();
    for (const [name, { ctx }] of this.#entries) if (ctx.connection) map.set(name, ctx.connection);
    return map;
  }

  /** Lets a handler report a phase the state name does not reveal (e.g. 'monitoring'). */
  setStatus(name: string, status: ConnectionStatusKind): void {
    this.#update(this.#entry(name), { status });
  }

  /** Delivers an event once to every listener; it is never re-sent, so listeners can broadcast without loops. */
  broadcast(type: string, data?: unknown, from = 'coordinator'): CoordinatorEvent {
    const event: CoordinatorEvent = { type, from, data, at: new Date() };
    this.events.push(event);
    this.emit('event', event);
    return event;
  }

  /** Listens to events from everybody but `name` itself; returns the unsubscribe function. */
  subscribe(name: string, listener: (event: CoordinatorEvent) => void): () => void {
    const filtered = (event: CoordinatorEvent) => {
      if (event.from !== name) listener(event);
    };
    this.on('event', filtered);
    return () => this.off('event', filtered);
  }

  /** Resolves when every connection is ready; rejects as soon as one fails or after `timeoutMs`. */
  allReady(timeoutMs?: number): Promise<void> {
    return this.#waitFor(
      () => {
        const failed = this.statuses().find((s) => s.status === 'failed');
        if (failed)
          throw new Error(`connection '${failed.name}' failed before all were ready: ${failed.error}`);
        return this.statuses().every((s) => s.ready);
      },
      timeoutMs,
      'all connections ready',
    );
  }

  /**
   * Waits at the barrier `barrierName` until every connection that has not
   * failed has arrived. A released barrier stays open.
   */
  barrier(barrierName: string, participant: string, timeoutMs?: number): Promise<void> {
    this.#entry(participant);
    const barrier = this.#barriers.get(barrierName) ?? { arrived: new Set(), released: false, waiters: [] };
    this.#barriers.set(barrierName, barrier);
    if (barrier.released) return Promise.resolve();
    barrier.arrived.add(participant);
    const waiting = new Promise<void>((resolve, reject) => {
      barrier.waiters.push({ resolve, reject });
      if (timeoutMs !== undefined) {
        setTimeout(() => {
          const missing = this.#liveNames().filter((n) => !barrier.arrived.has(n));
          reject(
            new Error(
              `barrier '${barrierName}' timed out after ${timeoutMs} ms waiting for ${missing.join(', ')}`,
            ),
          );
        }, timeoutMs).unref();
      }
    });
    this.#checkBarriers();
    return waiting;
  }

  /** Runs every connection's machine concurrently. Never rejects for a failed connection: see the statuses. */
  async run(): Promise<ConnectionStatus[]> {
    await Promise.all([...this.#entries.values()].map((entry) => this.#runOne(entry)));
    this.broadcast('test_completed', { failed: this.statuses().filter((s) => s.status === 'failed').length });
    return this.statuses();
  }

  /** One row per connection, ready for printing (see formatResultsTable). */
  resultsTable(): ResultRow[] {
    return this.statuses().map((s) => ({
      connection: s.name,
      address: formatHostPort(s.host, s.port),
      status: s.status,
      server: s.server?.kind ?? '',
      version: s.server?.version ?? '',
      steps: s.result?.steps ?? 0,
      durationMs: Math.round(s.result?.durationMs ?? 0),
      error: s.error ?? '',
    }));
  }

  /** Closes every connection opened by the runs. */
  async close(): Promise<void> {
    await Promise.all([...this.#entries.values()].map(({ ctx }) => ctx.closeConnections()));
  }

  async #runOne(entry: Entry): Promise<void> {
    const { spec, ctx } = entry;
    const machine = spec.machine ? spec.machine(spec.name, this) : createDefaultMachine();
    const onTransition = ({ to }: { to: string }) => {
      // Ready: the connection is open and the server known (the default chain's GettingVersion).
      const becameReady = !entry.status.ready && !isErrorState(to) && !!ctx.connection && !!ctx.server;
      this.#update(entry, {
        state: to,
        status: statusForState(to),
        host: ctx.host,
        port: ctx.port,
        server: ctx.server,
        ready: entry.status.ready || becameReady,
      });
      if (becameReady) this.broadcast('connection_established', { server: ctx.server }, spec.name);
    };
    machine.on('transition', onTransition);
    this.#update(entry, { status: 'connecting' });
    try {
      const result = await machine.run(ctx, spec.runOptions);
      this.#update(entry, {
        result,
        status: 'completed',
        state: result.finalState,
        server: ctx.server,
        ready: true,
      });
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      this.#update(entry, {
        status: 'failed',
        error,
        failure: err,
        server: ctx.server,
        host: ctx.host,
        port: ctx.port,
      });
      this.broadcast('connection_failed', { error }, spec.name);
    } finally {
      machine.off('transition', onTransition);
    }
  }

  #update(entry: Entry, change: Partial<ConnectionStatus>): void {
    entry.status = { ...entry.status, ...change, lastActivity: new Date() };
    this.emit('status', { ...entry.status });
    this.#checkBarriers();
    if (!this.#allReadyAnnounced && this.statuses().every((s) => s.ready)) {
      this.#allReadyAnnounced = true;
      this.broadcast('all_ready');
    }
  }

  #liveNames(): string[] {
    return this.statuses()
      .filter((s) => s.status !== 'failed')
      .map((s) => s.name);
  }

  /** Releases barriers every live connection has reached; a failure shrinks the set that must arrive. */
  #checkBarriers(): void {
    const live = this.#liveNames();
    for (const barrier of this.#barriers.values()) {
      if (barrier.released || barrier.arrived.size === 0) continue;
      if (live.every((n) => barrier.arrived.has(n))) {
        barrier.released = true;
        for (const w of barrier.waiters.splice(0)) w.resolve();
      }
    }
  }

  /** Re-evaluates `check` on every status change until it returns true or throws. */
  #waitFor(check: () => boolean, timeoutMs: number | undefined, what: string): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = (err?: Error) => {
        this.off('status', evaluate);
        if (timer) clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      };
      const evaluate = () => {
        try {
          if (check()) finish();
        } catch (err) {
          finish(err as Error);
        }
      };
      this.on('status', evaluate);
      if (timeoutMs !== undefined) {
        timer = setTimeout(
          () => finish(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)),
          timeoutMs,
        );
      }
      evaluate();
    });
  }

  #entry(name: string): Entry {
    const entry = this.#entries.get(name);
    if (!entry) throw new Error(`unknown connection '${name}' (known: ${this.names.join(', ')})`);
    return entry;
  }
}

/** Formats result rows as an aligned text table. */
export function formatResultsTable(rows: readonly ResultRow[]): string {
  const headers = ['connection', 'address', 'status', 'server', 'version', 'steps', 'ms', 'error'];
  const cells = rows.map((r) => [
    r.connection,
    r.address,
    r.status,
    r.server,
    r.version,
    String(r.steps),
    String(r.durationMs),
    r.error,
  ]);
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) =>
    c
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}
