// context.open_connection() to a server that cannot be reached raises test_rig.ConnectError
// (an OperationalError) with the mysql client's errno: 2005 for an unknown host, 2003 for a
// refused connection; not a JsError, not errno None.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../helpers/cli.js';
import { testHostPort, testServer } from '../helpers/db.js';

const SUITE = `from test_rig import PyStateHandler, PyState, ConnectError, OperationalError


class OpenHandler(PyStateHandler):
    def execute(self, context):
        for host in ("no-such-host.invalid:4000", "127.0.0.1:1"):
            try:
                context.open_connection("x", host=host)
                print(host, "connected")
            except ConnectError as e:
                assert isinstance(e, OperationalError)
                print(host, "ConnectError errno", e.errno)
        return PyState.completed()
`;

describe('open_connection to an unreachable server', function () {
  this.timeout(120_000);
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'connect-err-'));
    fs.mkdirSync(path.join(dir, 'oc'));
    fs.writeFileSync(path.join(dir, 'oc', 'test_oc.py'), SUITE);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('raises ConnectError with errno 2005 (unknown host) or 2003 (refused)', async () => {
    const r = await runCli(
      [
        'run',
        '--suite-dir',
        'oc',
        '--show-output',
        '-H',
        testHostPort,
        '-u',
        testServer.user,
        `--password=${testServer.password}`,
      ],
      { cwd: dir },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /no-such-host\.invalid:4000 ConnectError errno 2005/);
    assert.match(r.stdout, /127\.0\.0\.1:1 ConnectError errno 2003/);
  });
});
