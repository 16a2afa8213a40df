// How well shards balance: for suites whose case times are skewed (a few long
// cases among many short ones), the longest shard's time over the ideal
// (the average, or the longest case if longer), split by case count and by an earlier run's durations,
// and the planning cost of the durations split as a ratio to the count split.
// The times are drawn from a seeded generator, so the balance figures are the
// same on every machine. `node dist/bench/shard.js [--quick]`.
import { prng } from '../ts/datagen/generate.js';
import { assignShards } from '../ts/runner/shard.js';

const quick = process.argv.includes('--quick');

/** Case times in ms: log-normal (median 2 s), so a handful of cases take minutes. */
function suite(cases: number, seed: number): Map<string, number> {
  const r = prng(seed); // seeded: every run draws the same suites
  const out = new Map<string, number>();
  for (let i = 0; i < cases; i++) {
    const z = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
    out.set(`suite${i % 7}/test_${i % 13}.py::Case${i}Handler`, Math.round(2000 * Math.exp(1.2 * z)));
  }
  return out;
}

function makespanRatio(durations: Map<string, number>, count: number, useDurations: boolean): number {
  const owner = assignShards([...durations.keys()], count, useDurations ? durations : undefined);
  const load = new Array<number>(count).fill(0);
  for (const [id, s] of owner) load[s - 1] += durations.get(id)!;
  const total = load.reduce((a, b) => a + b, 0);
  // no split beats the average, nor the longest case
  return Math.max(...load) / Math.max(total / count, ...durations.values());
}

console.log('longest shard / lower bound (1.00 = perfect), median over 5 seeded suites');
console.log('cases  shards  by count  by durations');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const cases of quick ? [200] : [50, 200, 1000]) {
  for (const shards of [4, 8, 16]) {
    const seeds = [1, 2, 3, 4, 5];
    const byCount = median(seeds.map((s) => makespanRatio(suite(cases, s), shards, false)));
    const byTime = median(seeds.map((s) => makespanRatio(suite(cases, s), shards, true)));
    console.log(
      `${String(cases).padStart(5)}  ${String(shards).padStart(6)}  ${byCount.toFixed(2).padStart(8)}  ${byTime.toFixed(2).padStart(12)}`,
    );
  }
}

// planning cost: the durations split against the count split, same ids, same run
const big = suite(quick ? 2000 : 10_000, 9);
const ids = [...big.keys()];
const time = (fn: () => void, reps: number) => {
  const samples: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    fn();
    samples.push(performance.now() - t0);
  }
  return median(samples);
};
const reps = quick ? 3 : 9;
const countMs = time(() => assignShards(ids, 16), reps);
const durMs = time(() => assignShards(ids, 16, big), reps);
console.log(
  `\nplanning ${ids.length} cases into 16 shards: by durations takes ${(durMs / countMs).toFixed(1)}x the time of by count (${durMs.toFixed(1)} ms vs ${countMs.toFixed(1)} ms)`,
);
