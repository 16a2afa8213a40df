// Processes started by handlers: subprocesses get working standard streams
// (their output is the case's), forked children (os.fork, multiprocessing's
// default 'fork') cannot stop or hang the run, and 'spawn' pools work.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI, runCli } from '../helpers/cli.js';
import { casesOf, SERVER_ARGS, SUITES } from './util.js';

/** The run process's script: forked Python children have its command line too. */
const RUN_PROCESS = path.resolve(path.dirname(CLI), '../runner/child.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'test-rig-children-'));

/** Processes (pid, command line) whose parent is `ppid`. */
function childrenOf(ppid: number): string[] {
  const out: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent === ppid)
        out.push(`${pid}: ${fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')}`);
    } catch {
      /* gone */
    }
  }
  return out;
}

describe('reliability: processes started by handlers', function () {
  this.timeout(240_000);
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('subprocess.run(["echo", …], check=True) works; its output is the case output; stdin is /dev/null', async () => {
    const json = path.join(tmp, 'subprocess.jsonl');
    const r = await runCli([
      'run',
      '--suites-dir',
      SUITES,
      'children',
      '--tag',
      'subprocess',
      ...SERVER_ARGS,
      '--json',
      json,
    ]);
    const c = casesOf(json).get('SubprocessHandler');
    assert.equal(c?.status, 'passed', `${c?.message}\n${r.stdout}${r.stderr}`);
    assert.equal(r.code, 0);
    assert.deepEqual(c.output, [
      { stream: 'stdout', text: 'hi from echo' },
      { stream: 'stderr', text: 'to stderr' },
    ]);
  });

  it('multiprocessing fork pools, a bare os.fork() whose child returns into test-rig, inline too: 5 runs out of 5 pass, no orphans', async () => {
    const orphansBefore = childrenOf(1).filter((l) => l.includes(RUN_PROCESS) || l.includes(CLI)).length;
    for (let i = 0; i < 5; i++) {
      const json = path.join(tmp, `fork-${i}.jsonl`);
      const r = await runCli(
        [
          'run',
          '--suites-dir',
          SUITES,
          'children',
          '--tag',
          'fork',
          '--tag',
          'spawn',
          ...SERVER_ARGS,
          '--json',
          json,
        ],
        {
          timeoutMs: 60_000,
        },
      );
      assert.equal(r.signal, null, `run ${i} hung and was killed: ${r.stdout}${r.stderr}`);
      assert.doesNotMatch(r.stderr, /interrupted/, `run ${i}: ${r.stderr}`);
      assert.equal(r.code, 0, `run ${i}: ${r.stdout}${r.stderr}`);
      const c = casesOf(json);
      for (const n of ['ForkPoolHandler', 'SpawnPoolHandler', 'BareForkHandler', 'InlineBareForkHandler'])
        assert.equal(c.get(n)?.status, 'passed', `run ${i}: ${n}: ${c.get(n)?.message}`);
      // the bare child returned from execute: it exited (status 0) instead of hanging
      assert.deepEqual(
        c.get('BareForkHandler')?.output.filter((l) => l.stream === 'stdout'),
        [{ stream: 'stdout', text: 'child exit status 0' }],
      );
      if (i === 0)
        assert.match(
          r.stderr,
          /child refused: test-rig's connections and calls belong to the parent process/,
        );
    }
    const orphansAfter = childrenOf(1).filter((l) => l.includes(RUN_PROCESS) || l.includes(CLI)).length;
    assert.ok(orphansAfter <= orphansBefore, 'orphaned test-rig processes were left');
  });
});
