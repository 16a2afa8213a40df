// What pytest users reach for, driven through the built CLI in a project folder
// of their own: node ids as printed in failures given back to `run`, -x and
// --maxfail, the run cache (.test-rig-cache) with --lf and --cache-clear,
// --durations N, -q, and the one meaning of --json [FILE|-].
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli, type CliResult } from '../helpers/cli.js';
import { docBlock, ROOT, words } from '../helpers/doc-examples.js';
import { testHostPort, testServer } from '../helpers/db.js';

const server = ['-H', testHostPort, '-u', testServer.user, `--password=${testServer.password}`];

/** Four cases; a file FAIL_<Class> in the project folder makes that class fail. */
const FLIP = `import os

from test_rig import PyState, PyStateHandler


class _Flip(PyStateHandler):
    def execute(self, context):
        context.connection.execute_query("SELECT 1")
        if os.path.exists(f"FAIL_{type(self).__name__}"):
            raise AssertionError(f"{type(self).__name__} told to fail")
        return PyState.completed()


class AlphaHandler(_Flip):
    pass


class BetaHandler(_Flip):
    pass


class GammaHandler(_Flip):
    pass


class DeltaHandler(_Flip):
    pass
`;

const ID = (cls: string) => `flip/test_flip.py::${cls}`;

