"""The peers benchmark's handler, with no test_rig import: the JSON-lines child,
node-calls-python and pythonia all call this class (bench/peers/)."""

import threading


def make_rows(n=100):
    # Same shape as makeRows() in bench/peers/driver.ts.
    return [
        [i, f"name-{i}", i * 1.5, i % 2 == 0, None if i % 3 else f"note {i}",
         f"2026-01-{(i % 28) + 1:02d}T12:00:00"]
        for i in range(n)
    ]


class Bench:
    def __init__(self, config=None):
        self.rows = make_rows()

    def trivial(self, ctx=None):
        return "Completed"

    def with_context(self, ctx):
        return {"state": "Completed", "host": ctx["host"]}

    async def atrivial(self, ctx=None):
        return "Completed"

    def rows_out(self, ctx=None):
        return self.rows

    def rows_in(self, rows):
        return len(rows)

    def query_via(self, query):
        """pythonia: calling the JS function blocks until its promise settles."""
        query("SELECT 1")
        return "Completed"


class CallbackQuery:
    """node-calls-python: a JS callback cannot hand back a promise's result, so the
    handler (on a libuv pool thread) calls JS to start the query and waits on an
    Event that JS sets through callSync(deliver) once the query resolved."""

    def __init__(self, config=None):
        self.done = threading.Event()
        self.result = None

    def deliver(self, rows):
        self.result = rows
        self.done.set()

    def execute(self, query):
        self.done.clear()
        query("SELECT 1")
        self.done.wait()
        return "Completed"
