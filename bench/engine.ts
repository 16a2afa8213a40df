// The engine benchmark: the cost of running Python handlers, as ratios to a
// TypeScript handler doing the same work in the same StateMachine, measured in
// alternating rounds in this one process.
// `node dist/bench/engine.js [--quick] [--only=select1,parallel,rows,visits]`.
import path from 'node:path';
import {
  Connection,
  PythonRuntime,
  StateContext,
  StateMachine,
  loadPythonHandlers,
  type StateHandler,
} from '../ts/index.js';
import { testServer } from '../test/helpers/db.js';
import { JsonLinesChild, benchPythonDir } from './lib/jsonl-child.js';
import { compare, formatRate, median, type Sample } from './lib/measure.js';

const quick = process.argv.includes('--quick');
const SECTIONS = ['select1', 'parallel', 'rows', 'visits'] as const;
type Section = (typeof SECTIONS)[number];
const onlyArg = process.argv.find((a) => a.startsWith('--only='));
const only = new Set<string>(onlyArg ? onlyArg.slice('--only='.length).split(',') : SECTIONS);
for (const s of only) {
  if (!(SECTIONS as readonly string[]).includes(s)) {
    console.error(`error: unknown section '${s}' in --only (hint: pick from ${SECTIONS.join(',')})`);
    process.exit(2);
  }
}
const wanted = (s: Section): boolean => only.has(s);

const N = quick ? 300 : 1000; // visits per repetition
const REPS = quick ? 2 : 7;
const ROWS = 1000;
const handlersFile = path.join(benchPythonDir, 'engine_handlers.py');
const params = {
  host: testServer.host,
  port: testServer.port,
  user: testServer.user,
  password: testServer.password,
  database: 'test', // for the temporary table (nothing is left in it)
};
// The big result: 6 columns of mixed types (int, str, float, bool, null-or-str, timestamp).
const ROWS_TABLE = 'bench_rows';
const ROWS_SQL = `SELECT id, name, score, active, note, created FROM ${ROWS_TABLE}`;

async function connectedContext(): Promise<StateContext> {
  const ctx = new StateContext({
    host: params.host,
    port: params.port,
    username: params.user,
    password: params.password,
    database: params.database,
  });
  ctx.connection = await Connection.open(params);
  ctx.connections.set('main', ctx.connection);
  return ctx;
}

/** A per-session table of ROWS rows, so concurrent bench runs never share one. */
async function createRowsTable(ctx: StateContext): Promise<void> {
  const conn = ctx.connection!;
  await conn.query(
    `CREATE TEMPORARY TABLE ${ROWS_TABLE} (id INT PRIMARY KEY, name VARCHAR(40), score DOUBLE, active BOOL, note VARCHAR(40) NULL, created DATETIME)`,
  );
  const values: string[] = [];
  for (let i = 1; i <= ROWS; i++) {
    const note = i % 3 === 0 ? 'NULL' : `'note ${i}'`;
    values.push(
      `(${i}, 'name-${i}', ${i * 1.25}, ${i % 2}, ${note}, '2026-01-01 00:00:00' + INTERVAL ${i} SECOND)`,
    );
  }
  await conn.query(`INSERT INTO ${ROWS_TABLE} VALUES ${values.join(',')}`);
}

/** The baseline: a TypeScript handler looping on its own state, one awaited query per visit. */
class TsQueryHandler implements StateHandler {
  #left: number;
  constructor(
    readonly state: string,
    n: number,
    readonly sql: string,
  ) {
    this.#left = n;
  }
  async execute(ctx: StateContext): Promise<string> {
    await ctx.connection!.query(this.sql);
    this.#left -= 1;
    return this.#left > 0 ? this.state : 'Completed';
  }
}

