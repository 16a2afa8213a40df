// `npm run bench [-- --quick]`: every benchmark, one child process each, in one
// process tree: the peers comparison (writes docs/benchmarks.*), the engine
// bench, the monitor bench and the shard-balance bench. Each child has a time budget
// so the whole run stays bounded; a bench that overruns is killed and reported.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const command = `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`;

// Seconds per bench: full run < 7 min on a 2-core machine, --quick < 60 s.
const benches: { name: string; file: string; node?: string[]; budget: [full: number, quick: number] }[] = [
  { name: 'peers', file: 'peers.js', budget: [110, 30] },
  { name: 'engine', file: 'engine.js', budget: [150, 30] },
  { name: 'monitor', file: 'monitor.js', node: ['--expose-gc'], budget: [110, 12] },
  { name: 'shard', file: 'shard.js', budget: [30, 10] },
];

function run(b: (typeof benches)[number]): Promise<string> {
  const file = path.join(here, b.file);
  if (!existsSync(file)) return Promise.resolve('absent');
  const budget = b.budget[quick ? 1 : 0];
  console.log(`\n=== ${b.name} (${b.file}${quick ? ' --quick' : ''}, budget ${budget} s) ===`);
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...(b.node ?? []), file, ...args], {
      stdio: 'inherit',
      env: { ...process.env, TEST_RIG_BENCH_COMMAND: command },
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, budget * 1000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const s = ((Date.now() - t0) / 1000).toFixed(1);
      resolve(
        timedOut
          ? `TIMED OUT after ${s} s`
          : code === 0
            ? `ok in ${s} s`
            : `FAILED (${signal ?? code}) in ${s} s`,
      );
    });
  });
}

const t0 = Date.now();
const summary: string[] = [];
for (const b of benches) summary.push(`${b.name.padEnd(8)} ${await run(b)}`);
console.log(`\n=== summary (${((Date.now() - t0) / 1000).toFixed(0)} s) ===\n${summary.join('\n')}`);
process.exitCode = summary.some((s) => /FAILED|TIMED OUT/.test(s)) ? 1 : 0;
