// print() in an inline handler (it runs on the JS thread) reaches the terminal and the
// JSON report under `test-rig run`, as a default (lane) handler's output does.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runSuiteSource } from '../helpers/cli.js';

const SUITE = `from test_rig import PyStateHandler, PyState


class InlinePrintHandler(PyStateHandler):
    inline = True

    def execute(self, context):
        print("hello from inline sync")
        return PyState.completed()


class InlineAsyncPrintHandler(PyStateHandler):
    inline = True

    async def execute(self, context):
        print("hello from inline async")
        await context.connection.query("SELECT 1")
        print("after the awaited query")
        return PyState.completed()
`;

describe('print in an inline handler under test-rig run', function () {
  this.timeout(120_000);

  it('reaches the terminal (--show-output) and the JSON report', async () => {
    let report = '';
    const r = await runSuiteSource('inl', SUITE, ['--json', 'report.jsonl'], (dir) => {
      report = fs.readFileSync(path.join(dir, 'report.jsonl'), 'utf8');
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /\[InlinePrintHandler\] hello from inline sync/);
    assert.match(r.stdout, /\[InlineAsyncPrintHandler\] hello from inline async/);
    assert.match(r.stdout, /\[InlineAsyncPrintHandler\] after the awaited query/);
    const lines = report
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { output?: { text: string }[]; name?: string; case?: string });
    const texts = lines.flatMap((l) => (l.output ?? []).map((o) => o.text));
    for (const t of ['hello from inline sync', 'hello from inline async', 'after the awaited query']) {
      assert.ok(texts.includes(t), `"${t}" missing from the JSON report: ${JSON.stringify(lines)}`);
    }
  });
});
