// A Python failure's causes under `test-rig run`: `raise … from` and an exception raised
// while handling another show `caused by …` / `while handling …` with each cause's
// file:line on the terminal, a TaskGroup's ExceptionGroup lists its members numbered, and
// the JSON report and JUnit carry the same lines (`details`).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runSuiteSource, type CliResult } from '../helpers/cli.js';

const SUITE = `import asyncio

from test_rig import PyStateHandler, PyState


def load(key):
    return {}[key]  # LOAD


class ChainedHandler(PyStateHandler):
    def execute(self, context):
        try:
            load("missing")
        except KeyError as e:
            raise ValueError("could not load the fixture") from e  # RAISE_FROM


class ImplicitHandler(PyStateHandler):
    def execute(self, context):
        try:
            1 / 0  # DIVIDE
        except ZeroDivisionError:
            context.no_such_attribute  # WHILE_HANDLING


async def fail(n):
    await asyncio.sleep(0)
    raise RuntimeError(f"worker {n} failed")  # MEMBER


class GroupHandler(PyStateHandler):
    async def execute(self, context):
        async with asyncio.TaskGroup() as tg:
            tg.create_task(fail(1))
            tg.create_task(fail(2))
        return PyState.completed()
`;

/** `test_exc.py:<line>` of the line marked `# <mark>` in SUITE. */
function at(mark: string): string {
  const line = SUITE.split('\n').findIndex((l) => l.endsWith(`# ${mark}`)) + 1;
  assert.ok(line > 0, mark);
  return `test_exc.py:${line}`;
}

interface CaseLine {
  event?: string;
  class?: string;
  details?: string[] | null;
}

describe('chained exceptions and exception groups in failures (CLI)', function () {
  this.timeout(180_000);
  let r: CliResult;
  let cases: Map<string, CaseLine>;
  let junit = '';

  before(async () => {
    let report = '';
    r = await runSuiteSource('exc', SUITE, ['--json', 'report.jsonl', '--junit', 'junit.xml'], (dir) => {
      report = fs.readFileSync(path.join(dir, 'report.jsonl'), 'utf8');
      junit = fs.readFileSync(path.join(dir, 'junit.xml'), 'utf8');
    });
    cases = new Map(
      report
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as CaseLine)
        .filter((l) => l.event === 'case')
        .map((l) => [l.class ?? '', l]),
    );
  });

  /** The terminal's failure block of one case (its lines after `✖ FAIL`). */
  function block(name: string): string {
    const start = r.stdout.indexOf(`::${name}`);
    assert.ok(start >= 0, r.stdout);
    const next = r.stdout.indexOf('✖ FAIL', start);
    return r.stdout.slice(start, next < 0 ? undefined : next);
  }

  it('fails the run', () => {
    assert.equal(r.code, 1, r.stdout + r.stderr);
  });

  it('raise … from: the cause and the line that raised it', () => {
    assert.match(
      block('ChainedHandler'),
      new RegExp(`│ caused by KeyError: 'missing' \\(.*${esc(at('LOAD'))}\\)`),
    );
    assert.match(block('ChainedHandler'), new RegExp(esc(at('RAISE_FROM'))));
    const details = cases.get('ChainedHandler')?.details ?? [];
    assert.equal(details.length, 1, JSON.stringify(details));
    assert.match(details[0], new RegExp(`^caused by KeyError: 'missing' \\(\\S*/${esc(at('LOAD'))}\\)$`));
  });

  it('an exception while handling another: the one being handled and its line', () => {
    assert.match(
      block('ImplicitHandler'),
      new RegExp(`│ while handling ZeroDivisionError: division by zero \\(.*${esc(at('DIVIDE'))}\\)`),
    );
    assert.match(cases.get('ImplicitHandler')?.details?.[0] ?? '', /^while handling ZeroDivisionError/);
  });

  it("a TaskGroup's ExceptionGroup: each member numbered, with its line", () => {
    const text = block('GroupHandler');
    for (const n of [1, 2])
      assert.match(
        text,
        new RegExp(`│ \\[${n}\\] RuntimeError: worker ${n} failed \\(.*${esc(at('MEMBER'))}\\)`),
      );
    const details = cases.get('GroupHandler')?.details ?? [];
    assert.deepEqual(
      details.map((d) => d.replace(/ \(.*\)$/, '')),
      ['[1] RuntimeError: worker 1 failed', '[2] RuntimeError: worker 2 failed'],
    );
  });

  it('JUnit has the same lines in each failure', () => {
    assert.match(junit, /caused by KeyError: &apos;missing&apos;|caused by KeyError: 'missing'/);
    assert.match(junit, /while handling ZeroDivisionError/);
    assert.match(junit, /\[2\] RuntimeError: worker 2 failed/);
  });
});

function esc(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
