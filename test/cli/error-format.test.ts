// One error format for every command: a single `error: <what> (hint: <what to do>)` line on
// stderr, without the state machine's internal "<Handler>.<method> in state '<S>' failed:"
// prefix or a hint glued on with a dash, and a non-zero exit.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { runCli, type CliResult } from '../helpers/cli.js';
import { testHostPort } from '../helpers/db.js';

/** A local port nothing listens on (bound once, then closed). */
async function refusedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function errorLines(r: CliResult): string[] {
  return r.stderr.split('\n').filter((l) => l.startsWith('error'));
}

function assertOneErrorLine(r: CliResult, message: RegExp, hint: RegExp): void {
  const lines = errorLines(r);
  assert.equal(lines.length, 1, r.stderr);
  const m = /^error: (.+?) \(hint: (.+)\)$/.exec(lines[0]);
  assert.ok(m, `not "error: … (hint: …)": ${lines[0]}`);
  assert.match(m[1], message);
  assert.match(m[2], hint);
  assert.doesNotMatch(lines[0], /in state '|Handler\.(enter|execute|exit)| — /);
}

describe('error format of the commands (CLI)', function () {
  this.timeout(120_000);
  let dir: string;
  let refused: string;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'error-format-'));
    fs.writeFileSync(
      path.join(dir, 'demo_handlers.py'),
      'from test_rig import PyStateHandler, PyState\n\n\nclass CheckHandler(PyStateHandler):\n    state = "Check"\n\n    def execute(self, context):\n        return PyState.completed()\n',
    );
    fs.mkdirSync(path.join(dir, 'suite'));
    fs.copyFileSync(path.join(dir, 'demo_handlers.py'), path.join(dir, 'suite', 'test_check.py'));
    refused = `127.0.0.1:${await refusedPort()}`;
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const refusedCases: [string, () => string[]][] = [
    ['connect', () => ['connect', '-H', refused]],
    ['demo', () => ['demo', '--python-module', 'demo_handlers', '-H', refused]],
    ['run', () => ['run', '-H', refused, '--suite-dir', 'suite']],
    ['monitor', () => ['monitor', '-H', refused]],
  ];
  for (const [name, args] of refusedCases) {
    it(`${name}: a refused connection is one error line with its hint, exit 1`, async () => {
      const r = await runCli(args(), { cwd: dir });
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assertOneErrorLine(
        r,
        new RegExp(`^cannot connect to ${refused}: connection refused$`),
        /server running/,
      );
    });
  }

  it('connect: access denied names the user and says what to check', async () => {
    const r = await runCli(['connect', '-H', testHostPort, '-u', 'no_such_user_x']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assertOneErrorLine(r, /access denied for user 'no_such_user_x'/, /--user/);
  });

  it('connect --json: the message and the hint are separate fields', async () => {
    const r = await runCli(['connect', '--json', '-H', refused]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as { error: string; hint: string };
    assert.equal(out.error, `cannot connect to ${refused}: connection refused`);
    assert.match(out.hint, /server running/);
  });
});
