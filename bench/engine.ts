// The engine benchmark: the cost of running Python handlers, as ratios to
// baselines measured in the same run. `node dist/bench/engine.js [--quick]`.
import mysql from 'mysql2/promise';
import path from 'node:path';
import {
  Connection,
  PythonRuntime,
  StateContext,
  StateMachine,
  Timeline,
  loadPythonHandlers,
} from '../ts/index.js';
import { testServer } from '../test/helpers/db.js';
import { JsonLinesChild, benchPythonDir } from './lib/jsonl-child.js';
import { compare, formatRate, median, type Sample } from './lib/measure.js';

const quick = process.argv.includes('--quick');
const N = quick ? 300 : 3000; // operations per repetition
const REPS = quick ? 2 : 7;
const handlersFile = path.join(benchPythonDir, 'engine_handlers.py');
const params = {
  host: testServer.host,
  port: testServer.port,
  user: testServer.user,
  password: testServer.password,
};

async function connectedContext(timeline?: Timeline): Promise<StateContext> {
  const ctx = new StateContext({
    host: params.host,
    port: params.port,
    username: params.user,
    password: params.password,
  });
  ctx.connection = await Connection.open(params, { timeline });
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
 * Visits per second of one run from `initialState` on one machine per context at once
 * (loading handlers is not timed). Each handler counts `ops` of its own visits down, so a
 * ping-pong pair makes about twice as many: the rate counts the visits the machines report
 * (execute() calls).
 */
async function machineRate(
  initialState: string,
  ops: number,
  ctxs: StateContext | StateContext[],
): Promise<number> {
  const contexts = Array.isArray(ctxs) ? ctxs : [ctxs];
  const machines = await Promise.all(contexts.map(() => prepared(ops)));
  const start = process.hrtime.bigint();
  const results = await Promise.all(
    machines.map((m, i) => m.machine.run(contexts[i], { initialState, maxSteps: ops * 2 + 10 })),
  );
  const visits = results.reduce((sum, r) => sum + r.steps, 0);
  const rate = visits / (Number(process.hrtime.bigint() - start) / 1e9);
  machines.forEach((m) => m.dispose());
  return rate;
}

/** Operations per second of one call of `fn`, which performs `ops` operations. */
async function loopRate(ops: number, fn: () => Promise<void>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return ops / (Number(process.hrtime.bigint() - start) / 1e9);
}

/**
 * One repetition of every contender per round, in rotating order, `REPS` rounds: load on
 * this shared machine drifts more between rounds than within one, so compare() takes
 * each ratio within a round and reports the median.
 */
async function rounds(contenders: { name: string; rate: () => Promise<number> }[]): Promise<Sample[]> {
  const samples: Sample[] = contenders.map((c) => ({ name: c.name, rates: [] }));
  for (let r = 0; r < REPS; r++) {
    for (let k = 0; k < contenders.length; k++) {
      const i = (k + r) % contenders.length;
      samples[i].rates.push(await contenders[i].rate());
    }
  }
  return samples;
}

/** Microseconds one statement's begin() and end() cost, the timeline full (its ring turning). */
function timelineCost(ops: number): number {
  const t = new Timeline();
  for (let i = 0; i < 30_000; i++) t.end(t.begin('main', 1, 'SELECT 1'), 1, 0);
  const start = process.hrtime.bigint();
  for (let i = 0; i < ops; i++) t.end(t.begin('main', 1, 'SELECT 1'), 1, 0);
  return Number(process.hrtime.bigint() - start) / 1e3 / ops;
}

async function main(): Promise<void> {
  const rt = PythonRuntime.get();
  console.log(
    `test-rig engine benchmark — Python ${rt.python.version}, node ${process.version}, ${N} ops × ${REPS} rounds (medians; ratios within a round)\n`,
  );
  const raw = await mysql.createConnection(params);
  const ctx = await connectedContext();
  const lines: string[] = [];

  // Warm up every path once.
  for (const s of ['AwaitQuery', 'AwaitQueryInline', 'BlockingQuery', 'Ping', 'APing', 'IPing', 'IAPing'])
    await machineRate(s, 50, ctx);

  // 1. One awaited SELECT 1 per visit vs TypeScript awaiting mysql2 directly.
  const [ts, fast, dflt, blocking] = await rounds([
    {
      name: 'TypeScript await conn.query(SELECT 1)',
      rate: () =>
        loopRate(N, async () => {
          for (let i = 0; i < N; i++) await raw.query('SELECT 1');
        }),
    },
    { name: 'visit: await query, inline fast path', rate: () => machineRate('AwaitQueryInline', N, ctx) },
    { name: 'visit: await query, default path', rate: () => machineRate('AwaitQuery', N, ctx) },
    { name: 'visit: blocking execute_query', rate: () => machineRate('BlockingQuery', N, ctx) },
  ]);
  lines.push(compare(fast, ts, { kind: 'time', bound: 1.25 }));
  lines.push(compare(dflt, ts, { kind: 'time', bound: 1.6 }));
  lines.push(compare(blocking, ts, { kind: 'time', bound: 2 }));

  // 1b. The statement timeline (test-rig run records one per case) on that visit: on vs off.
  const recorded = await connectedContext(new Timeline());
  await machineRate('AwaitQuery', 50, recorded);
  const [off, on] = await rounds([
    { name: 'visit: await query, no timeline', rate: () => machineRate('AwaitQuery', N, ctx) },
    { name: 'visit: await query, timeline on', rate: () => machineRate('AwaitQuery', N, recorded) },
  ]);
  lines.push(compare(on, off, { kind: 'time', bound: 1.05 }));
  await recorded.closeConnections();
  // On a shared machine the visit's own noise dwarfs the timeline's cost, so the
  // bookkeeping is also timed alone and set against the same run's visit.
  const book = timelineCost(quick ? 100_000 : 1_000_000);
  const share = book / (1e6 / median(off.rates));
  lines.push(
    `${'timeline bookkeeping per statement'.padEnd(46)} ${`${(book * 1000).toFixed(0)} ns`.padStart(10)}  = ${(share * 100).toFixed(2)}% of the awaited-query visit (target < 5%) ${share < 0.05 ? 'OK' : 'MISSED'}`,
  );

  // 2. Visits with no query (enter + execute + exit) vs a python3 child over JSON lines.
  const child = new JsonLinesChild(path.join(benchPythonDir, 'plain_handlers.py'));
  await child.call('PingHandler', 'enter', null, { n: 1e9 });
  const visitOps = quick ? N * 10 : N * 30;
  const [jsonl, syncVisits, asyncVisits, inlineVisits, inlineAsyncVisits] = await rounds([
    {
      name: 'python3 child, JSON lines (3 calls/visit)',
      rate: () =>
        loopRate(N, async () => {
          for (let i = 0; i < N; i++) {
            await child.call('PingHandler', 'enter');
            await child.call('PingHandler', 'execute');
            await child.call('PingHandler', 'exit');
          }
        }),
    },
    { name: 'visits: sync, default path', rate: () => machineRate('Ping', N, ctx) },
    { name: 'visits: async, default path', rate: () => machineRate('APing', N, ctx) },
    { name: 'visits: sync, inline fast path', rate: () => machineRate('IPing', visitOps, ctx) },
    { name: 'visits: async, inline fast path', rate: () => machineRate('IAPing', visitOps, ctx) },
  ]);
  child.close();
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

  // 3. Eight machines in parallel, each visiting a handler that runs SELECT 1. The target
  // is the fast path's: a default-path machine has a thread of its own (so a blocking call
  // stalls only its machine), and every visit wakes that thread twice through the kernel.
  // The default-path rows show what that costs (docs/benchmarks.md).
  const conns = await Promise.all(Array.from({ length: 8 }, () => mysql.createConnection(params)));
  const per = Math.max(50, Math.floor(N / 4));
  const ctxs = await Promise.all(Array.from({ length: 8 }, connectedContext));
  const [ts8, ...parallel] = await rounds([
    {
      name: '8 TypeScript loops on 8 connections',
      rate: () =>
        loopRate(per * 8, async () => {
          await Promise.all(
            conns.map(async (c) => {
              for (let i = 0; i < per; i++) await c.query('SELECT 1');
            }),
          );
        }),
    },
    ...(
      [
        ['BlockingQuery', 'default path, blocking'],
        ['AwaitQuery', 'default path, await'],
        ['AwaitQueryInline', 'inline fast path'],
      ] as const
    ).map(([state, label]) => ({
      name: `8 machines in parallel, ${label}`,
      rate: () => machineRate(state, per, ctxs),
    })),
  ]);
  const [parBlocking, parAwait, parInline] = parallel;
  for (const par of [parBlocking, parAwait])
    lines.push(
      compare(par, ts8, { kind: 'rate', reference: 'a thread per machine; see docs/benchmarks.md' }),
    );
  lines.push(compare(parInline, ts8, { kind: 'rate', bound: 0.7 }));

  console.log(lines.join('\n'));
  await Promise.all([
    raw.end(),
    ...conns.map((c) => c.end()),
    ctx.closeConnections(),
    ...ctxs.map((c) => c.closeConnections()),
  ]);
}

await main();
