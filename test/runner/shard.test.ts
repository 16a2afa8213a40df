// Sharding as a pure function: properties over random case sets and durations
// (partition, determinism, balance), the environments of `--shard auto`, and
// the durations files it reads. The end-to-end run is test/runner/shard-cli.test.ts.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import {
  assignShards,
  loadDurations,
  resolveShard,
  shardCases,
  shardFromEnv,
  ShardError,
} from '../../ts/runner/shard.js';

const idsArb = fc.uniqueArray(fc.stringMatching(/^[a-z]{1,6}\/test_[a-z]{1,4}\.py::[A-Z][a-z]{0,5}$/), {
  minLength: 0,
  maxLength: 60,
});
/** Ids, a shard count, and durations for some (or none) of the ids. */
const planArb = idsArb.chain((ids) =>
  fc.record({
    ids: fc.constant(ids),
    count: fc.integer({ min: 1, max: 12 }),
    durations: fc.option(
      fc
        .array(fc.tuple(fc.constantFrom(...(ids.length ? ids : ['x'])), fc.integer({ min: 0, max: 100_000 })))
        .map((pairs) => new Map(pairs)),
      { nil: undefined },
    ),
  }),
);

const cases = (ids: string[]) => ids.map((id) => ({ id }));

describe('sharding', () => {
  it('partitions: every case is in exactly one shard, whatever the durations', () => {
    fc.assert(
      fc.property(planArb, ({ ids, count, durations }) => {
        const seen: string[] = [];
        for (let i = 1; i <= count; i++)
          seen.push(...shardCases(cases(ids), { index: i, count }, durations).map((c) => c.id));
        assert.deepEqual([...seen].sort(), [...ids].sort());
      }),
    );
  });

  it('is deterministic: the same split from any order of the cases', () => {
    fc.assert(
      fc.property(
        planArb.chain((p) =>
          fc.record({ p: fc.constant(p), shuffled: fc.shuffledSubarray(p.ids, { minLength: p.ids.length }) }),
        ),
        ({ p, shuffled }) => {
          const a = assignShards(p.ids, p.count, p.durations);
          const b = assignShards(shuffled, p.count, p.durations);
          assert.deepEqual(new Map([...b].sort()), new Map([...a].sort()));
          // and a shard keeps the order the cases were given in
          const mine = shardCases(cases(shuffled), { index: 1, count: p.count }, p.durations).map(
            (c) => c.id,
          );
          assert.deepEqual(
            mine,
            shuffled.filter((id) => a.get(id) === 1),
          );
        },
      ),
    );
  });

  it('balances by case count without durations: shard sizes differ by at most one', () => {
    fc.assert(
      fc.property(idsArb, fc.integer({ min: 1, max: 12 }), (ids, count) => {
        const sizes = new Array<number>(count).fill(0);
        for (const s of assignShards(ids, count).values()) sizes[s - 1]++;
        assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `sizes ${sizes.join(',')}`);
      }),
    );
  });

  it('balances by durations: no shard takes longer than the average plus the longest case', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.integer({ min: 1, max: 100_000 }), { minLength: 60, maxLength: 60 }),
        (ids, count, times) => {
          const durations = new Map(ids.map((id, i) => [id, times[i]]));
          const load = new Array<number>(count).fill(0);
          for (const [id, s] of assignShards(ids, count, durations)) load[s - 1] += durations.get(id)!;
          const total = load.reduce((a, b) => a + b, 0);
          const longest = Math.max(...durations.values());
          // the greedy bound of longest-processing-time-first
          assert.ok(Math.max(...load) <= total / count + longest, `loads ${load.join(',')}`);
        },
      ),
    );
  });

  it('uses the durations: a long case gets a shard of its own, the short ones share the other', () => {
    const ids = ['s/test_a.py::Long', 's/test_a.py::A', 's/test_a.py::B', 's/test_b.py::C', 's/test_b.py::D'];
    const durations = new Map([
      ['s/test_a.py::Long', 60_000],
      ['s/test_a.py::A', 1000],
      ['s/test_a.py::B', 1000],
      ['s/test_b.py::C', 1000],
      ['s/test_b.py::D', 1000],
    ]);
    const owner = assignShards(ids, 2, durations);
    const longShard = owner.get('s/test_a.py::Long');
    assert.deepEqual(
      ids.filter((id) => owner.get(id) === longShard),
      ['s/test_a.py::Long'],
    );
    // by count it would be 3 and 2 cases, the long one among three
    assert.equal([...assignShards(ids, 2).values()].filter((s) => s === 1).length, 3);
    // a case the durations do not know weighs their median, so it joins the short ones
    const withNew = assignShards([...ids, 's/test_c.py::New'], 2, durations);
    assert.notEqual(withNew.get('s/test_c.py::New'), withNew.get('s/test_a.py::Long'));
  });
});

