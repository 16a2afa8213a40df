import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { StateMachineError } from '../../ts/errors.js';
import { StateContext } from '../../ts/machine/context.js';
import type { StateHandler } from '../../ts/machine/handler.js';
import { StateMachine, type TransitionEvent } from '../../ts/machine/machine.js';
import { States } from '../../ts/machine/states.js';

/** A handler built from a function, recording every call into `calls`. */
function recording(
  name: string,
  calls: string[],
  execute: (ctx: StateContext) => string | Promise<string>,
  enterResult?: unknown,
): StateHandler {
  return {
    enter: () => {
      calls.push(`${name}.enter`);
      return enterResult;
    },
    execute: (ctx) => {
      calls.push(`${name}.execute`);
      return execute(ctx);
    },
    exit: () => {
      calls.push(`${name}.exit`);
    },
    describe: () => `${name}Handler (test)`,
  };
}

async function rejection(p: Promise<unknown>): Promise<StateMachineError> {
  const err = await p.then(
    () => assert.fail('expected the run to fail'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof StateMachineError, `expected StateMachineError, got ${inspect(err)}`);
  return err;
}

describe('StateMachine', () => {
  it('follows the visit semantics: enter once per visit, execute every step, exit on leaving', async () => {
    const calls: string[] = [];
    let polls = 0;
    const machine = new StateMachine()
      .register(
        'Initial',
        recording('Initial', calls, () => 'polling'),
      )
      // enter returns a state: informational only, it must not redirect the machine
      .register(
        'polling',
        recording('Polling', calls, () => (++polls < 3 ? 'polling' : 'Completed'), 'Connecting'),
      );
    const transitions: TransitionEvent[] = [];
    machine.on('transition', (t: TransitionEvent) => transitions.push(t));
    const result = await machine.run(new StateContext());
    assert.deepEqual(calls, [
      'Initial.enter',
      'Initial.execute',
      'Initial.exit',
      'Polling.enter',
      'Polling.execute',
      'Polling.execute',
      'Polling.execute',
      'Polling.exit',
    ]);
    assert.equal(result.finalState, States.Completed);
    assert.equal(result.steps, 4);
    assert.deepEqual(result.history, ['Initial', 'polling', 'Completed']);
    assert.deepEqual(transitions, [
      { from: 'Initial', to: 'polling', step: 1 },
      { from: 'polling', to: 'Completed', step: 4 },
    ]);
  });

  it('drives every state with the fallback handler, with enter/exit on each change, until Completed', async () => {
    const calls: string[] = [];
    let n = 0;
    const h = recording('Case', calls, () =>
      ++n === 1 ? 'creating_table' : n < 3 ? 'creating_table' : States.Completed,
    );
    const m = new StateMachine({ fallbackHandler: h });
    const r = await m.run(new StateContext());
    assert.deepEqual(r.history, [States.Initial, 'creating_table', States.Completed]);
    assert.deepEqual(calls, [
      'Case.enter',
      'Case.execute',
      'Case.exit',
      'Case.enter',
      'Case.execute',
      'Case.execute',
      'Case.exit',
    ]);
    assert.equal(m.handlerFor(States.Completed), undefined);
    await rejection(
      new StateMachine({ fallbackHandler: recording('E', [], () => 'Error: boom') }).run(new StateContext()),
    );
  });

  it('normalizes returned legacy state names', async () => {
    const machine = new StateMachine()
      .register('Initial', { execute: () => 'parsing_config' })
      .register('ParsingConfig', { execute: () => 'completed' });
    const result = await machine.run(new StateContext());
    assert.deepEqual(result.history, ['Initial', 'ParsingConfig', 'Completed']);
  });

  it('overwrites a handler registered twice', async () => {
    const machine = new StateMachine()
      .register('Initial', { execute: () => 'Error: first' })
      .register('Initial', { execute: () => 'Completed' });
    assert.equal((await machine.run(new StateContext())).finalState, 'Completed');
  });

  it('rejects with the message of an error state, after running exit, and emits error', async () => {
    const calls: string[] = [];
    const machine = new StateMachine().register(
      'Initial',
      recording('Initial', calls, () => 'Error: disk full'),
    );
    const seen: unknown[] = [];
    machine.on('error', (e) => seen.push(e));
    const ctx = new StateContext();
    const err = await rejection(machine.run(ctx));
    assert.equal(err.message, 'disk full');
    assert.equal(err.state, 'Error: disk full');
    assert.deepEqual(calls, ['Initial.enter', 'Initial.execute', 'Initial.exit']);
    assert.equal(ctx.errorMessage, 'disk full');
    assert.equal(seen.length, 1);
  });

  it('fails on an error state even without an error listener (no unhandled EventEmitter error)', async () => {
    const machine = new StateMachine().register('Initial', { execute: () => 'error:legacy' });
    const err = await rejection(machine.run(new StateContext()));
    assert.equal(err.message, 'legacy');
  });

  it('wraps handler exceptions with state, method and handler and keeps the cause', async () => {
    const boom = new Error('boom');
    const machine = new StateMachine().register('Initial', {
      enter: () => {
        throw boom;
      },
      execute: () => 'Completed',
      describe: () => 'MyHandler (handlers.py:12)',
    });
    const err = await rejection(machine.run(new StateContext()));
    assert.equal(err.cause, boom);
    assert.equal(err.method, 'enter');
    assert.equal(err.handler, 'MyHandler (handlers.py:12)');
    assert.match(err.message, /MyHandler \(handlers\.py:12\)\.enter in state 'Initial' failed: boom/);
  });

  it('rejects a non-string return naming the handler', async () => {
    class NumberHandler implements StateHandler {
      execute(): string {
        return 42 as unknown as string;
      }
    }
    const err = await rejection(
      new StateMachine().register('Initial', new NumberHandler()).run(new StateContext()),
    );
    assert.match(
      err.message,
      /NumberHandler\.execute in state 'Initial' returned 42 instead of a state name/,
    );
  });

  it('rejects a transition to a state without a handler', async () => {
    const machine = new StateMachine().register('Initial', {
      execute: () => 'nowhere',
      describe: () => 'Start',
    });
    const err = await rejection(machine.run(new StateContext()));
    assert.match(err.message, /no handler registered for state 'nowhere' \(returned by Start\.execute/);
  });

  it('validates transitions against the allow-list and allows anything for states without one', async () => {
    const machine = new StateMachine()
      .register('Initial', { execute: () => 'creating_table' })
      .register('creating_table', { execute: () => 'dropping_table' })
      .register('dropping_table', { execute: () => 'Completed' })
      .allowTransitions('creating_table', ['populating_data', 'Completed']);
    const err = await rejection(machine.run(new StateContext()));
    assert.match(err.message, /Invalid transition creating_table → dropping_table/);

    machine.allowTransitions('creating_table', ['dropping_table']);
    assert.deepEqual((await machine.run(new StateContext())).history, [
      'Initial',
      'creating_table',
      'dropping_table',
      'Completed',
    ]);
  });

  it('allows error states regardless of the allow-list', async () => {
    const machine = new StateMachine()
      .register('Initial', { execute: () => 'Error: real reason' })
      .allowTransitions('Initial', ['Completed']);
    assert.equal((await rejection(machine.run(new StateContext()))).message, 'real reason');
  });

  it('stops a handler that returns its own state forever at the step limit', async () => {
    const machine = new StateMachine().register('Initial', {
      execute: () => 'Initial',
      describe: () => 'Spinner',
    });
    const err = await rejection(machine.run(new StateContext(), { maxSteps: 50 }));
    assert.match(err.message, /step limit of 50 reached in state 'Initial' \(Spinner\.execute/);
    assert.equal(err.step, 50);
  });

  it('fires the state timeout even if the handler promise never settles, and aborts ctx.signal', async () => {
    let signal: AbortSignal | undefined;
    const machine = new StateMachine().register('Initial', {
      execute: (ctx) => {
        signal = ctx.signal;
        return new Promise<string>(() => undefined);
      },
      describe: () => 'Hanger',
    });
    const err = await rejection(machine.run(new StateContext(), { stateTimeoutMs: 50 }));
    assert.match(err.message, /state 'Initial' timed out after 50 ms in Hanger\.execute/);
    assert.equal(signal?.aborted, true);
  });

  it('applies the state timeout to a whole visit, loops included', async () => {
    const machine = new StateMachine().register('Initial', {
      execute: () => new Promise<string>((r) => setTimeout(() => r('Initial'), 10)),
    });
    const err = await rejection(machine.run(new StateContext(), { stateTimeoutMs: 80 }));
    assert.match(err.message, /state 'Initial' timed out after 80 ms/);
  });

  it('fires the run timeout across states', async () => {
    const slow = { execute: () => new Promise<string>((r) => setTimeout(() => r('b'), 30)) };
    const machine = new StateMachine()
      .register('Initial', slow)
      .register('b', { execute: () => new Promise<string>((r) => setTimeout(() => r('Initial'), 30)) });
    const err = await rejection(machine.run(new StateContext(), { runTimeoutMs: 100 }));
    assert.match(err.message, /run timed out after 100 ms/);
  });

  it('cancels through an AbortSignal', async () => {
    const controller = new AbortController();
    const machine = new StateMachine().register('Initial', {
      execute: () => new Promise<string>(() => undefined),
    });
    const running = machine.run(new StateContext(), { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('user pressed ctrl-c')), 20);
    const err = await rejection(running);
    assert.match(err.message, /run aborted \(user pressed ctrl-c\)/);
  });

  it('emits completed with the result', async () => {
    const machine = new StateMachine().register('Initial', { execute: () => 'Completed' });
    let completed: unknown;
    machine.on('completed', (r) => (completed = r));
    const result = await machine.run(new StateContext());
    assert.equal(completed, result);
  });

  it('refuses handlers for terminal states', () => {
    assert.throws(() => new StateMachine().register('Completed', { execute: () => 'Completed' }), /terminal/);
    assert.throws(() => new StateMachine().register('Error: x', { execute: () => 'Completed' }), /terminal/);
  });
});

describe('StateContext', () => {
  it('keeps the password out of JSON, inspect and toString', () => {
    const ctx = new StateContext({ host: 'h', port: 1, username: 'u', password: 'hunter2-secret' });
    assert.ok(!JSON.stringify(ctx).includes('hunter2-secret'));
    assert.ok(!inspect(ctx, { depth: 5 }).includes('hunter2-secret'));
    assert.ok(!String(ctx).includes('hunter2-secret'));
    assert.equal(ctx.password, 'hunter2-secret');
  });

  it('offers typed custom data and per-state handler data', () => {
    const ctx = new StateContext();
    ctx.customData.set<number[]>('ids', [1, 2]);
    assert.deepEqual(ctx.customData.get<number[]>('ids'), [1, 2]);
    assert.ok(ctx.customData.has('ids'));
    assert.ok(ctx.customData.delete('ids'));
    assert.equal(ctx.customData.get('ids'), undefined);
    ctx.handlerData.set('polling', { started: 5 });
    assert.deepEqual(ctx.handlerData.get('polling'), { started: 5 });
    assert.deepEqual(ctx.handlerData.remove('polling'), { started: 5 });
    assert.equal(ctx.handlerData.get('polling'), undefined);
  });
});
