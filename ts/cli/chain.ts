// Runs the default chain (ts/machine) for one target and returns a summary.
import fs from 'node:fs';
import { createDefaultMachine } from '../machine/default-machine.js';
import { StateContext, type ConnectionOptions } from '../machine/context.js';
import type { SslOptions } from '../db/connection.js';
import type { Settings } from '../config/settings.js';
import type { Logger } from '../log/logger.js';
import type { ServerParams } from '../runner/run.js';
import { explainError } from './error-line.js';

export interface ChainResult {
  ok: boolean;
  host: string;
  port: number;
  kind?: string;
  version?: string;
  raw?: string;
  ms: number;
  error?: string;
  hint?: string;
  states?: string[];
}

/** The machine's connection options for the settings (TLS files read here; --show-sql echo). */
export function machineConnectionOptions(s: Settings, log: Logger): ConnectionOptions {
  const o: ConnectionOptions = { connectTimeoutMs: Math.round(s.timeoutSecs * 1000) };
  if (s.ssl.mode !== 'disabled') {
    const read = (f?: string) => (f ? fs.readFileSync(f, 'utf8') : undefined);
    const ssl: SslOptions = { mode: s.ssl.mode.toUpperCase() as SslOptions['mode'] };
    if (s.ssl.ca) ssl.ca = read(s.ssl.ca);
    if (s.ssl.cert) ssl.cert = read(s.ssl.cert);
    if (s.ssl.key) ssl.key = read(s.ssl.key);
    o.ssl = ssl;
  }
  if (s.showSql) o.echo = (line) => log.errOut(`SQL ${line}`);
  return o;
}

/** The server a runner or maintenance command connects to, from the settings (TLS files read). */
export function serverFromSettings(s: Settings, log: Logger): ServerParams {
  const mc = machineConnectionOptions(s, log);
  return {
    host: s.host,
    port: s.port,
    user: s.user,
    password: s.password ?? '',
    ssl: mc.ssl,
    connectTimeoutMs: mc.connectTimeoutMs,
  };
}

/** A machine context for the resolved settings (target, credentials, connection options). */
export function contextFromSettings(s: Settings, log: Logger): StateContext {
  return new StateContext({
    host: s.host,
    port: s.port,
    username: s.user,
    password: s.password ?? '',
    database: s.database,
    connectionOptions: machineConnectionOptions(s, log),
  });
}

/** Splits a failure into a reason and a hint (the one error format: ./error-line.ts). */
export function explainFailure(e: unknown): { error: string; hint?: string } {
  const { message, hint } = explainError(e);
  return hint === undefined ? { error: message } : { error: message, hint };
}

export async function runDefaultChain(
  target: { host: string; port: number; user: string; password: string; database?: string; name?: string },
  options: ConnectionOptions,
  log: Logger,
): Promise<ChainResult & { ctx: StateContext }> {
  const ctx = new StateContext({
    host: target.host,
    port: target.port,
    username: target.user,
    password: target.password,
    database: target.database,
    connectionName: target.name,
    connectionOptions: options,
  });
  const machine = createDefaultMachine();
  const states: string[] = [];
  machine.on('transition', (t: { from: string; to: string }) => {
    log.debug(`${t.from} → ${t.to}`, { connection: target.name ?? 'main' });
  });
  const t0 = performance.now();
  try {
    const r = await machine.run(ctx);
    states.push(...r.history);
    return {
      ok: true,
      host: target.host,
      port: target.port,
      kind: ctx.server?.kind,
      version: ctx.server?.version,
      raw: ctx.server?.raw,
      ms: Math.round(performance.now() - t0),
      states,
      ctx,
    };
  } catch (e) {
    const { error, hint } = explainFailure(e);
    return {
      ok: false,
      host: target.host,
      port: target.port,
      ms: Math.round(performance.now() - t0),
      error,
      hint,
      ctx,
    };
  } finally {
    await ctx.closeConnections();
  }
}
