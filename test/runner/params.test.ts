// `test-rig run --param key=value`: each value reaches the handler's __init__ argument of
// that name converted to the type of its annotation or default, as docs/runner.md says;
// a value that does not convert fails the case with a message naming the parameter.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';
import { testHostPort, testServer } from '../helpers/db.js';

const SUITE = `from test_rig import PyStateHandler, PyState

class ParamsHandler(PyStateHandler):
    def __init__(self, name: str = "x", count=3, ratio: float = 0.5, on=False, untyped=None):
        self.values = (name, count, ratio, on, untyped)

    def execute(self, context):
        print("values:", repr(self.values))
        return PyState.completed()
`;

describe('test-rig run --param', function () {
  this.timeout(120_000);
  let dir: string;
  const server = ['-H', testHostPort, '-u', testServer.user, `--password=${testServer.password}`];

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'params-'));
    fs.mkdirSync(path.join(dir, 'params_suite'));
    fs.writeFileSync(path.join(dir, 'params_suite', 'test_params.py'), SUITE);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('converts each value to the type of the default or annotation', async () => {
    const r = await runCli(
      [
        'run',
        '--suite-dir',
        'params_suite',
        ...server,
        '--show-output',
        '--param',
        'name=42',
        '--param',
        'count=7',
        '--param',
        'ratio=2',
        '--param',
        'on=yes',
        '--param',
        'untyped=[1,2]',
      ],
      { cwd: dir },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /values: \('42', 7, 2\.0, True, \[1, 2\]\)/);
  });

  it('a value that does not convert fails the case and names the parameter', async () => {
    const r = await runCli(['run', '--suite-dir', 'params_suite', ...server, '--param', 'count=many'], {
      cwd: dir,
    });
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout + r.stderr, /ParamsHandler: parameter count='many': expected int/);
  });
});
