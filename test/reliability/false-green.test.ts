// No false green: a run exits 0 only when every case ran and passed. A handler
// that tests nothing (no execute of its own) fails; a handler that ends the
// process (os._exit, a segfault) is reported as such, with the reports
// finished, the scratch databases dropped and the --local server stopped.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';
import { casesOf, jsonLines, parseJUnit, SERVER_ARGS, SUITES } from './util.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'test-rig-false-green-'));

describe('reliability: no false green', function () {
  this.timeout(180_000);
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('a handler without its own execute (typo, empty subclass) fails, naming the likely typo; legacy bases still work', async () => {
    const json = path.join(tmp, 'no-execute.jsonl');
    const r = await runCli(['run', '--suites-dir', SUITES, 'no_execute', ...SERVER_ARGS, '--json', json]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const c = casesOf(json);
    const failed = (name: string, re: RegExp) => {
      assert.equal(c.get(name)?.status, 'failed', `${name}: ${c.get(name)?.message}`);
      assert.match(c.get(name)?.message ?? '', re);
    };
    failed(
      'TypoHandler',
      /TypoHandler does not define execute\(\) \(it defines excute\(\): a typo for execute\?\)/,
    );
    failed('AsyncTypoHandler', /it defines exectue\(\): a typo for execute\?/);
    failed('EmptyHandler', /EmptyHandler does not define execute\(\): every handler must/);
    failed('OnlyEnterHandler', /OnlyEnterHandler does not define execute\(\)/);
    failed('MultiWithoutExecuteHandler', /MultiWithoutExecuteHandler does not define execute\(\)/);
    assert.doesNotMatch(c.get('MultiWithoutExecuteHandler')?.message ?? '', /typo/);
    assert.equal(
      c.get('InheritedExecuteHandler')?.status,
      'passed',
      c.get('InheritedExecuteHandler')?.message ?? '',
    );
    assert.equal(c.get('LegacyMultiHandler')?.status, 'passed', c.get('LegacyMultiHandler')?.message ?? '');
  });
});

export { jsonLines, parseJUnit };
