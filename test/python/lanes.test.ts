// The lane driver's contract, through the library (loadPythonHandlers + a
// machine): every job settles, whatever the handler raises, and a lane a run
// gave up on never breaks the machine's next run.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Connection,
  PythonRuntime,
  StateContext,
  StateMachine,
  StateMachineError,
  importPythonHandlers,
  loadPythonHandlers,
  PythonHandler,
  type LoadResult,
} from '../../ts/index.js';
import { testServer } from '../helpers/db.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../../test/python/fixtures');
const faultsFile = path.join(fixtures, 'lane_faults.py');
const lineOf = (text: string): number =>
  fs
    .readFileSync(faultsFile, 'utf8')
    .split('\n')
    .findIndex((l) => l.includes(text)) + 1;

/** Settles with the promise, or fails the test after `ms` instead of hanging mocha. */
async function within<T>(ms: number, p: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: still pending after ${ms} ms (hung)`)), ms);
  });
  try {
    return await Promise.race([p, hang]);
  } finally {
    clearTimeout(timer);
  }
}

describe('lanes: every job settles; a lane given up on does not break the machine', function () {
  this.timeout(60_000);
  const loads: LoadResult[] = [];
  const contexts: StateContext[] = [];

  afterEach(async () => {
    for (const ctx of contexts.splice(0)) {
      await PythonRuntime.get().release(ctx);
      await ctx.closeConnections();
    }
    for (const l of loads.splice(0)) l.dispose();
  });

  async function setup(): Promise<{ machine: StateMachine; ctx: StateContext; loaded: LoadResult }> {
    const machine = new StateMachine();
    const loaded = await loadPythonHandlers(machine, faultsFile);
    loads.push(loaded);
    const ctx = new StateContext({ host: testServer.host, port: testServer.port });
    ctx.connection = await Connection.open({
      host: testServer.host,
      port: testServer.port,
      user: testServer.user,
      password: testServer.password,
    });
    contexts.push(ctx);
    return { machine, ctx, loaded };
  }

  const customData = (ctx: StateContext): Record<string, unknown> => {
    const rt = PythonRuntime.get();
    return rt.call(rt.mirror(ctx).ref, '__getattribute__', ['custom_data']) as Record<string, unknown>;
  };

  it('an exception whose __str__ raises fails the run with its type and repr; the lane goes on', async () => {
    const { machine, ctx } = await setup();
    await assert.rejects(
      within(10_000, machine.run(ctx, { initialState: 'Unprintable' }), 'the failing run'),
      /UnprintableHandler\.execute raised Unprintable: Unprintable\('hidden'\)/,
    );
    ctx.params = { seconds: 0 };
    const r = await within(10_000, machine.run(ctx, { initialState: 'SyncNap' }), 'the next run');
    assert.equal(r.finalState, 'Completed');
  });

  it("an exception whose __str__ raises in a handler's __init__ fails the load, without hanging", async () => {
    await assert.rejects(
      within(10_000, importPythonHandlers(path.join(fixtures, 'init_unprintable.py')), 'the load'),
      /cannot load Python handlers from .*init_unprintable\.py: Unprintable: Unprintable\('hidden'\)/,
    );
  });

  for (const state of ['AsyncNap', 'SyncNap']) {
    it(`a timed-out ${state === 'AsyncNap' ? 'async' : 'sync'} lane visit: the next run of the same machine works, on a fresh lane`, async () => {
      const { machine, ctx, loaded } = await setup();
      const first = loaded.lane;
      ctx.params = { seconds: 3600 };
      await assert.rejects(
        within(10_000, machine.run(ctx, { initialState: state, stateTimeoutMs: 300 }), 'the timed-out run'),
        new RegExp(`state '${state}' timed out after 300 ms`),
      );
      // Where the abandoned lane was: the method, and the user's line it was on.
      const stuck = (machine.handlerFor(state) as PythonHandler).stuck;
      const napLine = state === 'AsyncNap' ? 'await asyncio.sleep(' : 'time.sleep(0.01)';
      assert.deepEqual(
        { method: stuck?.method, file: stuck?.file, line: stuck?.line },
        { method: 'execute', file: faultsFile, line: lineOf(napLine) },
      );
      ctx.params = { seconds: 0 };
      for (const next of [state, 'AsyncNap', 'SyncNap', 'AsyncioRun']) {
        const r = await within(10_000, machine.run(ctx, { initialState: next }), `the run of ${next} after`);
        assert.equal(r.finalState, 'Completed');
      }
      assert.equal(customData(ctx).naps, 3);
      assert.notEqual(loaded.lane, first, 'the handlers moved to a fresh lane');
    });
  }

  it('a timeout names the method and line the handler is in, also when a visit starts in enter', async () => {
    // A Python visit runs enter, execute and exit in one call: the machine only
    // knows it called enter, the handler knows it is in exit.
    const { machine, ctx } = await setup();
    ctx.params = { seconds: 3600 };
    const err = await within(
      10_000,
      machine.run(ctx, { initialState: 'SlowExit', stateTimeoutMs: 300 }).then(
        () => undefined,
        (e: unknown) => e,
      ),
      'the timed-out run',
    );
    assert.ok(err instanceof StateMachineError, String(err));
    assert.equal(err.method, 'exit');
    const at = `${faultsFile}:${lineOf('# exit naps here')}`;
    assert.ok(err.message.includes(`.exit at ${at}`), err.message);
  });
});
