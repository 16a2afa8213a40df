// loadPythonHandlers as a script uses it (a child process): a dotted name is found in the
// current folder, classes that load but will never run are reported, and the script ends
// after machine.run although its connection was never closed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cleanEnv, runCli } from '../helpers/cli.js';
import { testHostPort, testServer } from '../helpers/db.js';

const INDEX = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../ts/index.js');

const HANDLERS = `from test_rig import PyStateHandler, PyState

class Checker(PyStateHandler):  # not named ...Handler: skipped
    def execute(self, context):
        return PyState.completed()

class NoStateHandler(PyStateHandler):  # no state, not named after one
    def execute(self, context):
        return PyState.completed()

class _PrivateHelper(PyStateHandler):  # private on purpose: no warning
    pass

class GettingVersionHandler(PyStateHandler):
    def execute(self, context):
        print("python getting version:", context.connection.execute_query("SELECT 7 AS x")[0]["x"])
        return PyState.completed()
`;

function script(options: string): string {
  return `import { createDefaultMachine, loadPythonHandlers, StateContext } from ${JSON.stringify(INDEX)};
const machine = createDefaultMachine();
const loaded = await loadPythonHandlers(machine, 'warn_handlers'${options});
console.log('skipped', loaded.skipped.map((i) => i.name).join(','), 'unmapped', loaded.unmapped.map((h) => h.info.name).join(','));
const ctx = new StateContext({ address: ${JSON.stringify(testHostPort)}, username: ${JSON.stringify(testServer.user)}, password: ${JSON.stringify(testServer.password)} });
await machine.run(ctx);
console.log('run done');
`;
}

function node(file: string, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file], {
      cwd,
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    // An open connection that keeps the process alive fails the test here instead of hanging it.
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('loadPythonHandlers from a script', function () {
  this.timeout(120_000);
  let dir: string;

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'load-warn-'));
    fs.writeFileSync(path.join(dir, 'warn_handlers.py'), HANDLERS);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('finds a module of the current folder, warns about unused classes, and the process ends', async () => {
    fs.writeFileSync(path.join(dir, 'default.mjs'), script(''));
    const r = await node('default.mjs', dir);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /skipped Checker unmapped NoStateHandler/);
    assert.match(r.stdout, /python getting version: 7/);
    assert.match(r.stdout, /run done/);
    assert.match(
      r.stderr,
      /TestRigWarning: Checker \(.*warn_handlers\.py:3\) is a PyStateHandler subclass but was not loaded: handler classes must be named …Handler \(rename it CheckerHandler\)/,
    );
    assert.match(r.stderr, /TestRigWarning: NoStateHandler \(.*warn_handlers\.py:7\) serves no state/);
    assert.doesNotMatch(r.stderr, /_PrivateHelper/);
  });

  it('onWarning receives the warnings instead; false silences them', async () => {
    fs.writeFileSync(path.join(dir, 'collect.mjs'), script(", { onWarning: (m) => console.log('got:', m) }"));
    const collected = await node('collect.mjs', dir);
    assert.equal(collected.code, 0, collected.stderr);
    assert.equal(collected.stdout.match(/^got: /gm)?.length, 2, collected.stdout);
    assert.doesNotMatch(collected.stderr, /TestRigWarning/);
    fs.writeFileSync(path.join(dir, 'quiet.mjs'), script(', { onWarning: false }'));
    const quiet = await node('quiet.mjs', dir);
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.doesNotMatch(quiet.stdout + quiet.stderr, /warning/i);
  });

  it('demo reports a class skipped by the naming rule and runs one with a state of its own', async () => {
    fs.writeFileSync(
      path.join(dir, 'own_state.py'),
      `from test_rig import PyStateHandler, PyState

class Checker(PyStateHandler):
    pass

class MineHandler(PyStateHandler):
    state = "MyOwnState"

    def execute(self, context):
        print("in my own state")
        return PyState.completed()
`,
    );
    const r = await runCli(
      [
        'demo',
        '--python-module',
        'own_state',
        '-H',
        testHostPort,
        '-u',
        testServer.user,
        `--password=${testServer.password}`,
      ],
      { cwd: dir },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /warning: Checker .* was not loaded: handler classes must be named …Handler/);
    assert.match(r.stdout, /GettingVersion → MyOwnState/);
    assert.match(r.stdout, /in my own state/);
  });
});