/** A machine with fresh handler instances (each counts its own `n` steps down). */
async function prepared(ops: number): Promise<{ machine: StateMachine; dispose: () => void }> {
  const machine = new StateMachine();
  const loaded = await loadPythonHandlers(machine, handlersFile, { params: { n: ops, sql: ROWS_SQL } });
  machine.register('TsQuery', new TsQueryHandler('TsQuery', ops, 'SELECT 1'));
  machine.register('TsRows', new TsQueryHandler('TsRows', ops, ROWS_SQL));
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

/** One row of the summary table: per-round ratios of subject to baseline (time or throughput). */
interface TableRow {
  measure: string;
  ratios: number[];
  kind: 'time' | 'rate';
  bound: number;
}

function roundRatios(subject: Sample, baseline: Sample, kind: 'time' | 'rate'): number[] {
  return subject.rates.map((s, i) => (kind === 'time' ? baseline.rates[i] / s : s / baseline.rates[i]));
}

function table(rows: TableRow[]): string {
  const lines = ['| measure | median (range of rounds) | target | met |', '|---|---:|---|---|'];
  for (const r of rows) {
    const m = median(r.ratios);
    const unit = r.kind === 'time' ? '×' : '';
    const range = `${Math.min(...r.ratios).toFixed(2)}–${Math.max(...r.ratios).toFixed(2)}`;
    const ok = r.kind === 'time' ? m <= r.bound : m >= r.bound;
    lines.push(
      `| ${r.measure} | ${m.toFixed(2)}${unit} (${range}) | ${r.kind === 'time' ? '≤' : '≥'} ${r.bound}${unit} | ${ok ? 'yes' : '**no**'} |`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const rt = PythonRuntime.get();
  console.log(
    `test-rig engine benchmark — Python ${rt.python.version}, node ${process.version}, ${N} visits × ${REPS} rounds (medians; ratios within a round)\n`,
  );
  const ctx = await connectedContext();
  const lines: string[] = [];
  const summary: TableRow[] = [];

  // Warm up every path once.
  for (const s of [
    'TsQuery',
    'AwaitQuery',
    'AwaitQueryInline',
    'BlockingQuery',
    'Ping',
    'APing',
    'IPing',
    'IAPing',
  ])
    await machineRate(s, 50, ctx);

  // 1. One awaited SELECT 1 per visit vs a TypeScript handler doing the same in the same machine.
  if (wanted('select1')) {
    const [ts, fast, dflt, blocking] = await rounds([
      { name: 'TypeScript handler: await query(SELECT 1)', rate: () => machineRate('TsQuery', N, ctx) },
      { name: 'visit: await query, inline fast path', rate: () => machineRate('AwaitQueryInline', N, ctx) },
      { name: 'visit: await query, default path', rate: () => machineRate('AwaitQuery', N, ctx) },
      { name: 'visit: blocking execute_query', rate: () => machineRate('BlockingQuery', N, ctx) },
    ]);
    lines.push(compare(dflt, ts, { kind: 'time', bound: 1.5 }));
    lines.push(compare(blocking, ts, { kind: 'time', bound: 1.5 }));
    lines.push(compare(fast, ts, { kind: 'time', bound: 1.15 }));
    summary.push(
      {
        measure: 'default-path `async def` visit awaiting `SELECT 1`, time vs TS handler',
        ratios: roundRatios(dflt, ts, 'time'),
        kind: 'time',
        bound: 1.5,
      },
      {
        measure: 'default-path sync visit with `execute_query("SELECT 1")`',
        ratios: roundRatios(blocking, ts, 'time'),
        kind: 'time',
        bound: 1.5,
      },
      {
        measure: 'inline `async def` visit awaiting `SELECT 1`',
        ratios: roundRatios(fast, ts, 'time'),
        kind: 'time',
        bound: 1.15,
      },
    );
  }

  // 2. Eight machines in parallel, each visiting a handler that runs SELECT 1, vs eight
  // machines with the TypeScript handler.
  if (wanted('parallel')) {
    const per = Math.max(50, Math.floor(N / 4));
    const ctxs = await Promise.all(Array.from({ length: 8 }, connectedContext));
    const [ts8, parAwait, parBlocking, parInline] = await rounds([
      { name: '8 machines, TypeScript handler', rate: () => machineRate('TsQuery', per, ctxs) },
      {
        name: '8 machines in parallel, default path, await',
        rate: () => machineRate('AwaitQuery', per, ctxs),
      },
      {
        name: '8 machines in parallel, default path, blocking',
        rate: () => machineRate('BlockingQuery', per, ctxs),
      },
      {
        name: '8 machines in parallel, inline fast path',
        rate: () => machineRate('AwaitQueryInline', per, ctxs),
      },
    ]);
    lines.push(compare(parAwait, ts8, { kind: 'rate', bound: 0.7 }));
    lines.push(compare(parBlocking, ts8, { kind: 'rate', reference: 'the target is the await row' }));
    lines.push(compare(parInline, ts8, { kind: 'rate', bound: 0.7 }));
    summary.push({
      measure: "8 machines in parallel, default path, share of 8 TS machines' throughput",
      ratios: roundRatios(parAwait, ts8, 'rate'),
      kind: 'rate',
      bound: 0.7,
    });
    await Promise.all(ctxs.map((c) => c.closeConnections()));
  }

  // 3. A 1000-row × 6-column SELECT per visit vs a TypeScript handler fetching the same rows.
  if (wanted('rows')) {
    await createRowsTable(ctx);
    const rowsN = quick ? 20 : 100;
    for (const s of ['TsRows', 'FetchRows', 'FetchRowsInline']) await machineRate(s, 10, ctx);
    const [tsRows, inlineRows, defaultRows] = await rounds([
      { name: `TypeScript handler: ${ROWS} rows × 6`, rate: () => machineRate('TsRows', rowsN, ctx) },
      { name: `${ROWS} rows × 6, inline fast path`, rate: () => machineRate('FetchRowsInline', rowsN, ctx) },
      { name: `${ROWS} rows × 6, default path`, rate: () => machineRate('FetchRows', rowsN, ctx) },
    ]);
    lines.push(compare(inlineRows, tsRows, { kind: 'time', bound: 1.5 }));
    lines.push(compare(defaultRows, tsRows, { kind: 'time', bound: 2 }));
    summary.push(
      {
        measure: `a ${ROWS}-row × 6-column SELECT in a handler, time vs mysql2 in TS: inline`,
        ratios: roundRatios(inlineRows, tsRows, 'time'),
        kind: 'time',
        bound: 1.5,
      },
      {
        measure: `the same, default path`,
        ratios: roundRatios(defaultRows, tsRows, 'time'),
        kind: 'time',
        bound: 2,
      },
    );
  }

  // 4. Visits with no query (enter + execute + exit) vs a python3 child over JSON lines.
  if (wanted('visits')) {
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
    for (const s of [syncVisits, asyncVisits, inlineVisits, inlineAsyncVisits])
      lines.push(compare(s, jsonl, { kind: 'rate', bound: 3 }));
    for (const s of [inlineVisits, inlineAsyncVisits]) {
      const rate = median(s.rates);
      lines.push(
        `${s.name.padEnd(46)} ${formatRate(rate).padStart(10)}  (target ≥ 300.0k/s) ${rate >= 300_000 ? 'OK' : 'MISSED'}`,
      );
    }
  }

  console.log(lines.join('\n'));
  if (summary.length) console.log(`\n${table(summary)}`);
  await ctx.closeConnections();
}

await main();
