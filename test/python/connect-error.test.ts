// context.open_connection() to a server that cannot be reached raises test_rig.ConnectError
// (an OperationalError) with the mysql client's errno: 2005 for an unknown host, 2003 for a
// refused connection; not a JsError, not errno None.
import assert from 'node:assert/strict';
import { runSuiteSource } from '../helpers/cli.js';

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

  it('raises ConnectError with errno 2005 (unknown host) or 2003 (refused)', async () => {
    const r = await runSuiteSource('oc', SUITE);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /no-such-host\.invalid:4000 ConnectError errno 2005/);
    assert.match(r.stdout, /127\.0\.0\.1:1 ConnectError errno 2003/);
  });
});
