// The built-in handlers of the default chain. Each one really does its step
// and moves on; failures surface as exceptions (with clear messages) that the
// machine reports with the state and handler name.
import { parseHostPort } from '../db/address.js';
import { Connection } from '../db/connection.js';
import type { StateContext } from './context.js';
import type { StateHandler } from './handler.js';
import { States } from './states.js';

/** Initial → ParsingConfig. */
export class InitialHandler implements StateHandler {
  execute(): string {
    return States.ParsingConfig;
  }
}

/** Parses ctx.address (or a host that still carries ':port') into host and port, and checks the user. */
export class ParsingConfigHandler implements StateHandler {
  execute(ctx: StateContext): string {
    const raw = ctx.address ?? (ctx.port ? undefined : ctx.host);
    if (raw !== undefined) {
      const { host, port } = parseHostPort(raw);
      ctx.host = host;
      ctx.port = port;
    }
    if (!ctx.host) throw new Error('no host given (use -H host:port)');
    if (!Number.isInteger(ctx.port) || ctx.port < 1 || ctx.port > 65535) {
      throw new Error(`invalid port ${ctx.port}`);
    }
    if (!ctx.username) throw new Error('no user given (use -u user)');
    return States.Connecting;
  }
}

/** Opens the main connection (with the database, so a reconnect returns to it). */
export class ConnectingHandler implements StateHandler {
  async execute(ctx: StateContext): Promise<string> {
    const options = ctx.connectionOptions;
    const connection = await Connection.open(
      {
        host: ctx.host,
        port: ctx.port,
        user: ctx.username,
        password: ctx.password,
        database: ctx.database,
        ssl: options.ssl,
        connectTimeoutMs: options.connectTimeoutMs,
        localInfile: options.localInfile,
        sessionVariables: options.sessionVariables,
      },
      {
        name: ctx.connectionName,
        echo: options.echo,
        retry: options.retry,
        breaker: options.breaker,
        timeline: options.timeline,
      },
    );
    ctx.connection = connection;
    ctx.connections.set(connection.name, connection);
    return States.TestingConnection;
  }
}

/** SELECT 1 must return 1. */
export class TestingConnectionHandler implements StateHandler {
  async execute(ctx: StateContext): Promise<string> {
    const { rows } = await requireConnection(ctx).query('SELECT 1', undefined, {
      rowsAsArray: true,
      signal: ctx.signal,
    });
    const value = (rows as unknown[][])[0]?.[0];
    if (Number(value) !== 1) throw new Error(`SELECT 1 returned ${String(value)}`);
    return States.VerifyingDatabase;
  }
}

/** USE the database when one was given and check the session really is in it. */
export class VerifyingDatabaseHandler implements StateHandler {
  async execute(ctx: StateContext): Promise<string> {
    if (ctx.database) {
      const conn = requireConnection(ctx);
      await conn.query(`USE \`${ctx.database.replace(/`/g, '``')}\``, undefined, { signal: ctx.signal });
      const { rows } = await conn.query('SELECT DATABASE()', undefined, {
        rowsAsArray: true,
        signal: ctx.signal,
      });
      const current = (rows as unknown[][])[0]?.[0];
      if (current !== ctx.database) {
        throw new Error(`USE \`${ctx.database}\` left the session in database ${String(current)}`);
      }
    }
    return States.GettingVersion;
  }
}

/** SELECT VERSION() into ctx.serverVersion and ctx.server, then on to `next` (default Completed). */
export class GettingVersionHandler implements StateHandler {
  constructor(private readonly next: string = States.Completed) {}

  async execute(ctx: StateContext): Promise<string> {
    const server = await requireConnection(ctx).detectServer(ctx.signal);
    ctx.server = server;
    ctx.serverVersion = server.raw;
    return this.next;
  }
}

function requireConnection(ctx: StateContext): Connection {
  if (!ctx.connection) throw new Error('no connection (the Connecting state did not run)');
  return ctx.connection;
}
