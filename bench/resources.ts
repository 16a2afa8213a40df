// Resource growth under load: 1,000,000 handler visits on the
// inline sync and async paths, 100,000 on the default (lane) path, and
// 100,000 queries from Python (blocking on the lane, and awaited inline).
// Prints the growth of RSS, the V8 heap and Python's live objects between a
// warm-up run and a measured run of each workload. Not a timed test:
//   node --expose-gc dist/bench/resources.js [--scale 0.1]
import { ResourceProbe, formatGrowth } from './lib/resources.js';

const params = {
  host: process.env.TEST_RIG_TEST_HOST ?? '127.0.0.1',
  port: Number(process.env.TEST_RIG_TEST_PORT ?? 3306),
  user: process.env.TEST_RIG_TEST_USER ?? 'root',
  password: process.env.TEST_RIG_TEST_PASSWORD ?? '',
};
const scaleArg = process.argv.indexOf('--scale');
const scale = scaleArg > 0 ? Number(process.argv[scaleArg + 1]) : 1;
const n = (x: number) => Math.max(100, Math.round(x * scale));

async function main(): Promise<void> {
  const probe = new ResourceProbe();
  await probe.connect(params);
  console.log(
    `test-rig resource growth — Python ${probe.rt.python.version}, node ${process.version}${(globalThis as { gc?: unknown }).gc ? '' : ' (run with --expose-gc for steadier heap numbers)'}`,
  );
  const runs: [string, string, number][] = [
    ['visits, inline sync', 'SPing', n(1_000_000)],
    ['visits, inline async', 'APing', n(1_000_000)],
    ['visits, default path (lane)', 'DPing', n(100_000)],
    ['queries, blocking on the lane', 'Query', n(100_000)],
    ['queries, awaited inline', 'AwaitQuery', n(100_000)],
  ];
  for (const [name, state, ops] of runs) {
    const g = await probe.measure(
      name,
      ops,
      () => probe.visits(state, ops),
      () => probe.visits(state, Math.min(ops, 200_000)),
    );
    console.log(formatGrowth(g));
  }
  await probe.close();
  process.exit(0);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
