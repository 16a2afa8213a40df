// Deterministic interleaving of statements across connections: start a
// statement without waiting, assert that it stays blocked, act on other
// connections, then await it and assert its outcome. Transaction-isolation
// and deadlock tests are built on this.
import { AssertionError } from 'node:assert';
import { DatabaseError, isErrorClass, type ErrorClass } from '../errors.js';
import type { Connection, QueryResult } from './connection.js';

export type StatementOutcome = { ok: true; result: QueryResult } | { ok: false; error: DatabaseError };

/** A statement issued by Interleaving.start; await it with finish() or expectError(). */
export interface PendingStatement {
  readonly id: number;
  readonly connection: string;
  readonly sql: string;
  /** Set once the statement finished. */
  readonly outcome?: StatementOutcome;
}

interface Pending extends PendingStatement {
  outcome?: StatementOutcome;
  readonly done: Promise<StatementOutcome>;
}

/** What expectError accepts: an errno (1213), an error class ('deadlock') or a driver code ('ER_LOCK_DEADLOCK'). */
export type ExpectedError = number | ErrorClass | string;

export class Interleaving {
  readonly #connections: Map<string, Connection>;
  readonly #busy = new Map<string, Pending>();
  #nextId = 1;
  /** Every statement with its outcome, in start order; handy when a test fails. */
  readonly log: PendingStatement[] = [];

  constructor(connections: Map<string, Connection> | Record<string, Connection> | readonly Connection[]) {
    if (connections instanceof Map) this.#connections = new Map(connections);
    else if (Array.isArray(connections)) this.#connections = new Map(connections.map((c) => [c.name, c]));
    else this.#connections = new Map(Object.entries(connections as Record<string, Connection>));
  }

  /** Issues `sql` on connection `name` without waiting. One statement per connection at a time. */
  start(name: string, sql: string, params?: unknown[]): PendingStatement {
    const connection = this.#connections.get(name);
    if (!connection)
      throw new Error(`unknown connection '${name}' (known: ${[...this.#connections.keys()].join(', ')})`);
    const running = this.#busy.get(name);
    if (running && !running.outcome) {
      throw new Error(
        `connection '${name}' is still running #${running.id} (${running.sql}); finish it first`,
      );
    }
    const id = this.#nextId++;
    const pending: Pending = {
      id,
      connection: name,
      sql,
      done: connection.query(sql, params).then(
        (result): StatementOutcome => (pending.outcome = { ok: true, result }),
        (err: unknown): StatementOutcome =>
          (pending.outcome = { ok: false, error: DatabaseError.from(err, { sql, connectionName: name }) }),
      ),
    };
    this.#busy.set(name, pending);
    this.log.push(pending);
    return pending;
  }

  /** start() and finish() in one: for steps that must not block. */
  async run(name: string, sql: string, params?: unknown[]): Promise<QueryResult> {
    return this.finish(this.start(name, sql, params));
  }

  /** Asserts that the statement does not finish within `ms` (it keeps running afterwards). */
  async expectBlocked(statement: PendingStatement, ms: number): Promise<void> {
    const outcome = await this.#settleWithin(statement, ms);
    if (outcome) {
      const how = outcome.ok ? 'succeeded' : `failed with ${outcome.error.message}`;
      throw new AssertionError({
        message: `expected ${label(statement)} to be blocked for ${ms} ms, but it ${how}`,
      });
    }
  }

  /** Waits for the statement; returns its result or throws its DatabaseError. */
  async finish(statement: PendingStatement, timeoutMs?: number): Promise<QueryResult> {
    const outcome = await this.#settle(statement, timeoutMs);
    if (!outcome.ok) throw outcome.error;
    return outcome.result;
  }

  /** Waits for the statement and asserts it failed as expected; returns the error. */
  async expectError(
    statement: PendingStatement,
    expected: ExpectedError,
    timeoutMs?: number,
  ): Promise<DatabaseError> {
    const outcome = await this.#settle(statement, timeoutMs);
    if (outcome.ok) {
      throw new AssertionError({
        message: `expected ${label(statement)} to fail with ${String(expected)}, but it succeeded`,
      });
    }
    if (!errorMatches(outcome.error, expected)) {
      const e = outcome.error;
      throw new AssertionError({
        message: `expected ${label(statement)} to fail with ${String(expected)}, but it failed with errno ${e.errno ?? '-'} (${e.errorClass}): ${e.message}`,
      });
    }
    return outcome.error;
  }

  /** Waits for the statement and returns its outcome without throwing. */
  async settle(statement: PendingStatement, timeoutMs?: number): Promise<StatementOutcome> {
    return this.#settle(statement, timeoutMs);
  }

  async #settle(statement: PendingStatement, timeoutMs: number | undefined): Promise<StatementOutcome> {
    if (timeoutMs === undefined) return this.#own(statement).done;
    const outcome = await this.#settleWithin(statement, timeoutMs);
    if (!outcome)
      throw new AssertionError({ message: `${label(statement)} did not finish within ${timeoutMs} ms` });
    return outcome;
  }

  /** The outcome if the statement finishes within `ms`, else undefined. */
  async #settleWithin(statement: PendingStatement, ms: number): Promise<StatementOutcome | undefined> {
    const pending = this.#own(statement);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), ms);
    });
    try {
      return await Promise.race([pending.done, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  #own(statement: PendingStatement): Pending {
    if (!this.log.includes(statement))
      throw new Error(`statement #${statement.id} was not started by this Interleaving`);
    return statement as Pending;
  }
}

function errorMatches(error: DatabaseError, expected: ExpectedError): boolean {
  if (typeof expected === 'number') return error.errno === expected;
  if (isErrorClass(expected)) return error.errorClass === expected;
  return error.code === expected;
}

function label(s: PendingStatement): string {
  return `#${s.id} on ${s.connection} (${s.sql})`;
}
