// Issue 3's benchmark: the cost of running Python handlers, as ratios to
// baselines measured in the same run. `node dist/bench/engine.js [--quick]`.
import mysql from 'mysql2/promise';
import path from 'node:path';
import { Connection, PythonRuntime, StateContext, StateMachine, loadPythonHandlers } from '../ts/index.js';
import { testServer } from '../test/helpers/db.js';
import { JsonLinesChild, benchPythonDir } from './lib/jsonl-child.js';
import { compare, formatRate, measure, median, type Sample } from './lib/measure.js';

const quick = process.argv.includes('--quick');
const N = quick ? 300 : 3000; // operations per repetition
const REPS = quick ? 2 : 5;
const handlersFile = path.join(benchPythonDir, 'engine_handlers.py');
const params = {
  host: testServer.host,
  port: testServer.port,
  user: testServer.user,
  password: testServer.password,
};

async function connectedContext(): Promise<StateContext> {
  const ctx = new StateContext({
    host: params.host,
    port: params.port,
    username: params.user,
    password: params.password,
  });
  ctx.connection = await Connection.open(params);
  ctx.connections.set('main', ctx.connection);
  return ctx;
}

/** A machine with fresh handler instances (each counts its own `n` steps down). */
async function prepared(ops: number): Promise<{ machine: StateMachine; dispose: () => void }> {
  const machine = new StateMachine();
  const loaded = await loadPythonHandlers(machine, handlersFile, { params: { n: ops } });
  return { machine, dispose: () => loaded.dispose() };
}

/**
 * Times runs from `initialState` on one machine per context at once (loading handlers is
 * not timed). Each handler counts `ops` of its own visits down, so a ping-pong pair makes
 * about twice as many: the rate counts the visits the machines report (execute() calls).
 */
async function machineRuns(
  name: string,
  initialState: string,
  ops: number,
  ctxs: StateContext | StateContext[],
  reps = REPS,
): Promise<Sample> {
  const contexts = Array.isArray(ctxs) ? ctxs : [ctxs];
  const rates: number[] = [];
  for (let r = 0; r < reps; r++) {
    const machines = await Promise.all(contexts.map(() => prepared(ops)));
    const start = process.hrtime.bigint();
    const results = await Promise.all(
      machines.map((m, i) => m.machine.run(contexts[i], { initialState, maxSteps: ops * 2 + 10 })),
    );
    const visits = results.reduce((sum, r) => sum + r.steps, 0);
    rates.push(visits / (Number(process.hrtime.bigint() - start) / 1e9));
    machines.forEach((m) => m.dispose());
  }
  return { name, rates };
}

async function main(): Promise<void> {
  const rt = PythonRuntime.get();
  console.log(
    `test-rig engine benchmark — Python ${rt.python.version}, node ${process.version}, ${N} ops × ${REPS} reps (medians)\n`,
  );
  const raw = await mysql.createConnection(params);
  const ctx = await connectedContext();
  const lines: string[] = [];

  // Warm up every path once.
  for (const s of ['AwaitQuery', 'AwaitQueryInline', 'BlockingQuery', 'Ping', 'APing', 'IPing', 'IAPing'])
    await machineRuns('warm', s, 50, ctx, 1);

  // 1. One awaited SELECT 1 per visit vs TypeScript awaiting mysql2 directly.
  const ts = await measure('TypeScript await conn.query(SELECT 1)', N, REPS, async () => {
    for (let i = 0; i < N; i++) await raw.query('SELECT 1');
  });
  const fast = await machineRuns('visit: await query, inline fast path', 'AwaitQueryInline', N, ctx);
  const dflt = await machineRuns('visit: await query, default path', 'AwaitQuery', N, ctx);
  const blocking = await machineRuns('visit: blocking execute_query', 'BlockingQuery', N, ctx);
  lines.push(compare(fast, ts, { kind: 'time', bound: 1.25 }));
  lines.push(compare(dflt, ts, { kind: 'time', bound: 1.6 }));
  lines.push(compare(blocking, ts, { kind: 'time', bound: 2 }));

  // 2. Visits with no query (enter + execute + exit) vs a python3 child over JSON lines.
  const child = new JsonLinesChild(path.join(benchPythonDir, 'plain_handlers.py'));
  await child.call('PingHandler', 'enter', null, { n: 1e9 });
  const jsonl = await measure('python3 child, JSON lines (3 calls/visit)', N, REPS, async () => {
    for (let i = 0; i < N; i++) {
      await child.call('PingHandler', 'enter');
      await child.call('PingHandler', 'execute');
      await child.call('PingHandler', 'exit');
    }
  });
  child.close();
  const visitOps = quick ? N * 10 : N * 30;
  const syncVisits = await machineRuns('visits: sync, default path', 'Ping', N, ctx);
  const asyncVisits = await machineRuns('visits: async, default path', 'APing', N, ctx);
  const inlineVisits = await machineRuns('visits: sync, inline fast path', 'IPing', visitOps, ctx);
  const inlineAsyncVisits = await machineRuns('visits: async, inline fast path', 'IAPing', visitOps, ctx);
  lines.push(compare(syncVisits, jsonl, { kind: 'rate', bound: 3 }));
  lines.push(compare(asyncVisits, jsonl, { kind: 'rate', bound: 3 }));
  lines.push(compare(inlineVisits, jsonl, { kind: 'rate', bound: 3 }));
  lines.push(compare(inlineAsyncVisits, jsonl, { kind: 'rate', bound: 3 }));
  for (const s of [inlineVisits, inlineAsyncVisits]) {
    const rate = median(s.rates);
    lines.push(
      `${s.name.padEnd(46)} ${formatRate(rate).padStart(10)}  (target ≥ 300.0k/s) ${rate >= 300_000 ? 'OK' : 'MISSED'}`,
    );
  }

  // 3. Eight machines in parallel, each visiting a handler that runs SELECT 1.
  const conns = await Promise.all(Array.from({ length: 8 }, () => mysql.createConnection(params)));
  const per = Math.max(50, Math.floor(N / 4));
  const ts8 = await measure('8 TypeScript loops on 8 connections', per * 8, REPS, async () => {
    await Promise.all(
      conns.map(async (c) => {
        for (let i = 0; i < per; i++) await c.query('SELECT 1');
      }),
    );
  });
  const ctxs = await Promise.all(Array.from({ length: 8 }, connectedContext));
  for (const [state, label] of [
    ['BlockingQuery', 'default path, blocking'],
    ['AwaitQuery', 'default path, await'],
    ['AwaitQueryInline', 'inline fast path'],
  ] as const) {
    const par = await machineRuns(`8 machines in parallel, ${label}`, state, per, ctxs);
    lines.push(compare(par, ts8, { kind: 'rate', bound: 0.7 }));
  }

  console.log(lines.join('\n'));
  await Promise.all([
    raw.end(),
    ...conns.map((c) => c.end()),
    ctx.closeConnections(),
    ...ctxs.map((c) => c.closeConnections()),
  ]);
}

await main();
