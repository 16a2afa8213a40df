// asyncio in handlers, inline (on the JS thread) and on lanes, under `test-rig run`:
// `await asyncio.sleep` and `await context.open_connection_async()` work in both; a
// connection that cannot be opened raises ConnectError with the mysql client's errno
// (2005 unknown host, 2003 refused); the blocking open_connection() inline says what to do.
import assert from 'node:assert/strict';
import { runSuiteSource, type CliResult } from '../helpers/cli.js';

const SUITE = `import asyncio

from test_rig import ConnectError, PyState, PyStateHandler


class InlineAsyncioHandler(PyStateHandler):
    inline = True

    async def execute(self, context):
        assert await asyncio.sleep(0.05, result="slept") == "slept"
        await asyncio.sleep(0)
        done = await asyncio.sleep(0.01, result="in time")
        conn = await context.open_connection_async("extra")
        mine = await conn.query("SELECT CONNECTION_ID() AS id")
        main = await context.connection.query("SELECT CONNECTION_ID() AS id")
        assert mine[0]["id"] != main[0]["id"], "a connection of its own"
        assert conn in context.connections
        print(f"{type(self).__name__}: {done}, own connection")
        for name, where in (("unknown", {"host": "no-such-host.invalid"}), ("refused", {"host": "127.0.0.1", "port": 1})):
            try:
                await context.open_connection_async(name, **where)
            except ConnectError as e:
                print(f"{type(self).__name__}: {name} errno={e.errno}")
        return PyState.completed()


class LaneAsyncioHandler(InlineAsyncioHandler):
    inline = False


class InlineBlockingOpenHandler(PyStateHandler):
    inline = True

    def execute(self, context):
        context.open_connection("extra")
        return PyState.completed()
`;

describe('asyncio in inline and lane handlers (CLI)', function () {
  this.timeout(120_000);
  let r: CliResult;

  before(async () => {
    r = await runSuiteSource('aio', SUITE);
  });

  for (const name of ['InlineAsyncioHandler', 'LaneAsyncioHandler']) {
    it(`${name}: asyncio.sleep and open_connection_async work`, () => {
      assert.match(r.stdout, new RegExp(`✔ PASS\\s+aio/test_aio\\.py::${name}\\b`), r.stdout + r.stderr);
      assert.match(r.stdout, new RegExp(`${name}: in time, own connection`));
      assert.doesNotMatch(r.stdout + r.stderr, /no running event loop|JsError/);
    });

    it(`${name}: an unknown host is ConnectError 2005, a refused connection 2003`, () => {
      assert.match(r.stdout, new RegExp(`${name}: unknown errno=2005`));
      assert.match(r.stdout, new RegExp(`${name}: refused errno=2003`));
    });
  }

  it('the blocking open_connection() inline fails at its line, pointing to open_connection_async', () => {
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /✖ FAIL\s+aio\/test_aio\.py::InlineBlockingOpenHandler/);
    assert.match(r.stdout, /use `await context\.open_connection_async\(\.\.\.\)`/);
    const line = SUITE.split('\n').findIndex((l) => l.includes('context.open_connection("extra")')) + 1;
    assert.match(r.stdout, new RegExp(`at \\S+test_aio\\.py:${line}\\n`));
  });
});
