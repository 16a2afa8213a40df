// Resource growth, scaled down from bench/resources.ts (which runs the full
// 1,000,000 visits and 100,000 queries and prints the numbers): after a
// warm-up run, a second run of the same workload must not grow Python's live
// objects by 1% or RSS by 20 MB.
import assert from 'node:assert/strict';
import { ResourceProbe, formatGrowth, type Growth } from '../../bench/lib/resources.js';
import { testServer } from '../helpers/db.js';

describe('reliability: resources stay flat', function () {
  this.timeout(60_000);
  let probe: ResourceProbe;
  before(async () => {
    probe = new ResourceProbe();
    await probe.connect(testServer);
  });
  after(async () => {
    await probe.close();
  });

  function flat(g: Growth): void {
    console.log(`      ${formatGrowth(g)}`);
    assert.ok(g.pyObjectsPct < 1, `Python objects grew ${g.pyObjects} (${g.pyObjectsPct.toFixed(2)}%)`);
    assert.ok(g.rssMB < 20, `RSS grew ${g.rssMB.toFixed(1)} MB`);
  }

  it('50,000 inline sync visits', async () => {
    flat(await probe.measure('visits, inline sync', 50_000, () => probe.visits('SPing', 50_000)));
  });

  it('50,000 inline async visits', async () => {
    flat(await probe.measure('visits, inline async', 50_000, () => probe.visits('APing', 50_000)));
  });

  it('5,000 default-path (lane) visits', async () => {
    flat(await probe.measure('visits, default path', 5_000, () => probe.visits('DPing', 5_000)));
  });

  it('5,000 blocking and 5,000 awaited queries from Python', async () => {
    flat(await probe.measure('queries, blocking on the lane', 5_000, () => probe.visits('Query', 5_000)));
    flat(await probe.measure('queries, awaited inline', 5_000, () => probe.visits('AwaitQuery', 5_000)));
  });
});
