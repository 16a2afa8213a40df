// A sharded run end to end, as a Kubernetes Indexed Job runs it: three
// `test-rig run --shard auto` processes (JOB_COMPLETION_INDEX 0..2) against
// the local server, then `test-rig merge`; the merged reports must hold
// exactly the cases and verdicts of one unsharded run. Then what merge refuses.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli, type CliResult } from '../helpers/cli.js';
import { testHostPort, testServer } from '../helpers/db.js';

const SUITE = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../test/fixtures/shard_suite',
);
const server = ['-H', testHostPort, '-u', testServer.user, `--password=${testServer.password}`];
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'test-rig-shard-'));
const at = (name: string) => path.join(tmp, name);

type Line = Record<string, unknown>;
const jsonLines = (file: string): Line[] =>
  fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line);
const verdicts = (file: string) =>
  new Map(
    jsonLines(file)
      .filter((l) => l.event === 'case')
      .map((l) => [l.id as string, l.status as string]),
  );

/** JUnit through Python's ElementTree (a real XML parser): testcase → verdict, and the shard properties. */
function junit(file: string): { cases: Record<string, string>; tests: string; shards: string[] } {
  const script = `
import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
cases = {}
for c in root.iter("testcase"):
    kids = [k.tag for k in c if k.tag in ("failure", "error", "skipped")]
    cases[c.get("classname") + "::" + c.get("name")] = kids[0] if kids else "passed"
shards = sorted({p.get("value") for p in root.iter("property") if p.get("name") == "shard"})
print(json.dumps({"cases": cases, "tests": root.get("tests"), "shards": shards}))
`;
  return JSON.parse(execFileSync('python3', ['-c', script, file], { encoding: 'utf8' })) as ReturnType<
    typeof junit
  >;
}

const run = (args: string[], env: Record<string, string | undefined> = {}): Promise<CliResult> =>
  runCli(['run', '--suite-dir', SUITE, ...args, ...server], { env, timeoutMs: 110_000 });

