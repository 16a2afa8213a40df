// One custom-data store per machine: what a TypeScript handler puts in ctx.customData a
// Python handler finds in context.custom_data, and the other way round, on a lane and inline.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  IMPORT_JOBS_KEY,
  PythonRuntime,
  StateContext,
  StateMachine,
  loadPythonHandlers,
  type ImportJobsSnapshot,
  type LoadResult,
} from '../../ts/index.js';

const HANDLERS = `from test_rig import PyStateHandler


class ReadWriteHandler(PyStateHandler):
    state = "PyMiddle"

    def execute(self, context):
        data = context.custom_data
        seen = {k: data[k] for k in sorted(data)}
        assert "importJobs" not in data, "the monitor's snapshot is TypeScript's own"
        assert "fn" not in data and "map" not in data, "values that do not cross stay TypeScript's"
        data["seen"] = seen
        data["from_py"] = {"n": 2 ** 70, "t": (1, "two"), "b": b"\\x00\\xff"}
        data["counter"] = data["counter"] + 1
        data["py_only"] = {1, 2}
        del data["gone"]
        return "TsLast"


class InlineReadWriteHandler(ReadWriteHandler):
    state = "PyInline"
    inline = True
`;

describe('custom data shared by TypeScript and Python handlers', function () {
  this.timeout(120_000);
  let dir: string;
  let loaded: LoadResult;
  const machine = new StateMachine();
  const contexts: StateContext[] = [];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shared-data-'));
    fs.writeFileSync(path.join(dir, 'shared_handlers.py'), HANDLERS);
    loaded = await loadPythonHandlers(machine, path.join(dir, 'shared_handlers.py'));
    const fn = (): number => 1;
    machine.register('TsFirst', {
      execute(ctx) {
        ctx.customData.set('counter', 41);
        ctx.customData.set('nested', { list: [1, 'a', null, true], big: 2n ** 64n, f: 1.5 });
        ctx.customData.set('bytes', Buffer.from([0, 1, 255]));
        ctx.customData.set('gone', 'deleted by Python');
        ctx.customData.set('fn', fn);
        ctx.customData.set('map', new Map([['k', 1]]));
        return ctx.params.inline ? 'PyInline' : 'PyMiddle';
      },
    });
    machine.register('TsLast', {
      execute(ctx) {
        ctx.params.afterPython = {
          keys: ctx.customData.keys().sort(),
          counter: ctx.customData.get('counter'),
          fromPy: ctx.customData.get('from_py'),
          seen: ctx.customData.get('seen'),
          hasGone: ctx.customData.has('gone'),
          hasPyOnly: ctx.customData.has('py_only'),
          fnKept: ctx.customData.get('fn') === fn,
        };
        return 'Completed';
      },
    });
  });
  after(async () => {
    for (const ctx of contexts) await PythonRuntime.get().release(ctx);
    loaded.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const inline of [false, true]) {
    it(`crosses both ways through one store (${inline ? 'inline' : 'lane'} handler)`, async () => {
      const ctx = new StateContext({ params: { inline } });
      contexts.push(ctx);
      const snapshot: ImportJobsSnapshot = { poll: 1, jobs: [], active: [], columns: [], rows: [] };
      ctx.customData.set(IMPORT_JOBS_KEY, snapshot);
      const result = await machine.run(ctx, { initialState: 'TsFirst' });
      assert.equal(result.finalState, 'Completed', ctx.errorMessage);
      const after = ctx.params.afterPython as Record<string, unknown>;
      assert.deepEqual(after.seen, {
        bytes: Buffer.from([0, 1, 255]),
        counter: 41,
        gone: 'deleted by Python',
        nested: { list: [1, 'a', null, true], big: 2n ** 64n, f: 1.5 },
      });
      assert.equal(after.counter, 42);
      assert.deepEqual(after.fromPy, { n: 2n ** 70n, t: [1, 'two'], b: Buffer.from([0, 255]) });
      assert.equal(after.hasGone, false);
      assert.equal(after.hasPyOnly, false, 'a Python set does not cross: TypeScript does not see it');
      assert.equal(after.fnKept, true, 'a function stays TypeScript’s, the same object');
      assert.deepEqual(after.keys, [
        'bytes',
        'counter',
        'fn',
        'from_py',
        IMPORT_JOBS_KEY,
        'map',
        'nested',
        'seen',
      ]);
      assert.equal(ctx.customData.get(IMPORT_JOBS_KEY), snapshot, 'the snapshot keeps its identity');

      // After the Python context is released the values stay readable from TypeScript.
      await PythonRuntime.get().release(ctx);
      assert.equal(ctx.customData.get('counter'), 42);
      assert.equal(ctx.customData.has('py_only'), false);
    });
  }
});
