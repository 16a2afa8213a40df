// One contender process: `node dist/bench/peers/child.js <driver>`, forked by
// bench/peers.ts with the DriverOptions as JSON in argv[3]. Sends one Result
// per (contender, scenario) over IPC, then exits.
import { SCENARIO_IDS, type Driver, type DriverOptions, type Op, type ScenarioId } from './driver.js';

export type Result = {
  contender: string;
  label: string;
  how?: string;
  scenario: ScenarioId;
} & (
  | { status: 'ok'; usPerOp: number[]; opsPerRep: number }
  | { status: 'unsupported' | 'unavailable' | 'error'; reason: string }
);

async function timeOnce(op: Op, n: number): Promise<number> {
  const start = process.hrtime.bigint();
  if (op.kind === 'sync') {
    for (let i = 0; i < n; i++) op.fn();
  } else if (op.kind === 'async') {
    for (let i = 0; i < n; i++) await op.fn();
  }
  return Number(process.hrtime.bigint() - start) / 1e3; // µs
}

/** Warm up for ~warmMs, size a repetition to ~repMs, run `reps` of them; µs per op for each. */
export async function run(op: Op, quick: boolean): Promise<{ usPerOp: number[]; opsPerRep: number }> {
  const warmMs = quick ? 30 : 200;
  const repMs = quick ? 25 : 250;
  const reps = quick ? 3 : 7;
  let n = 1;
  let spent = 0;
  let done = 0;
  while (spent < warmMs * 1000) {
    spent += await timeOnce(op, n);
    done += n;
    n *= 2;
  }
  const opsPerRep = Math.max(10, Math.round((repMs * 1000) / (spent / done)));
  const usPerOp: number[] = [];
  for (let r = 0; r < reps; r++) usPerOp.push((await timeOnce(op, opsPerRep)) / opsPerRep);
  return { usPerOp, opsPerRep };
}

async function main(): Promise<void> {
  const name = process.argv[2];
  const opts = JSON.parse(process.argv[3]) as DriverOptions;
  const send = (r: Result): Promise<void> =>
    new Promise((resolve) =>
      process.send ? process.send(r, () => resolve()) : (console.log(JSON.stringify(r)), resolve()),
    );
  const driver = ((await import(`./${name}.js`)) as { default: Driver }).default;
  let opened: Awaited<ReturnType<Driver['open']>>;
  try {
    opened = await driver.open(opts);
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    for (const c of driver.contenders)
      for (const scenario of SCENARIO_IDS)
        await send({ contender: c.id, label: c.label, scenario, status: 'unavailable', reason });
    return;
  }
  for (const scenario of SCENARIO_IDS) {
    for (const c of opened.contenders) {
      const base = { contender: c.id, label: c.label, how: c.how, scenario };
      const op = c.ops[scenario];
      if (!op || op.kind === 'unsupported') {
        await send({ ...base, status: 'unsupported', reason: op?.reason ?? 'not supported' });
        continue;
      }
      try {
        await send({ ...base, status: 'ok', ...(await run(op, opts.quick)) });
      } catch (err) {
        await send({ ...base, status: 'error', reason: err instanceof Error ? err.message : String(err) });
      }
    }
  }
  await opened.close();
}

await main();
process.exit(0);
