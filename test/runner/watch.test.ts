// `test-rig run --watch` re-runs only the cases whose file changed.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI, cleanEnv } from '../helpers/cli.js';
import { testHostPort } from '../helpers/db.js';

const CASE = (name: string, text: string) => `
from test_rig import PyState, PyStateHandler
from watch_helper_${process.pid} import greeting


class ${name}Handler(PyStateHandler):
    def execute(self, context):
        print(f"${name} says {greeting()} ${text}")
        return PyState.completed()
`;

describe('test-rig run --watch', function () {
  // A watching child outlives a failed assertion unless it is killed here.
  const children: ChildProcess[] = [];
  afterEach(() => children.splice(0).forEach((c) => c.exitCode === null && c.kill('SIGKILL')));

  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trwatch-'));
    fs.writeFileSync(
      path.join(dir, `watch_helper_${process.pid}.py`),
      'def greeting():\n    return "hello"\n',
    );
    fs.writeFileSync(path.join(dir, 'test_alpha.py'), CASE('Alpha', 'v1'));
    fs.writeFileSync(path.join(dir, 'test_beta.py'), CASE('Beta', 'v1'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('re-runs the changed file, then the files importing a changed helper, until Ctrl-C', async () => {
    const child = spawn(
      process.execPath,
      [
        CLI,
        'run',
        '--suite-dir',
        dir,
        '--watch',
        '--show-output',
        '-H',
        testHostPort,
        '-u',
        'root',
        '--password=',
      ],
      { env: cleanEnv() },
    );
    children.push(child);
    let output = '';
    const seen = (re: RegExp, from = 0) =>
      new Promise<number>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for ${re}; output:\n${output}`)),
          30_000,
        );
        const check = () => {
          const i = output.slice(from).search(re);
          if (i >= 0) {
            clearTimeout(timer);
            child.stdout.off('data', check);
            child.stderr.off('data', check);
            resolve(from + i);
          }
        };
        child.stdout.on('data', check);
        child.stderr.on('data', check);
        check();
      });
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

    let at = await seen(/watching for changes/);
    assert.match(output, /Alpha says hello v1/);
    assert.match(output, /Beta says hello v1/);

    fs.writeFileSync(path.join(dir, 'test_beta.py'), CASE('Beta', 'v2'));
    at = await seen(/changed: test_beta\.py/, at);
    at = await seen(/watching for changes/, at);
    const afterBeta = output.slice(output.lastIndexOf('changed: test_beta.py'));
    assert.match(afterBeta, /Beta says hello v2/);
    assert.doesNotMatch(afterBeta, /Alpha says/);

    fs.writeFileSync(
      path.join(dir, `watch_helper_${process.pid}.py`),
      'def greeting():\n    return "bonjour"\n',
    );
    at = await seen(/changed: .*test_alpha\.py/, at);
    await seen(/watching for changes/, at);
    const afterHelper = output.slice(at);
    assert.match(afterHelper, /Alpha says bonjour v1/);
    assert.match(afterHelper, /Beta says bonjour v2/);

    child.kill('SIGINT');
    assert.notEqual(await exited, null);
  });
});
