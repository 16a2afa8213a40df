// Exact values between Python and the server, through both connection APIs
// (fixtures/exact_values.py): parameters as exact, injection-safe literals, and
// results that lose nothing. Hypothesis property tests run in a handler.
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Connection,
  PythonRuntime,
  StateContext,
  StateMachine,
  loadPythonHandlers,
  type LoadResult,
} from '../../ts/index.js';
import { scratchDatabase, testServer } from '../helpers/db.js';

const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../../test/python/fixtures');
const handlersFile = path.join(fixtures, 'exact_values.py');

describe('Python: exact values in both directions (against the test server)', function () {
  this.timeout(300_000);
  let db: { name: string; drop: () => Promise<void> };
  const open: StateContext[] = [];
  const loads: LoadResult[] = [];

  before(async () => {
    db = await scratchDatabase('pyvals');
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

  async function run(state: string): Promise<void> {
    const machine = new StateMachine();
    loads.push(await loadPythonHandlers(machine, handlersFile));
    const ctx = new StateContext({
      host: testServer.host,
      port: testServer.port,
      username: testServer.user,
      password: testServer.password,
      database: db.name,
    });
    open.push(ctx);
    ctx.connection = await Connection.open({ ...testServer, database: db.name });
    ctx.connections.set('main', ctx.connection);
    ctx.server = await ctx.connection.detectServer();
    const result = await machine.run(ctx, { initialState: state });
    assert.equal(result.finalState, 'Completed');
  }

  for (const api of ['Sync', 'Async']) {
    const how = api === 'Sync' ? 'execute_query' : 'await query';
    it(`sends Decimal, big ints, floats, temporal values and bytes exactly, and refuses what has no exact form (${how})`, () =>
      run(`ExactParams${api}`));
    it(`keeps string parameters unable to inject with and without NO_BACKSLASH_ESCAPES (${how})`, () =>
      run(`NoInjection${api}`));
    it(`gives all result sets, repeated columns, SELECT warnings, GEOMETRY bytes and zero dates (${how})`, () =>
      run(`Results${api}`));
  }

  it('sends exact values from an inline handler too (await query on the JS thread)', () =>
    run('ExactParamsInline'));

  it('holds Hypothesis properties per column type (fixed seed, then a random one)', () => run('Properties'));
});
