// Python handlers inside the TypeScript state machine, with real
// database access through connections TypeScript owns (local MariaDB).
import assert from 'node:assert/strict';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  Connection,
  PythonRuntime,
  StateContext,
  StateMachine,
  loadPythonHandlers,
  type LoadResult,
  type StateHandler,
} from '../../ts/index.js';
import { scratchDatabase, testServer } from '../helpers/db.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../../test/python/fixtures');
const handlersFile = path.join(fixtures, 'basic_handlers.py');

/** The Python context's custom_data, as JS sees it. */
function pyCustomData(ctx: StateContext): Record<string, unknown> {
  const rt = PythonRuntime.get();
  return rt.call(rt.mirror(ctx).ref, '__getattribute__', ['custom_data']) as Record<string, unknown>;
}

describe('Python handler engine', function () {
  let db: { name: string; drop: () => Promise<void> };
  const open: StateContext[] = [];
  const loads: LoadResult[] = [];

  before(async () => {
    db = await scratchDatabase('engine');
  });
  after(async () => {
    await db.drop();
  });
  afterEach(async () => {
    for (const ctx of open.splice(0)) {
      await PythonRuntime.get().release(ctx);
      await ctx.closeConnections();
    }
    for (const l of loads.splice(0)) l.dispose();
  });

  /** A machine with the fixture handlers and a context connected to the scratch database. */
  async function setup(
    mapping?: Record<string, string>,
    file = handlersFile,
  ): Promise<{ machine: StateMachine; ctx: StateContext; loaded: LoadResult }> {
    const machine = new StateMachine();
    const loaded = await loadPythonHandlers(machine, file, { mapping });
    loads.push(loaded);
    const ctx = new StateContext({
      host: testServer.host,
      port: testServer.port,
      username: testServer.user,
      password: testServer.password,
      database: db.name,
    });
    ctx.connection = await Connection.open({
      host: testServer.host,
      port: testServer.port,
      user: testServer.user,
      password: testServer.password,
      database: db.name,
    });
    ctx.connections.set('main', ctx.connection);
    await ctx.connection.detectServer();
    ctx.server = ctx.connection.server;
    open.push(ctx);
    return { machine, ctx, loaded };
  }

  it('round-trips every supported type exactly, both directions, with col_N aliases', async () => {
    const { machine, ctx } = await setup();
    const result = await machine.run(ctx, { initialState: 'Types' });
    assert.equal(result.finalState, 'Completed');
  });

  it('raises DatabaseError subclasses carrying errno and sqlstate', async () => {
    const { machine, ctx } = await setup();
    await machine.run(ctx, { initialState: 'ErrorClasses' });
    assert.deepEqual(pyCustomData(ctx).seen, [
      ['DuplicateKeyError', 1062, '23000'],
      ['SQLSyntaxError', 1064, '42000'],
      ['NoSuchTableError', 1146, '42S02'],
    ]);
  });

  it('raises a real two-connection deadlock as DeadlockError', async () => {
    const { machine, ctx } = await setup();
    await machine.run(ctx, { initialState: 'Deadlock' });
    const outcome = pyCustomData(ctx).outcome as Record<string, unknown>;
    const verdicts = Object.values(outcome);
    assert.equal(verdicts.filter((v) => v === 'ok').length, 1, JSON.stringify(outcome));
    assert.deepEqual(
      verdicts.find((v) => v !== 'ok'),
      ['DeadlockError', 1213],
    );
  });

  it('interleaves statements across connections from Python (start, expect_blocked, wait)', async () => {
    const { machine, ctx } = await setup();
    await machine.run(ctx, { initialState: 'Interleaving' });
    assert.deepEqual(pyCustomData(ctx).interleaving, [2, true, true]);
  });

  it('awaits async handlers: asyncio.sleep, gather, wait_for and await query', async () => {
    const { machine, ctx } = await setup();
    await machine.run(ctx, { initialState: 'AsyncSleep' });
    assert.deepEqual(pyCustomData(ctx).async, ['ab', true]);
  });

  it('runs asyncio.timeout, TaskGroup and wait_for in async handlers, a timeout firing during a query', async () => {
    const { machine, ctx } = await setup();
    await machine.run(ctx, { initialState: 'AsyncTimeouts' });
    assert.deepEqual(pyCustomData(ctx).timeouts, {
      task: true,
      timed_out: true,
      five: 5,
      wait_for_timed_out: true,
      group: [1, 'slept'],
    });
  });

  it('lets a sync handler run asyncio.run() on the lane right after an async visit there', async () => {
    const { machine, ctx } = await setup();
    const result = await machine.run(ctx, { initialState: 'AsyncStep' });
    assert.deepEqual(result.history, ['AsyncStep', 'SyncAsyncioRun', 'Completed']);
    assert.equal(pyCustomData(ctx).asyncio_run, 7);
  });

  it("runs the user guide's AsyncHandler as written (blocking call inside a coroutine)", async () => {
    const { machine, ctx } = await setup(
      { AsyncHandler: 'GuideAsync' },
      path.join(fixtures, 'guide_async.py'),
    );
    const result = await machine.run(ctx, { initialState: 'GuideAsync' });
    assert.equal(result.finalState, 'Completed');
  });

  it('lets handler threads issue blocking queries on several connections at once', async () => {
    const { machine, ctx } = await setup();
    await machine.run(ctx, { initialState: 'Threaded' });
    const ids = pyCustomData(ctx).ids as number[];
    assert.equal(new Set(ids).size, 3);
  });

  it('keeps handler state on the instance: enter once, execute per step, exit once', async () => {
    const { machine, ctx, loaded } = await setup();
    await machine.run(ctx, { initialState: 'Echo' });
    const echo = loaded.handlers.find((h) => h.info.name === 'EchoHandler')!;
    const rt = PythonRuntime.get();
    assert.deepEqual(rt.call(echo.handler.instance, '__getattribute__', ['visits']), [
      'enter',
      'execute',
      'execute',
      'execute',
      'exit',
    ]);
  });

  it('fails the run on an unknown state, naming the handler file:line', async () => {
    const { machine, ctx } = await setup();
    await assert.rejects(machine.run(ctx, { initialState: 'UnknownState' }), (err: Error) => {
      assert.match(err.message, /NoSuchStateAnywhere/);
      assert.match(err.message, /UnknownStateHandler \(.*basic_handlers\.py:\d+\)/);
      return true;
    });
  });

  it('fails the run on a non-string return, naming the method file:line', async () => {
    const { machine, ctx } = await setup();
    await assert.rejects(
      machine.run(ctx, { initialState: 'BadReturn' }),
      /BadReturnHandler\.execute \(.*basic_handlers\.py:\d+\) returned number 42, not a state string/,
    );
  });

  it('fails the run on PyState.error(...)', async () => {
    const { machine, ctx } = await setup();
    await assert.rejects(machine.run(ctx, { initialState: 'ErrorState' }), /the check failed/);
  });

  it('runs inline handlers on the JS thread with awaited queries', async () => {
    const { machine, ctx } = await setup();
    await machine.run(ctx, { initialState: 'InlineQuery' });
    assert.deepEqual(pyCustomData(ctx), { thread: 'MainThread', seven: 7 });
  });

  it('runs an inline async visit (enter, execute, exit each awaiting a query) and blames failures on their method', async () => {
    const { machine, ctx } = await setup();
    const result = await machine.run(ctx, { initialState: 'InlineAsyncVisit' });
    assert.equal(result.steps, 2);
    assert.deepEqual(pyCustomData(ctx).inline_log, ['enter', 'execute', 'execute', 'exit']);
    await assert.rejects(
      machine.run(ctx, { initialState: 'InlineAsyncEnterFails' }),
      /InlineAsyncEnterFailsHandler\.enter raised RuntimeError: an inline handler awaited <Future pending.*: .*remove `inline = True`.* \(at .*basic_handlers\.py:\d+\)/,
    );
    await assert.rejects(
      machine.run(ctx, { initialState: 'InlineAsyncExitFails' }),
      /InlineAsyncExitFailsHandler\.exit raised ValueError: exit went wrong \(at .*basic_handlers\.py:\d+\)/,
    );
  });

  it('runs an inline handler again while a timed-out visit of it still awaits its query', async () => {
    const { machine, ctx } = await setup();
    const rejections: unknown[] = [];
    const onRejection = (e: unknown) => rejections.push(e);
    process.on('unhandledRejection', onRejection);
    try {
      ctx.params = { sleep: 0.6 };
      await assert.rejects(
        machine.run(ctx, { initialState: 'InlineSlow', stateTimeoutMs: 100 }),
        /timed out after 100 ms/,
      );
      // The abandoned coroutine still holds the handler's slot, awaiting SLEEP(0.6) on ctx's connection.
      const second = await setup();
      second.machine.register('InlineSlow', machine.handlerFor('InlineSlow')!);
      second.ctx.params = { sleep: 0 };
      await second.machine.run(second.ctx, { initialState: 'InlineSlow' });
      assert.equal(pyCustomData(second.ctx).finished, 1);
      // ...and finishes on its own once its statement returns.
      for (let i = 0; i < 50 && pyCustomData(ctx).finished === undefined; i++) await sleep(50);
      assert.equal(pyCustomData(ctx).finished, 2);
      assert.deepEqual(rejections, []);
    } finally {
      process.off('unhandledRejection', onRejection);
    }
  });

  it('refuses a blocking call in an inline handler with advice instead of deadlocking', async () => {
    const { machine, ctx } = await setup();
    await assert.rejects(
      machine.run(ctx, { initialState: 'InlineBlocking' }),
      /would deadlock.*await context\.connection\.query/,
    );
    // asyncio.sleep is no blocking call: JS waits for its timer
    assert.equal((await machine.run(ctx, { initialState: 'InlineSleep' })).finalState, 'Completed');
  });

  it('fails, instead of hanging, an inline handler that waits for threads making blocking calls', async () => {
    const { machine, ctx } = await setup();
    await ctx.connection!.query('CREATE TABLE inline_threads (i INT)');
    await assert.rejects(
      machine.run(ctx, { initialState: 'InlineWaitsForThreads' }),
      /InlineWaitsForThreadsHandler\.execute raised RuntimeError: this blocking call was not made.*remove `inline = True`/,
    );
    // The withdrawn statements never reach the server, not even once the handler is gone.
    await sleep(200);
    const { rows } = await ctx.connection!.query('SELECT COUNT(*) AS n FROM inline_threads');
    assert.deepEqual(rows, [{ n: 0 }]);
  });

  it('interrupts an inline handler still running Python at its deadline (stateTimeoutMs), and only that call', async () => {
    const { machine, ctx } = await setup();
    ctx.params = { seconds: 60 };
    await assert.rejects(
      machine.run(ctx, { initialState: 'InlineSpin', stateTimeoutMs: 300 }),
      (err: Error & { cause?: { pyType?: string } }) => {
        assert.match(err.message, /^state 'InlineSpin' timed out after 300 ms in InlineSpinHandler/);
        assert.equal(err.cause?.pyType, 'InlineDeadlineError');
        return true;
      },
    );
    assert.ok(Number(pyCustomData(ctx).spun) > 0);
    // A short call right after, with a deadline of its own, and one without: untouched.
    ctx.params = { seconds: 0.05 };
    assert.equal(
      (await machine.run(ctx, { initialState: 'InlineSpin', stateTimeoutMs: 5000 })).finalState,
      'Completed',
    );
    assert.equal((await machine.run(ctx, { initialState: 'InlineSpin' })).finalState, 'Completed');
  });

  it("serves a lane's blocking query once a long inline call of another machine ends (never withdrawn)", async () => {
    const lane = await setup();
    const inline = await setup();
    const queried = lane.machine.run(lane.ctx, { initialState: 'PausedQuery' });
    await sleep(50); // the lane job is running: it queries in 150 ms, while JS is held for 2.5 s
    inline.ctx.params = { seconds: 2.5 };
    await inline.machine.run(inline.ctx, { initialState: 'InlineNap' });
    assert.equal((await queried).finalState, 'Completed');
    assert.equal(pyCustomData(lane.ctx).one, 1);
  });

  it('runs handlers of different machines concurrently (each machine has its own lane)', async () => {
    const a = await setup();
    const b = await setup();
    const [ra, rb] = await Promise.all([
      a.machine.run(a.ctx, { initialState: 'Barrier' }),
      b.machine.run(b.ctx, { initialState: 'Barrier' }),
    ]);
    assert.equal(ra.finalState, 'Completed');
    assert.equal(rb.finalState, 'Completed');
  });

  it('mixes TypeScript and Python handlers in one machine', async () => {
    const { machine, ctx } = await setup();
    const ts: StateHandler = { execute: () => 'Echo' };
    machine.register('TsFirst', ts);
    const result = await machine.run(ctx, { initialState: 'TsFirst' });
    assert.deepEqual(result.history, ['TsFirst', 'Echo', 'Completed']);
  });

  it('keeps the Node event loop responsive while a Python handler burns CPU for 2 s', async () => {
    const { machine, ctx } = await setup();
    ctx.params = { seconds: 2 };
    const gaps: number[] = [];
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      gaps.push(now - last);
      last = now;
    }, 1);
    await machine.run(ctx, { initialState: 'Busy' });
    clearInterval(timer);
    gaps.sort((x, y) => x - y);
    const p99 = gaps[Math.floor(gaps.length * 0.99)];
    console.log(
      `      1 ms timer: ${gaps.length} ticks in 2 s, p99 gap ${p99.toFixed(2)} ms, max ${gaps[gaps.length - 1].toFixed(2)} ms`,
    );
    assert.ok(gaps.length > 200, `the timer fired only ${gaps.length} times`);
    assert.ok(gaps[gaps.length - 1] < 500, `the event loop stalled for ${gaps[gaps.length - 1]} ms`);
  });
});
