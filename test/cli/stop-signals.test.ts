// Stopping a long-running command from outside: Ctrl-C (SIGINT) exits 130 and SIGTERM 143,
// after a graceful stop, the same in run --watch, demo --watch and monitor.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI, cleanEnv } from '../helpers/cli.js';
import { testHostPort, testServer } from '../helpers/db.js';
import { startEmulator, type Emulator } from '../emulator/server.js';

const HANDLER = `from test_rig import PyStateHandler, PyState


class CheckHandler(PyStateHandler):
    state = "Check"

    def execute(self, context):
        return PyState.completed()
`;

/** Starts the CLI, sends `signal` once `ready` shows on stdout or stderr, and resolves with how it ended. */
function stopWhenReady(
  args: string[],
  cwd: string,
  ready: RegExp,
  signal: NodeJS.Signals,
): Promise<{ code: number | null; killedBy: NodeJS.Signals | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd,
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let sent = false;
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (!sent && ready.test(output)) {
        sent = true;
        child.kill(signal);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code, killedBy) => resolve({ code, killedBy, output }));
  });
}

describe('stop signals: one exit code for every command (CLI)', function () {
  this.timeout(180_000);
  let dir: string;
  let emu: Emulator;
  const login = ['-u', testServer.user, `--password=${testServer.password}`];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stop-signals-'));
    fs.mkdirSync(path.join(dir, 'suite'));
    fs.writeFileSync(
      path.join(dir, 'suite', 'test_check.py'),
      HANDLER.replace('    state = "Check"\n\n', ''),
    );
    fs.writeFileSync(path.join(dir, 'demo_handlers.py'), HANDLER);
    emu = await startEmulator();
  });
  after(async () => {
    await emu.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const commands: [string, () => string[], RegExp][] = [
    [
      'run --watch',
      () => ['run', '--watch', '--suite-dir', 'suite', '-H', testHostPort, ...login],
      /watching for changes/,
    ],
    [
      'demo --watch',
      () => ['demo', '--watch', '--python-module', 'demo_handlers', '-H', testHostPort, ...login],
      /watching for changes/,
    ],
    [
      'monitor',
      () => ['monitor', '-H', `${emu.host}:${emu.port}`, '--password=', '--interval', '0.2'],
      /Import Job Status Update/,
    ],
  ];
  for (const [name, args, ready] of commands) {
    for (const [signal, expected] of [
      ['SIGINT', 130],
      ['SIGTERM', 143],
    ] as const) {
      it(`${name}: ${signal} stops it with exit ${expected}`, async () => {
        const r = await stopWhenReady(args(), dir, ready, signal);
        assert.equal(r.killedBy, null, `killed by ${r.killedBy} instead of stopping: ${r.output}`);
        assert.equal(r.code, expected, r.output);
        assert.doesNotMatch(r.output, /^error:/m);
      });
    }
  }
});
