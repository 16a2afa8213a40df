// Inline handlers hold the JS thread, so no JS timer or signal handler runs
// while their Python does: their deadlines and Ctrl-C are kept natively
// (native/inline_guard.cc).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PythonRuntime, StateContext, StateMachine, loadPythonHandlers } from '../../ts/index.js';
import { CLI, cleanEnv } from '../helpers/cli.js';
import { SERVER_ARGS } from '../reliability/util.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.join(here, '../../../test/python/fixtures');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('inline handlers: deadlines and Ctrl-C', function () {
  it('stops a handler looping on its own state at its state timeout, not seconds later', async () => {
    const machine = new StateMachine();
    const loaded = await loadPythonHandlers(machine, path.join(fixtures, 'inline_spin.py'));
    const rt = PythonRuntime.get();
    try {
      const runs: Array<{ calls: number; ms: number }> = [];
      let before = 0;
      for (let run = 0; run < 5; run++) {
        const ctx = new StateContext();
        const started = performance.now();
        await assert.rejects(
          machine.run(ctx, { initialState: 'InlineSpin', stateTimeoutMs: 50, maxSteps: 1_000_000 }),
          /timed out after 50 ms/,
        );
        const ms = Math.round(performance.now() - started);
        const { calls } = rt.call(rt.mirror(ctx).ref, '__getattribute__', ['custom_data']) as {
          calls: number;
        };
        runs.push({ calls: calls - before, ms });
        before = calls;
      }
      // ~25 calls of 2 ms fit in 50 ms; a lost deadline let it run on for seconds (hundreds of calls)
      const shown = runs.map((r) => `${r.calls} calls in ${r.ms} ms`).join(', ');
      for (const r of runs) assert.ok(r.calls < 150 && r.ms < 1500, shown);
    } finally {
      loaded.dispose();
    }
  });

  describe('the CLI, signalled while an inline handler holds the JS thread', () => {
    const suites = path.join(fixtures, 'suites');

    /** Starts `test-rig run` on one inline case, waits until it runs, sends the signals `gapMs` apart. */
    async function signalled(handler: string, signals: NodeJS.Signals[], gapMs = 1000) {
      const child = spawn(
        process.execPath,
        [
          CLI,
          'run',
          ...SERVER_ARGS,
          '--suites-dir',
          suites,
          'inline_stuck',
          '-k',
          handler,
          '--timeout',
          '120',
        ],
        { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
        child.on('close', (code, signal) => resolve({ code, signal })),
      );
      const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      try {
        for (let i = 0; i < 300 && !/running 1 case/.test(stdout + stderr); i++) await sleep(50);
        await sleep(1500); // well inside the handler's execute
        const sent = Date.now();
        for (const [k, sig] of signals.entries()) {
          if (k > 0) await sleep(gapMs);
          child.kill(sig);
        }
        const end = await exited;
        return { ...end, ms: Date.now() - sent, stdout, stderr };
      } finally {
        clearTimeout(killer);
      }
    }

    it('Ctrl-C interrupts an inline handler busy in Python: the run stops gracefully, exit 130', async () => {
      const r = await signalled('InlineBusy', ['SIGINT']);
      assert.equal(r.code, 130, `exit ${r.code} (${r.signal}) in ${r.ms} ms: ${r.stderr}`);
      assert.match(r.stderr, /interrupted: cancelling running cases/);
      assert.ok(r.ms < 10_000, `stopped ${r.ms} ms after Ctrl-C`);
    });

    it('SIGTERM does the same, exit 143', async () => {
      const r = await signalled('InlineBusy', ['SIGTERM']);
      assert.equal(r.code, 143, `exit ${r.code} (${r.signal}) in ${r.ms} ms: ${r.stderr}`);
    });

    it('a second Ctrl-C quits at once when the handler is blocked in C (time.sleep) and cannot be interrupted', async () => {
      const r = await signalled('InlineSleeps', ['SIGINT', 'SIGINT']);
      assert.equal(r.code, 130, `exit ${r.code} (${r.signal}) in ${r.ms} ms: ${r.stderr}`);
      assert.ok(r.ms < 10_000, `quit ${r.ms} ms after the first Ctrl-C`);
    });
  });
});
