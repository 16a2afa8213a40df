// The exit probe: runs a default-path (lane) handler, makes one inline call and
// ends naturally, with no process.exit(), so Node runs the addon's environment
// cleanup. A thread-safe-function wake-up still in flight then must be dropped
// quietly, never abort the process. Mode `poller` (needs the test server) leaves
// a Python thread making blocking calls to JS as the process ends, so a wake-up
// is almost always in flight. Prints one line, "ok <final state>". Used by the
// runtime tests and by the CI loop in .ci/run (many runs, under CPU load).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection, PythonRuntime, StateContext, StateMachine, loadPythonHandlers } from '../../ts/index.js';
import { testServer } from '../helpers/db.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../../test/python/fixtures');
const poller = process.argv[2] === 'poller';
const machine = new StateMachine();
await loadPythonHandlers(machine, path.join(fixtures, poller ? 'exit_cases.py' : 'basic_handlers.py'));
const ctx = new StateContext();
if (poller) {
  const { host, port, user, password } = testServer;
  ctx.connection = await Connection.open({ host, port, user, password });
}
const result = await machine.run(ctx, { initialState: poller ? 'Poller' : 'Echo' });
const rt = PythonRuntime.get();
rt.call(rt.importModule('sys'), '__getattribute__', ['version']);
if (poller) {
  await new Promise((resolve) => setTimeout(resolve, 20)); // let the thread's calls flow
  await rt.release(ctx);
  await ctx.closeConnections();
}
process.stdout.write(`ok ${result.finalState}\n`);
