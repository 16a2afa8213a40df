// PyConnection.start() leaves a statement running; another statement on the same
// connection (execute_query, await query, start, start_transaction) is refused at once
// with a message naming both statements, as TypeScript's Interleaving.start refuses it,
// instead of queueing behind the first (a lock test would hang for the lock-wait timeout).
import assert from 'node:assert/strict';
import { runSuiteSource } from '../helpers/cli.js';

const SUITE = `from test_rig import PyStateHandler, PyState


class InFlightHandler(PyStateHandler):
    def execute(self, context):
        conn = context.connection
        pending = conn.start("SELECT SLEEP(2)")
        for what, call in (
            ("execute_query", lambda: conn.execute_query("SELECT 1")),
            ("start", lambda: conn.start("SELECT 2")),
            ("start_transaction", conn.start_transaction),
        ):
            try:
                call()
                print(what, "was not refused")
            except Exception as e:
                print(what, "refused:", type(e).__name__, getattr(e, "name", ""), e)
        pending.wait()
        print("after wait:", conn.execute_query("SELECT 3 AS x")[0]["x"])
        return PyState.completed()


class InFlightAsyncHandler(PyStateHandler):
    async def execute(self, context):
        conn = context.connection
        pending = conn.start("SELECT SLEEP(2)")
        try:
            await conn.query("SELECT 1")
            print("await query was not refused")
        except Exception as e:
            print("await query refused:", e)
        await pending.wait_async()
        return PyState.completed()
`;

describe('a statement in flight on a Python connection', function () {
  this.timeout(120_000);

  it('refuses another statement on that connection at once; after wait() it is free again', async () => {
    const r = await runSuiteSource('inflight', SUITE);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    for (const what of ['execute_query', 'start', 'start_transaction']) {
      assert.match(
        r.stdout,
        new RegExp(
          `${what} refused: JsError StatementInFlightError \\[main\\] cannot run .*still running statement #\\d+ \\("SELECT SLEEP\\(2\\)"\\)`,
        ),
      );
    }
    assert.doesNotMatch(r.stdout, /was not refused/);
    assert.match(r.stdout, /after wait: 3/);
    assert.match(r.stdout, /await query refused: \[main\] cannot run "SELECT 1"/);
  });
});
