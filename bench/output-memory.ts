// Memory of a run whose handler prints in a tight loop: `test-rig run` (the
// built CLI, as a user runs it) on a handler printing N lines, for N = 0 (the
// baseline), 10,000, 100,000 and 1,000,000. A case before and a case after the
// printing one read the run process's peak RSS (VmHWM); the table prints each
// growth and its excess over the baseline's, from the same bench run. Not a
// timed test:
//   node dist/bench/output-memory.js [--quick]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.resolve(here, '../ts/cli/main.js');
const quick = process.argv.includes('--quick');
const host = `${process.env.TEST_RIG_TEST_HOST ?? '127.0.0.1'}:${process.env.TEST_RIG_TEST_PORT ?? 3306}`;
const user = process.env.TEST_RIG_TEST_USER ?? 'root';
const counts = quick ? [0, 10_000, 100_000] : [0, 10_000, 100_000, 1_000_000];
// What the run process may gain over the baseline at 1M lines (it was +600 MB at 500k).
const TARGET_MB = 100;

const HANDLERS = `from test_rig import PyState, PyStateHandler

def peak_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

class AFirstHandler(PyStateHandler):
    def execute(self, context):
        print(f"PEAK {peak_mb()}")
        return PyState.completed()

class PrintsHandler(PyStateHandler):
    def execute(self, context):
        for i in range(int(context.params["lines"])):
            print(f"line {i}")
        return PyState.completed()

class ZLastHandler(PyStateHandler):
    def execute(self, context):
        print(f"PEAK {peak_mb()}")
        return PyState.completed()
`;

/** The run process's peak RSS growth (MB) over a run printing `lines` lines. */
function growth(dir: string, lines: number): number {
  const json = path.join(dir, `run-${lines}.jsonl`);
  const r = spawnSync(
    process.execPath,
    [cli, 'run', '-H', host, '-u', user, '--suite-dir', dir, '--param', `lines=${lines}`, '--json', json],
    { env: { ...process.env, TIDB_PASSWORD: process.env.TEST_RIG_TEST_PASSWORD ?? '' }, encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`test-rig run exited ${r.status}: ${r.stderr}`);
  const peaks = new Map<string, number>();
  for (const l of fs.readFileSync(json, 'utf8').split('\n').filter(Boolean)) {
    const e = JSON.parse(l) as { event: string; class?: string; output?: { text: string }[] };
    const m = /^PEAK ([\d.]+)$/.exec(e.output?.[0]?.text ?? '');
    if (e.event === 'case' && e.class && m) peaks.set(e.class, Number(m[1]));
  }
  return peaks.get('ZLastHandler')! - peaks.get('AFirstHandler')!;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'test-rig-output-memory-'));
try {
  fs.writeFileSync(path.join(dir, 'test_prints.py'), HANDLERS);
  console.log(`test-rig output memory — peak RSS of the run process, node ${process.version}`);
  console.log('lines printed   peak RSS growth   over baseline');
  let base = 0;
  let worst = 0;
  for (const n of counts) {
    const g = growth(dir, n);
    if (n === 0) base = g;
    worst = Math.max(worst, g - base);
    console.log(
      `${n.toLocaleString('en-US').padStart(13)}   ${`${g.toFixed(1)} MB`.padStart(15)}   ${n === 0 ? '(baseline)'.padStart(13) : `${(g - base >= 0 ? '+' : '') + (g - base).toFixed(1)} MB`.padStart(13)}`,
    );
  }
  const ok = worst <= TARGET_MB;
  console.log(
    `target: at most +${TARGET_MB} MB over the baseline: ${ok ? 'met' : 'MISSED'} (+${worst.toFixed(1)} MB)`,
  );
  process.exitCode = ok ? 0 : 1;
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
