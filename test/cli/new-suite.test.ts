import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';
import { testHostPort } from '../helpers/db.js';

describe('test-rig new-suite', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trsuite-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('creates suites/NAME with __init__.py, README.md and a first test_NAME.py', async () => {
    const r = await runCli(['new-suite', 'my_tests'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const suite = path.join(dir, 'suites', 'my_tests');
    assert.deepEqual(fs.readdirSync(suite).sort(), ['README.md', '__init__.py', 'test_my_tests.py']);
    const test = fs.readFileSync(path.join(suite, 'test_my_tests.py'), 'utf8');
    assert.match(test, /from test_rig import PyStateHandler, PyStateContext, PyState/);
    assert.match(test, /class MyTestsBasicHandler\(PyStateHandler\)/);
    assert.match(test, /CREATE TABLE my_tests_basic/);
    assert.match(test, /return PyState\.completed\(\)/);
    assert.match(fs.readFileSync(path.join(suite, 'README.md'), 'utf8'), /MyTestsBasicHandler/);
    const compiled = spawnSync('python3', ['-m', 'py_compile', path.join(suite, 'test_my_tests.py')], {
      encoding: 'utf8',
    });
    assert.equal(compiled.status, 0, compiled.stderr);
    assert.match(r.stdout, /test-rig run my_tests/);
  });

  it('creates a suite that `test-rig run` discovers and passes, with no other edits', async () => {
    assert.equal((await runCli(['new-suite', 'demo_suite'], { cwd: dir })).code, 0);
    const r = await runCli(['run', 'demo_suite', '-H', testHostPort, '-u', 'root', '--password='], {
      cwd: dir,
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /PASS\s+demo_suite\/test_demo_suite\.py::DemoSuiteBasicHandler/);
    assert.match(r.stdout, /\n1 case: 1 passed, 0 failed/);
  });

  it('refuses an existing folder (exit 2, one line)', async () => {
    fs.mkdirSync(path.join(dir, 'suites', 'taken'), { recursive: true });
    const r = await runCli(['new-suite', 'taken'], { cwd: dir });
    assert.equal(r.code, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.match(r.stderr, /already exists/);
  });

  for (const bad of ['My-Suite', '1abc', 'class', '../x']) {
    it(`refuses the invalid name "${bad}" (exit 2)`, async () => {
      const r = await runCli(['new-suite', bad], { cwd: dir });
      assert.equal(r.code, 2);
      assert.match(r.stderr, /invalid suite name/);
      assert.ok(!fs.existsSync(path.join(dir, 'suites')));
    });
  }
});
