import assert from 'node:assert/strict';
import { Coordinator, formatResultsTable, type CoordinatorEvent } from '../../ts/machine/coordinator.js';
import { createDefaultMachine } from '../../ts/machine/default-machine.js';
import { scratchDatabase, testHostPort, testServer } from '../helpers/db.js';

const login = { username: testServer.user, password: testServer.password };

describe('Coordinator (against the test server)', () => {
  let db: Awaited<ReturnType<typeof scratchDatabase>>;
  before(async () => {
    db = await scratchDatabase('trt_coord');
  });
  after(async () => {
    await db.drop();
  });

  it('runs 3 connections concurrently and reports per-connection results', async () => {
    const coordinator = new Coordinator(
      ['conn_1', 'conn_2', 'conn_3'].map((name) => ({
        name,
        context: { address: testHostPort, ...login, database: db.name },
      })),
    );
    const events: CoordinatorEvent[] = [];
    coordinator.on('event', (e: CoordinatorEvent) => events.push(e));
    const readyWaiter = coordinator.allReady(30_000);
    try {
      const statuses = await coordinator.run();
      await readyWaiter;
      assert.deepEqual(
        statuses.map((s) => [s.name, s.status, s.ready]),
        [
          ['conn_1', 'completed', true],
          ['conn_2', 'completed', true],
          ['conn_3', 'completed', true],
        ],
      );
      const threadIds = new Set([...coordinator.connections().values()].map((c) => c.threadId));
      assert.equal(threadIds.size, 3, 'three distinct server sessions');
      const table = coordinator.resultsTable();
      assert.equal(table.length, 3);
      for (const row of table) {
        assert.equal(row.address, `${testServer.host}:${testServer.port}`);
        assert.notEqual(row.server, '');
        assert.match(row.version, /^\d+\.\d+\.\d+$/);
        assert.equal(row.steps, 6);
        assert.equal(row.error, '');
      }
      assert.match(formatResultsTable(table), /^connection\s+address\s+status/);
      const types = events.map((e) => e.type);
      assert.equal(types.filter((t) => t === 'connection_established').length, 3);
      assert.equal(types.filter((t) => t === 'all_ready').length, 1);
      assert.equal(types.at(-1), 'test_completed');
    } finally {
      await coordinator.close();
    }
  });

  it('reports a failing connection without failing the others, and the barrier skips it', async () => {
    const arrivals: string[] = [];
    const coordinator: Coordinator = new Coordinator(
      [
        { name: 'good_1', address: testHostPort },
        { name: 'bad', address: '127.0.0.1:1' },
        { name: 'good_2', address: testHostPort },
      ].map(({ name, address }) => ({
        name,
        context: { address, ...login },
        machine: (connName, coord) =>
          createDefaultMachine({ next: 'workload' }).register('workload', {
            async execute() {
              coord.shared.set(connName, 'loaded');
              await coord.barrier('loaded', connName, 20_000);
              // after the barrier every live connection has written its entry
              arrivals.push(`${connName}:${[...coord.shared.keys()].sort().join(',')}`);
              return 'Completed';
            },
          }),
      })),
    );
    try {
      const statuses = await coordinator.run();
      const byName = new Map(statuses.map((s) => [s.name, s]));
      assert.equal(byName.get('good_1')!.status, 'completed');
      assert.equal(byName.get('good_2')!.status, 'completed');
      assert.equal(byName.get('bad')!.status, 'failed');
      assert.match(byName.get('bad')!.error!, /cannot connect to 127\.0\.0\.1:1: connection refused/);
      assert.deepEqual(arrivals.sort(), ['good_1:good_1,good_2', 'good_2:good_1,good_2']);
      const badRow = coordinator.resultsTable().find((r) => r.connection === 'bad')!;
      assert.equal(badRow.status, 'failed');
      assert.match(badRow.error, /connection refused/);
      await assert.rejects(coordinator.allReady(), /connection 'bad' failed/);
      assert.ok(coordinator.events.some((e) => e.type === 'connection_failed' && e.from === 'bad'));
    } finally {
      await coordinator.close();
    }
  });

  it('delivers broadcasts once and not back to the sender', () => {
    const coordinator = new Coordinator([
      { name: 'a', context: {} },
      { name: 'b', context: {} },
    ]);
    const seenByA: string[] = [];
    const seenByB: string[] = [];
    coordinator.subscribe('a', (e) => {
      seenByA.push(e.type);
      if (e.type === 'ping') coordinator.broadcast('pong', undefined, 'a'); // replying cannot loop
    });
    coordinator.subscribe('b', (e) => seenByB.push(e.type));
    coordinator.broadcast('ping', { n: 1 }, 'b');
    assert.deepEqual(seenByA, ['ping']);
    assert.deepEqual(seenByB, ['pong']);
    assert.deepEqual(
      coordinator.events.map((e) => e.type),
      ['ping', 'pong'],
    );
  });
});