describe('sharded runs and test-rig merge (real server)', function () {
  this.timeout(300_000);
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  let whole: CliResult;
  let shards: CliResult[];
  before(async () => {
    whole = await run(['--json', at('whole.jsonl'), '--junit', at('whole.xml')]);
    // three pods of an Indexed Job, side by side, balanced by the unsharded run's times
    shards = await Promise.all(
      [0, 1, 2].map((i) =>
        run(
          [
            '--shard',
            'auto',
            '--durations-file',
            at('whole.jsonl'),
            '--json',
            at(`shard-${i}.jsonl`),
            '--junit',
            at(`shard-${i}.xml`),
          ],
          { JOB_COMPLETION_INDEX: String(i), TEST_RIG_SHARD_COUNT: '3' },
        ),
      ),
    );
  });

  it('--shard auto takes the shard from JOB_COMPLETION_INDEX and marks each report with it', () => {
    assert.equal(whole.code, 1, whole.stderr); // the fixture has failing cases on purpose
    const sizes = shards.map((_, i) => verdicts(at(`shard-${i}.jsonl`)).size);
    for (const [i, r] of shards.entries()) {
      assert.ok(r.code === 0 || r.code === 1, r.stderr);
      const start = jsonLines(at(`shard-${i}.jsonl`))[0];
      assert.equal(start.event, 'start');
      assert.equal(start.shard, `${i + 1}/3`);
      assert.equal(start.cases, sizes[i]);
      assert.deepEqual(junit(at(`shard-${i}.xml`)).shards, [`${i + 1}/3`]);
    }
    // every shard got work, and together they ran what the whole run ran
    assert.ok(
      sizes.every((n) => n > 0),
      `sizes ${sizes.join(',')}`,
    );
    assert.equal(
      sizes.reduce((a, b) => a + b, 0),
      verdicts(at('whole.jsonl')).size,
    );
  });

  it('--durations-file balances by time: the one long case gets a shard to itself', async () => {
    const ids = [...verdicts(at('whole.jsonl')).keys()];
    const long = 'shard_suite/test_rows.py::FourRowsHandler';
    fs.writeFileSync(
      at('durations.json'),
      JSON.stringify(Object.fromEntries(ids.map((id) => [id, id === long ? 600_000 : 1000]))),
    );
    const list = (shard: string, ...more: string[]) => run(['--list', '--shard', shard, ...more]);
    const [one, two] = await Promise.all([
      list('1/2', '--durations-file', at('durations.json')),
      list('2/2', '--durations-file', at('durations.json')),
    ]);
    assert.equal(one.code, 0, one.stderr);
    assert.equal(one.stdout.trim(), 'shard_suite\ttest_rows.py\tFourRowsHandler');
    assert.match(one.stderr, /1 case in 1 suite \(shard 1\/2, balanced by durations\)/);
    assert.equal(two.stdout.trim().split('\n').length, ids.length - 1);
    // by case count the split is 6 and 5
    const byCount = await list('1/2');
    assert.equal(byCount.stdout.trim().split('\n').length, 6);
  });

  it('merge: the merged reports have exactly the cases and verdicts of the unsharded run', async () => {
    const files = [2, 0, 1].map((i) => at(`shard-${i}.jsonl`)); // any order
    const r = await runCli(['merge', '--json', at('merged.jsonl'), '--junit', at('merged.xml'), ...files]);
    // a shard had failing cases: the merge fails, and says which shards
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /11 cases: 8 passed, 2 failed, 1 skipped/);
    assert.match(r.stdout, /merged 3 reports; failed: /);
    assert.doesNotMatch(r.stderr, /error:/);

    const expected = verdicts(at('whole.jsonl'));
    assert.equal(expected.size, 11);
    assert.deepEqual(new Map([...verdicts(at('merged.jsonl'))].sort()), new Map([...expected].sort()));
    const lines = jsonLines(at('merged.jsonl'));
    assert.deepEqual(lines[0].shards, ['1/3', '2/3', '3/3']);
    const summary = lines.at(-1)!;
    const wholeSummary = jsonLines(at('whole.jsonl')).at(-1)!;
    for (const k of ['total', 'passed', 'failed', 'skipped', 'flaky', 'cancelled', 'not_run'])
      assert.equal(summary[k], wholeSummary[k], k);
    assert.deepEqual(summary.problems, []);

    const merged = junit(at('merged.xml'));
    const unsharded = junit(at('whole.xml'));
    assert.deepEqual(merged.cases, unsharded.cases);
    assert.equal(merged.tests, '11');
  });

  it('merge exits 1 for a missing, repeated or cut-off shard, naming it', async () => {
    const [s0, s1, s2] = [0, 1, 2].map((i) => at(`shard-${i}.jsonl`));
    const missing = await runCli(['merge', s0, s2]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^error: shard 2\/3 is missing: no report of it was given$/m);

    const absent = await runCli(['merge', s0, s1, at('never-written.jsonl'), s2]);
    assert.equal(absent.code, 1);
    assert.match(absent.stderr, /^error: missing report .*never-written\.jsonl: no such file$/m);

    const repeated = await runCli(['merge', s0, s1, s2, s1]);
    assert.equal(repeated.code, 1);
    assert.match(repeated.stderr, /^error: shard 2\/3 is repeated: /m);
    assert.match(repeated.stdout, /11 cases/); // counted once

    // a pod killed mid-run: its report stops mid-line, with no summary
    const text = fs.readFileSync(s1, 'utf8');
    fs.writeFileSync(at('cut.jsonl'), text.slice(0, text.lastIndexOf('{"event":"summary"') - 20));
    const cut = await runCli(['merge', s0, at('cut.jsonl'), s2]);
    assert.equal(cut.code, 1);
    assert.match(
      cut.stderr,
      /^error: .*cut\.jsonl \(shard 2\/3\) is cut off: line \d+ is not a JSON record/m,
    );

    const other = await run(['--shard', '1/2', '-k', 'rows', '--json', at('other-split.jsonl')]);
    assert.equal(other.code, 0, other.stderr);
    const mixed = await runCli(['merge', s0, s1, s2, at('other-split.jsonl')]);
    assert.equal(mixed.code, 1);
    assert.match(mixed.stderr, /^error: the reports are of different splits \(3 shards, 2 shards\)$/m);
  });

  it('merge exits 0 when every shard passed, an empty shard included', async () => {
    // four cases over five shards: the fifth has none and still writes its report
    const results = await Promise.all(
      [1, 2, 3, 4, 5].map((i) => run(['-k', 'rows', '--shard', `${i}/5`, '--json', at(`pass-${i}.jsonl`)])),
    );
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    assert.match(results[4].stderr, /shard 5\/5 has no case: nothing to run/);
    assert.deepEqual(
      jsonLines(at('pass-5.jsonl')).map((l) => l.event),
      ['start', 'summary'],
    );
    const r = await runCli([
      'merge',
      '--junit',
      at('pass.xml'),
      ...[1, 2, 3, 4, 5].map((i) => at(`pass-${i}.jsonl`)),
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /4 cases: 4 passed, 0 failed, 0 skipped/);
    assert.equal(junit(at('pass.xml')).tests, '4');
  });

  it('usage errors: --shard auto outside an engine, merge of a file that is no report', async () => {
    const r = await run(['--shard', 'auto'], {
      JOB_COMPLETION_INDEX: undefined,
      CI_NODE_INDEX: undefined,
      CIRCLE_NODE_INDEX: undefined,
      BUILDKITE_PARALLEL_JOB: undefined,
    });
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /^error: --shard auto: no shard in the environment \(none of JOB_COMPLETION_INDEX.*\(hint: /m,
    );
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);

    const k8s = await run(['--shard', 'auto', '--list'], {
      JOB_COMPLETION_INDEX: '0',
      TEST_RIG_SHARD_COUNT: undefined,
    });
    assert.equal(k8s.code, 2);
    assert.match(
      k8s.stderr,
      /JOB_COMPLETION_INDEX is set .* but not the number of shards \(hint: give --shard-count N/,
    );

    fs.writeFileSync(at('notes.txt'), 'not a report\n');
    const bad = await runCli(['merge', at('notes.txt')]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^error: .*notes\.txt is not a JSON report of test-rig run \(hint: /);
  });
});
