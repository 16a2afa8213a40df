// Run as a child process by the runtime tests: starts the embedded runtime
// under whatever TEST_RIG_PYTHON / VIRTUAL_ENV says, runs a handler and
// prints one JSON line describing what happened.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection, PythonRuntime, StateContext, StateMachine, loadPythonHandlers } from '../../ts/index.js';
import { testServer } from '../helpers/db.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../../test/python/fixtures');
const mode = process.argv[2] ?? 'smoke';

const machine = new StateMachine();
const exiting = mode.startsWith('exit');
const file = exiting ? 'exit_cases.py' : 'basic_handlers.py';
await loadPythonHandlers(machine, path.join(fixtures, file));
const ctx = new StateContext();
const result = await machine.run(ctx, { initialState: exiting ? 'Leak' : 'Echo' });
const rt = PythonRuntime.get();
// mode 'asyncio': async handlers on a lane with a real connection, as this Python's asyncio runs them
let asyncio: unknown = null;
if (mode === 'asyncio') {
  const { host, port, user, password } = testServer;
  const actx = new StateContext({ host, port, username: user, password });
  actx.connection = await Connection.open({ host, port, user, password });
  const minor = Number(rt.python.version.split('.')[1]);
  const states = ['AsyncSleep', ...(minor >= 11 ? ['AsyncTimeouts'] : [])];
  for (const initialState of states) await machine.run(actx, { initialState });
  asyncio = rt.call(rt.mirror(actx).ref, '__getattribute__', ['custom_data']);
  // Packed query results, exact and untracked by the GC on every path (types change
  // between versions: Decimal is a GC type from 3.13 on). Each run raises if not.
  const packed = new StateMachine();
  await loadPythonHandlers(packed, path.join(fixtures, 'packed_rows.py'));
  for (const initialState of ['PackedSync', 'PackedAsync', 'PackedInline'])
    await packed.run(actx, { initialState });
  await rt.release(actx);
  await actx.closeConnections();
}
// mode 'asyncio' too: an inline handler spinning in Python past its deadline gets an
// InlineDeadlineError (how the watchdog reaches the JS thread differs by version).
let inlineDeadline: unknown = null;
if (mode === 'asyncio') {
  const spin = new StateContext();
  spin.params = { seconds: 20 };
  try {
    await machine.run(spin, { initialState: 'InlineSpin', stateTimeoutMs: 300 });
    inlineDeadline = 'not interrupted';
  } catch (err) {
    inlineDeadline = (err as { cause?: { pyType?: string } }).cause?.pyType ?? String(err);
  }
}
const probe = rt.importModule('sys');
const out = {
  finalState: result.finalState,
  version: rt.python.version,
  executable: rt.python.executable,
  prefix: rt.python.prefix,
  syspath: rt.call(probe, '__getattribute__', ['path']),
  extra: mode === 'venv' ? rt.call(rt.importModule('venv_marker'), '__getattribute__', ['MARK']) : null,
  asyncio,
  inlineDeadline,
};
process.stdout.write(JSON.stringify(out) + '\n');
if (mode === 'exit') process.exit(0); // explicit exit: Node skips cleanup hooks; shutdown must still flush
