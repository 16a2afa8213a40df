// Hot reloading of Python handlers during a live run.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  PythonRuntime,
  StateContext,
  StateMachine,
  loadPythonHandlers,
  type LoadResult,
} from '../../ts/index.js';

let helper = 'helper';
const HANDLERS = (version: number, extra = '') => `
from test_rig import PyState, PyStateHandler
from ${helper} import label

VERSION = ${version}


class WorkHandler(PyStateHandler):
    state = "Work"

    def __init__(self):
        super().__init__()
        self.visits = 0

    def execute(self, context):
        self.visits += 1
        context.custom_data.setdefault("log", []).append([VERSION, label(), self.visits])
        return "Gate" if len(context.custom_data["log"]) < context.params["visits"] else PyState.completed()
${extra}`;

const KEEP_STATE = `
    def __reload__(self, old):
        self.visits = old.visits
`;

describe('hot reloading of Python handlers', function () {
  let dir: string;
  let loaded: LoadResult | undefined;

  let n = 0;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trreload-'));
    helper = `helper_${process.pid}_${n++}`; // module names are process-wide: one per test
    fs.writeFileSync(path.join(dir, `${helper}.py`), 'def label():\n    return "first"\n');
  });
  afterEach(() => {
    loaded?.dispose();
    loaded = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /**
   * Runs Work → Gate → Work … where the TypeScript Gate handler lets the test
   * act (edit files, wait for the reload) between two entries of Work.
   */
  async function liveRun(steps: Array<() => Promise<void>>, handlersSource: string) {
    const file = path.join(dir, 'handlers.py');
    fs.writeFileSync(file, handlersSource);
    const errors: string[] = [];
    let reloads = 0;
    let reloaded: () => void = () => undefined;
    const machine = new StateMachine();
    loaded = await loadPythonHandlers(machine, file, {
      watch: {
        debounceMs: 30,
        onReload: () => {
          reloads++;
          reloaded();
        },
        onError: (e) => {
          errors.push(e.message);
          reloaded();
        },
      },
    });
    let gate = 0;
    machine.register('Gate', {
      execute: async () => {
        const step = steps[gate++];
        if (step) {
          const done = new Promise<void>((resolve) => (reloaded = resolve));
          await step();
          await done;
        }
        return 'Work';
      },
    });
    const ctx = new StateContext({ params: { visits: steps.length + 1 } });
    await machine.run(ctx, { initialState: 'Work' });
    const rt = PythonRuntime.get();
    const data = rt.call(rt.mirror(ctx).ref, '__getattribute__', ['custom_data']) as { log: unknown[] };
    await rt.release(ctx);
    return { log: data.log, errors, reloads };
  }

  const write = (name: string, text: string) => async () => fs.writeFileSync(path.join(dir, name), text);

  it('uses the new code at the next state entry; a broken save keeps the old code and is reported once', async () => {
    const r = await liveRun(
      [
        write('handlers.py', HANDLERS(2)),
        write(
          'handlers.py',
          HANDLERS(3).replace('def execute(self, context):', 'def execute(self, context)'),
        ),
        write('handlers.py', HANDLERS(4)),
      ],
      HANDLERS(1),
    );
    // Without __reload__ each reload re-creates the instance: visits restarts at 1.
    assert.deepEqual(r.log, [
      [1, 'first', 1],
      [2, 'first', 1],
      [2, 'first', 2],
      [4, 'first', 1],
    ]);
    assert.equal(r.errors.length, 1);
    assert.match(
      r.errors[0],
      /reload failed, keeping the previous handlers: .*handlers\.py:\d+: SyntaxError/,
    );
    assert.equal(r.reloads, 2);
  });

  it('reloads a handler when a helper module it imports changes', async () => {
    const r = await liveRun(
      [async () => write(`${helper}.py`, 'def label():\n    return "second"\n')()],
      HANDLERS(1),
    );
    assert.deepEqual(r.log, [
      [1, 'first', 1],
      [1, 'second', 1],
    ]);
  });

  it('keeps instance data across a reload when the class defines __reload__(old)', async () => {
    const r = await liveRun([write('handlers.py', HANDLERS(2, KEEP_STATE))], HANDLERS(1, KEEP_STATE));
    assert.deepEqual(r.log, [
      [1, 'first', 1],
      [2, 'first', 2],
    ]);
  });

  it('watches nothing unless asked', async () => {
    const file = path.join(dir, 'handlers.py');
    fs.writeFileSync(file, HANDLERS(1));
    loaded = await loadPythonHandlers(new StateMachine(), file);
    assert.equal(loaded.watcher, undefined);
  });
});
