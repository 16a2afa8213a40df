import assert from 'node:assert/strict';
import { StateMachineError } from '../../ts/errors.js';
import { StateContext } from '../../ts/machine/context.js';
import { createDefaultMachine } from '../../ts/machine/default-machine.js';
import { States } from '../../ts/machine/states.js';
import { scratchDatabase, testHostPort, testServer } from '../helpers/db.js';

function contextFor(extra: Partial<ConstructorParameters<typeof StateContext>[0]> = {}): StateContext {
  return new StateContext({
    address: testHostPort,
    username: testServer.user,
    password: testServer.password,
    ...extra,
  });
}

async function runFailure(machine: ReturnType<typeof createDefaultMachine>, ctx: StateContext) {
  try {
    await machine.run(ctx);
  } catch (err) {
    assert.ok(err instanceof StateMachineError);
    return err;
  } finally {
    await ctx.closeConnections();
  }
  return assert.fail('expected the run to fail');
}

describe('default machine (against the test server)', () => {
  let db: Awaited<ReturnType<typeof scratchDatabase>>;
  before(async () => {
    db = await scratchDatabase('trt_machine');
  });
  after(async () => {
    await db.drop();
  });

  it('runs the full chain: connects, selects the database and records the version', async () => {
    const echoed: string[] = [];
    const ctx = contextFor({ database: db.name, connectionOptions: { echo: (l) => echoed.push(l) } });
    try {
      const result = await createDefaultMachine({ strictTransitions: true }).run(ctx);
      assert.deepEqual(result.history, [
        'Initial',
        'ParsingConfig',
        'Connecting',
        'TestingConnection',
        'VerifyingDatabase',
        'GettingVersion',
        'Completed',
      ]);
      assert.equal(ctx.host, testServer.host);
      assert.equal(ctx.port, testServer.port);
      assert.ok(ctx.serverVersion && ctx.serverVersion.length > 0);
      assert.ok(ctx.server);
      assert.notEqual(ctx.server.kind, 'unknown');
      assert.match(ctx.server.version, /^\d+\.\d+\.\d+$/);
      assert.equal(ctx.connection?.server, ctx.server);
      assert.ok(ctx.connections.has('main'));
      const { rows } = await ctx.connection!.query('SELECT DATABASE() AS db');
      assert.deepEqual(rows, [{ db: db.name }]);
      assert.ok(echoed.includes('[main] SELECT 1'));
      assert.ok(echoed.includes('[main] SELECT VERSION()'));
    } finally {
      await ctx.closeConnections();
    }
  });

  it('goes on to the `next` state after GettingVersion', async () => {
    const machine = createDefaultMachine({ next: 'checking_import_jobs' });
    let visited = false;
    machine.register(States.CheckingImportJobs, {
      execute: (ctx) => {
        visited = ctx.server !== undefined;
        return States.Completed;
      },
    });
    const ctx = contextFor();
    try {
      const result = await machine.run(ctx);
      assert.ok(visited);
      assert.equal(result.history.at(-2), States.CheckingImportJobs);
    } finally {
      await ctx.closeConnections();
    }
  });

  it('fails ParsingConfig on a bad host:port', async () => {
    // (a bare IPv6 address such as ::1 is valid: that address on the default port)
    for (const address of ['127.0.0.1:notaport', '[::1:4000', 'host:99999', ':3306']) {
      const err = await runFailure(createDefaultMachine(), contextFor({ address }));
      assert.equal(err.state, States.ParsingConfig, address);
      assert.match(err.message, /invalid host:port/, address);
    }
  });

  it('parses an IPv6 address and uses it to connect', async () => {
    const ctx = contextFor({ address: `[::1]:${testServer.port}` });
    try {
      await createDefaultMachine().run(ctx);
      assert.equal(ctx.host, '::1'); // the server also listens on IPv6 here
    } catch (err) {
      assert.equal(ctx.host, '::1');
      assert.equal(ctx.port, testServer.port);
      assert.match((err as Error).message, new RegExp(`cannot connect to \\[::1\\]:${testServer.port}`));
    } finally {
      await ctx.closeConnections();
    }
  });

  it('fails the run with a clear message for an unknown database', async () => {
    const err = await runFailure(createDefaultMachine(), contextFor({ database: 'trt_no_such_db_here' }));
    assert.equal(err.state, States.Connecting);
    assert.match(
      err.message,
      /unknown database 'trt_no_such_db_here' — create it first or check -d\/--database/,
    );
  });

  it('fails the run with a clear message for a closed port', async () => {
    const err = await runFailure(createDefaultMachine(), contextFor({ address: '127.0.0.1:1' }));
    assert.match(
      err.message,
      /cannot connect to 127\.0\.0\.1:1: connection refused — is the server running\?/,
    );
  });
});