describe('--shard auto', () => {
  it('takes the index of a Kubernetes Indexed Job (0-based) and the count from --shard-count or TEST_RIG_SHARD_COUNT', () => {
    assert.deepEqual(shardFromEnv({ JOB_COMPLETION_INDEX: '0' }, 3), {
      index: 1,
      count: 3,
      source: 'JOB_COMPLETION_INDEX',
    });
    assert.equal(shardFromEnv({ JOB_COMPLETION_INDEX: '2', TEST_RIG_SHARD_COUNT: '3' }).index, 3);
    // the flag wins over the variable
    assert.equal(shardFromEnv({ JOB_COMPLETION_INDEX: '4', TEST_RIG_SHARD_COUNT: '3' }, 5).count, 5);
    assert.throws(
      () => shardFromEnv({ JOB_COMPLETION_INDEX: '0' }),
      (e: ShardError) => /not the number of shards/.test(e.message) && /--shard-count/.test(e.hint ?? ''),
    );
    assert.throws(() => shardFromEnv({ JOB_COMPLETION_INDEX: '3' }, 3), /outside the 3 shards/);
    assert.throws(() => shardFromEnv({ JOB_COMPLETION_INDEX: 'x' }, 3), /not a whole number/);
    assert.throws(
      () => shardFromEnv({ JOB_COMPLETION_INDEX: '0', TEST_RIG_SHARD_COUNT: '0' }),
      /TEST_RIG_SHARD_COUNT/,
    );
  });

  it('reads GitLab (1-based), CircleCI and Buildkite (0-based) parallel jobs', () => {
    assert.deepEqual(shardFromEnv({ CI_NODE_INDEX: '2', CI_NODE_TOTAL: '4' }), {
      index: 2,
      count: 4,
      source: 'CI_NODE_INDEX',
    });
    assert.throws(
      () => shardFromEnv({ CI_NODE_INDEX: '0', CI_NODE_TOTAL: '4' }),
      (e: ShardError) => /outside the 4 shards/.test(e.message) && /counts from 1/.test(e.hint ?? ''),
    );
    assert.equal(shardFromEnv({ CIRCLE_NODE_INDEX: '0', CIRCLE_NODE_TOTAL: '2' }).index, 1);
    assert.deepEqual(shardFromEnv({ BUILDKITE_PARALLEL_JOB: '3', BUILDKITE_PARALLEL_JOB_COUNT: '4' }), {
      index: 4,
      count: 4,
      source: 'BUILDKITE_PARALLEL_JOB',
    });
  });

  it('says which variables it looked for when none is set', () => {
    assert.throws(
      () => shardFromEnv({}),
      (e: ShardError) =>
        /JOB_COMPLETION_INDEX, CI_NODE_INDEX, CIRCLE_NODE_INDEX, BUILDKITE_PARALLEL_JOB/.test(e.message) &&
        /matrix/.test(e.hint ?? ''),
    );
  });

  it('resolveShard: i/n as given (and checked against --shard-count), auto from the environment', () => {
    assert.deepEqual(resolveShard('2/5'), { index: 2, count: 5 });
    assert.deepEqual(resolveShard(' AUTO ', 2, { JOB_COMPLETION_INDEX: '1' }), {
      index: 2,
      count: 2,
      source: 'JOB_COMPLETION_INDEX',
    });
    assert.throws(() => resolveShard('1/4', 3), /disagree/);
    for (const bad of ['0/2', '3/2', '1/0', 'a/b', '1', '1/20000'])
      assert.throws(() => resolveShard(bad), /expected i\/n/, bad);
  });
});

describe('--durations-file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'test-rig-durations-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, text: string) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, text);
    return f;
  };

  it('reads a JSON-lines report (a shard, a merged one, even one cut off mid-line)', () => {
    const report = [
      { event: 'start', cases: 3, shard: '1/2' },
      { event: 'case', id: 'a/test_x.py::A', duration_ms: 120 },
      { event: 'case', id: 'a/test_x.py::B', duration_ms: 30 },
      { event: 'case', id: 'a/test_x.py::A', duration_ms: 80 },
      { event: 'summary', total: 3 },
    ]
      .map((l) => JSON.stringify(l))
      .join('\n');
    const d = loadDurations(write('run.jsonl', report + '\n{"event":"case","id":"a/te'));
    assert.deepEqual(
      [...d],
      [
        ['a/test_x.py::A', 120],
        ['a/test_x.py::B', 30],
      ],
    );
  });

  it('reads an id → ms object: numbers, records, lists of earlier times, bare or under "durations"', () => {
    const nested = loadDurations(
      write(
        'cache.json',
        JSON.stringify({ version: 1, durations: { 'a::A': [10, 30], 'a::B': { duration_ms: 4 } } }),
      ),
    );
    assert.deepEqual(
      [...nested],
      [
        ['a::A', 20],
        ['a::B', 4],
      ],
    );
    const d = loadDurations(
      write('durations.json', JSON.stringify({ 'a::A': 5, 'a::B': { ms: 7 }, 'a::C': 'x' })),
    );
    assert.deepEqual(
      [...d],
      [
        ['a::A', 5],
        ['a::B', 7],
      ],
    );
  });

  it('refuses what is neither, and a file it cannot read, with a hint', () => {
    assert.throws(() => loadDurations(write('list.json', '[1,2]')), /not a JSON report of a run/);
    assert.throws(() => loadDurations(write('text.txt', 'hello\nworld')), /not a JSON report of a run/);
    assert.throws(
      () => loadDurations(path.join(dir, 'absent.json')),
      (e: ShardError) => /cannot read it \(ENOENT\)/.test(e.message) && /--json FILE/.test(e.hint ?? ''),
    );
  });
});