describe('run: node ids, -x/--maxfail, --lf/--cache-clear, --durations, -q, --json (CLI)', function () {
  // a dozen CLI starts per test, each importing Python, on a shared machine
  this.timeout(300_000);
  let dir: string;
  const run = (args: string[]): Promise<CliResult> => runCli(['run', ...args], { cwd: dir });
  const fail = (...classes: string[]) => {
    for (const f of fs.readdirSync(dir).filter((f) => f.startsWith('FAIL_'))) fs.rmSync(path.join(dir, f));
    for (const c of classes) fs.writeFileSync(path.join(dir, `FAIL_${c}`), '');
  };
  /** The verdict lines: `PASS id` / `FAIL id`. */
  const verdicts = (r: CliResult) =>
    [...r.stdout.matchAll(/^[✔✖] (PASS|FAIL) +(\S+)/gmu)].map((m) => `${m[1]} ${m[2]}`);
  const cacheFile = (name: string) =>
    JSON.parse(fs.readFileSync(path.join(dir, '.test-rig-cache', name), 'utf8')) as Record<string, unknown>;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'test-rig-select-'));
    // a project with its own suites folder
    fs.mkdirSync(path.join(dir, 'suites', 'flip'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'suites', 'flip', '__init__.py'), '');
    fs.writeFileSync(path.join(dir, 'suites', 'flip', 'test_flip.py'), FLIP);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("docs/runner.md's node-id examples run as printed (in the repository's folder)", async () => {
    for (const line of docBlock('docs/runner.md', '<!-- node-id examples -->')) {
      assert.match(line, /^test-rig run /);
      const r = await runCli(words(line), { cwd: ROOT });
      assert.equal(r.code, 0, `${line}\n${r.stderr}`);
      assert.notEqual(r.stdout.trim(), '', line);
    }
    // and the error shown for a near miss is the one printed
    const text = fs.readFileSync(path.join(ROOT, 'docs/runner.md'), 'utf8');
    const shown = /```console\n\$ (test-rig run --list [^\n]+)\n(error: [^\n]+)\n```/.exec(text);
    assert.ok(shown, 'docs/runner.md shows a node-id error');
    const r = await runCli(words(shown[1]), { cwd: ROOT });
    assert.equal(r.code, 2);
    assert.equal(r.stderr, `${shown[2]}\n`);
  });

  it('a failing case id, as printed, runs that case alone when given back', async () => {
    fail('BetaHandler');
    const first = await run([...server]);
    assert.equal(first.code, 1, first.stderr);
    const printed = /^✖ FAIL +(\S+)/mu.exec(first.stdout)?.[1];
    assert.equal(printed, ID('BetaHandler'));
    const again = await run([printed!, ...server]);
    assert.deepEqual(verdicts(again), [`FAIL ${ID('BetaHandler')}`]);
    // and from the summary's `failed:` list, trailing colon included
    const fromSummary = /^ {2}(\S+): BetaHandler/mu.exec(first.stdout)?.[1];
    assert.equal((await run([`${fromSummary}:`, '--list'])).stdout.trim(), 'flip\ttest_flip.py\tBetaHandler');
  });

  it('accepts suite, file, path, folder, JUnit suite.Class and class names; unknown ones exit 2 with close matches', async () => {
    const list = async (...ids: string[]) => {
      const r = await run(['--list', ...ids]);
      assert.equal(r.code, 0, r.stderr);
      return r.stdout
        .trim()
        .split('\n')
        .map((l) => l.split('\t')[2]);
    };
    assert.equal((await list('flip')).length, 4);
    assert.equal((await list('flip/test_flip.py')).length, 4);
    assert.equal((await list('flip/test_flip')).length, 4);
    assert.equal((await list('suites/flip')).length, 4);
    assert.equal((await list('suites')).length, 4);
    assert.deepEqual(await list('suites/flip/test_flip.py::GammaHandler'), ['GammaHandler']);
    assert.deepEqual(await list('flip.DeltaHandler'), ['DeltaHandler']);
    // JUnit's classname is `suite.test_file`
    assert.deepEqual(await list('flip.test_flip.DeltaHandler'), ['DeltaHandler']);
    assert.equal((await list('flip.test_flip')).length, 4);
    assert.deepEqual(await list('AlphaHandler'), ['AlphaHandler']);
    // several ids: their union, in file order
    assert.deepEqual(await list(ID('DeltaHandler'), ID('AlphaHandler')), ['AlphaHandler', 'DeltaHandler']);

    const typo = await run(['--list', 'flip/test_flip.py::BetaHandlr', ...server]);
    assert.equal(typo.code, 2);
    assert.equal(typo.stdout, '');
    assert.match(
      typo.stderr,
      /^error: no suite, file or case matches 'flip\/test_flip\.py::BetaHandlr' \(hint: did you mean flip\/test_flip\.py::BetaHandler\b.*see --list\)\n$/,
    );
    const noFile = await run(['flip/test_flp.py', ...server]);
    assert.equal(noFile.code, 2);
    assert.match(noFile.stderr, /did you mean flip\/test_flip\.py\b/);
  });

  it('-x stops at the first failure, --maxfail N at the Nth; the rest are not run', async () => {
    fail('BetaHandler', 'GammaHandler');
    const x = await run(['-x', ...server]);
    assert.equal(x.code, 1);
    assert.deepEqual(verdicts(x), [`PASS ${ID('AlphaHandler')}`, `FAIL ${ID('BetaHandler')}`]);
    assert.match(x.stdout, /4 cases: 1 passed, 1 failed, 0 skipped, 2 not run/);
    const two = await run(['--maxfail', '2', ...server]);
    assert.deepEqual(verdicts(two), [
      `PASS ${ID('AlphaHandler')}`,
      `FAIL ${ID('BetaHandler')}`,
      `FAIL ${ID('GammaHandler')}`,
    ]);
    assert.match(two.stdout, /1 not run/);
    const bad = await run(['--maxfail', '0', ...server]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^error: .*--maxfail/);
  });

  it('.test-rig-cache records failures and durations; --lf runs the last failed; --cache-clear forgets', async () => {
    fail('BetaHandler', 'GammaHandler');
    assert.equal((await run([...server])).code, 1);
    const cache = path.join(dir, '.test-rig-cache');
    assert.deepEqual(cacheFile('lastfailed.json'), { [ID('BetaHandler')]: true, [ID('GammaHandler')]: true });
    const durations = cacheFile('durations.json');
    assert.deepEqual(
      Object.keys(durations).sort(),
      ['Alpha', 'Beta', 'Delta', 'Gamma'].map((c) => ID(`${c}Handler`)).sort(),
    );
    for (const ms of Object.values(durations)) assert.ok(Number.isInteger(ms) && (ms as number) >= 0);
    assert.match(
      fs.readFileSync(path.join(cache, 'CACHEDIR.TAG'), 'utf8'),
      /^Signature: 8a477f597d28d172789f06886806bc55/,
    );
    assert.equal(
      fs
        .readFileSync(path.join(cache, '.gitignore'), 'utf8')
        .split('\n')
        .filter((l) => l && !l.startsWith('#'))
        .join(),
      '*',
    );
    assert.match(fs.readFileSync(path.join(cache, 'README.md'), 'utf8'), /lastfailed\.json/);

    fail('GammaHandler'); // Beta is fixed
    const lf = await run(['--lf', ...server]);
    assert.equal(lf.code, 1);
    assert.deepEqual(verdicts(lf), [`PASS ${ID('BetaHandler')}`, `FAIL ${ID('GammaHandler')}`]);
    assert.match(lf.stderr, /^--lf: running the 2 cases that failed last time$/m);
    assert.deepEqual(cacheFile('lastfailed.json'), { [ID('GammaHandler')]: true });

    fail();
    assert.equal((await run(['--last-failed', ...server])).code, 0);
    // nothing failed last time: --lf runs everything and says so
    const all = await run(['--lf', ...server]);
    assert.equal(verdicts(all).length, 4);
    assert.match(all.stderr, /--lf: no case of this selection failed last time: running all 4/);

    assert.equal((await run(['--cache-clear', '--list'])).code, 0);
    assert.equal(fs.existsSync(cache), false);
  });

  it('--durations N lists the N slowest after the summary; -q prints failures and totals only', async () => {
    fail('GammaHandler');
    const r = await run(['-q', '--durations', '2', ...server]);
    assert.equal(r.code, 1);
    assert.deepEqual(verdicts(r), [`FAIL ${ID('GammaHandler')}`]);
    assert.doesNotMatch(r.stdout, /^running|PASS|^suite +passed/m);
    assert.match(r.stdout, /^4 cases: 3 passed, 1 failed, 0 skipped in /m);
    const tail = r.stdout.trimEnd().split('\n').slice(-3);
    assert.equal(tail[0], 'slowest 2 durations:');
    for (const l of tail.slice(1)) assert.match(l, /^ +\d+(\.\d+)? m?s {2}flip\/test_flip\.py::\w+Handler$/);
    const every = await run(['--durations', '0', ...server]);
    assert.match(every.stdout, /^slowest durations:$/m);
    assert.equal(every.stdout.split('slowest durations:\n')[1].trim().split('\n').length, 4);
  });

  it('--json [FILE|-]: alone or - is stdout, a file is a file, a node id after it is a node id; run --json --list lists as JSON', async () => {
    const listed = await run(['--json', '--list']);
    assert.equal(listed.code, 0, listed.stderr);
    const records = listed.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; id: string; class: string });
    assert.deepEqual(
      records.map((r) => [r.event, r.id]),
      ['Alpha', 'Beta', 'Gamma', 'Delta'].map((c) => ['collected', ID(`${c}Handler`)]),
    );
    assert.deepEqual(
      fs.readdirSync(dir).filter((f) => f.startsWith('-')),
      [],
    ); // no file named --list
    const one = await run(['--list', '--json', ID('BetaHandler')]);
    assert.deepEqual(
      one.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { id: string }).id),
      [ID('BetaHandler')],
    );
    const toFile = await run(['--list', '--json', 'cases.jsonl', 'flip']);
    assert.equal(toFile.stdout, '');
    assert.equal(fs.readFileSync(path.join(dir, 'cases.jsonl'), 'utf8').trim().split('\n').length, 4);

    const ran = await run(['--json', '-', ID('AlphaHandler'), ...server]);
    assert.equal(ran.code, 0, ran.stderr);
    const events = ran.stdout
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { event: string }).event);
    assert.deepEqual(events, ['start', 'case', 'summary']);

    // a command without JSON output refuses --json instead of ignoring it
    const demo = await runCli(['demo', '--python-module', 'x', '--json', ...server], { cwd: dir });
    assert.equal(demo.code, 2);
    assert.match(demo.stderr, /^error: demo has no JSON output: --json is not accepted \(hint: .+\)\n$/);
    // and one that has it writes it to the file given
    const show = await runCli(['config', 'show', '--json', 'settings.json', ...server], { cwd: dir });
    assert.equal(show.code, 0, show.stderr);
    assert.equal(show.stdout, '');
    assert.equal(
      (JSON.parse(fs.readFileSync(path.join(dir, 'settings.json'), 'utf8')) as { user: string }).user,
      testServer.user,
    );
  });
});
