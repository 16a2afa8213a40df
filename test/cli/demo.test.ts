// `test-rig demo --python-module M`: the default chain with Python handlers
// mixed in, driven as a user would (child process, real exit codes).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI, cleanEnv, runCli } from '../helpers/cli.js';
import { testHostPort } from '../helpers/db.js';

const GUIDE_HANDLER = `from src.common.test_rig_python import PyStateHandler, PyStateContext, PyState

class MyPythonHandler(PyStateHandler):
    def enter(self, context: PyStateContext) -> str:
        print("Entering state...")
        return PyState.initial()

    def execute(self, context: PyStateContext) -> str:
        print("Executing state...")
        if context.connection:
            results = context.connection.execute_query("SELECT 1")
            print(f"Query returned {len(results)} results")
        return PyState.completed()

    def exit(self, context: PyStateContext) -> None:
        print("Exiting state...")


class TestingConnectionHandler(PyStateHandler):
    """Replaces the built-in TestingConnection step (named after the state)."""

    def execute(self, context: PyStateContext) -> str:
        rows = context.connection.execute_query("SELECT 41 + 1 AS answer")
        print(f"python testing connection: {rows[0]['answer']}")
        return PyState.verifying_database()
`;

describe('test-rig demo', () => {
  // A watching child outlives a failed assertion unless it is killed here.
  const children: ChildProcess[] = [];
  afterEach(() => children.splice(0).forEach((c) => c.exitCode === null && c.kill('SIGKILL')));

  let dir: string;
  const server = ['-H', testHostPort, '-u', 'root', '--password='];

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trdemo-'));
    fs.writeFileSync(path.join(dir, 'my_handlers.py'), GUIDE_HANDLER);
    fs.writeFileSync(
      path.join(dir, 'broken_handlers.py'),
      'from test_rig import PyStateHandler\nclass OopsHandler(PyStateHandler)\n    pass\n',
    );
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("runs the user guide's handler after the default chain and replaces a built-in state", async () => {
    const r = await runCli(['demo', '--python-module', 'my_handlers', ...server], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /python TestingConnectionHandler handles TestingConnection/);
    assert.match(r.stdout, /python testing connection: 42/);
    assert.match(
      r.stdout,
      /GettingVersion → MyPythonHandler\nEntering state\.\.\.\nExecuting state\.\.\.\nQuery returned 1 results\nExiting state\.\.\.\nMyPythonHandler → Completed/,
    );
    assert.match(r.stdout, /demo completed: mariadb /);
  });

  it('accepts a file path too', async () => {
    const r = await runCli(['demo', '--python-module', path.join(dir, 'my_handlers.py'), ...server]);
    assert.equal(r.code, 0, r.stderr);
  });

  it('reports a broken handler file in one line with file:line and exits non-zero', async () => {
    const r = await runCli(['demo', '--python-module', 'broken_handlers', ...server], { cwd: dir });
    assert.equal(r.code, 1);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /^error: .*SyntaxError.*broken_handlers\.py:2/);
  });

  it('names a module that does not exist in one line, without an importlib location', async () => {
    const r = await runCli(['demo', '--python-module', 'no_such_handlers', ...server], { cwd: dir });
    assert.equal(r.code, 1);
    assert.deepEqual(r.stderr.trim().split('\n'), [
      "error: cannot load Python handlers from no_such_handlers: ModuleNotFoundError: No module named 'no_such_handlers'",
    ]);
  });

  it('--watch runs the demo again with the edited handler until Ctrl-C', async () => {
    const child = spawn(
      process.execPath,
      [CLI, 'demo', '--python-module', 'my_handlers', '--watch', ...server],
      {
        cwd: dir,
        env: cleanEnv(),
      },
    );
    children.push(child);
    let output = '';
    const seen = (re: RegExp) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${re} in:\n${output}`)), 30_000);
        const check = () => {
          if (re.test(output)) {
            clearTimeout(timer);
            resolve();
          }
        };
        child.stdout.on('data', (d) => ((output += d), check()));
        child.stderr.on('data', (d) => ((output += d), check()));
        check();
      });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    await seen(/watching for changes/);
    fs.writeFileSync(
      path.join(dir, 'my_handlers.py'),
      GUIDE_HANDLER.replace('Executing state...', 'Executing the edited state...'),
    );
    await seen(/changed: my_handlers\.py[\s\S]*Executing the edited state\.\.\.[\s\S]*demo completed/);
    child.kill('SIGINT');
    assert.equal(await exited, 130); // Ctrl-C: the code every command stops with
    fs.writeFileSync(path.join(dir, 'my_handlers.py'), GUIDE_HANDLER);
  });
});
