"""The peers benchmark's handlers for test-rig (bench/peers/testrig.ts): the same
methods as peers_plain.Bench, on PyStateHandler classes."""

from test_rig import PyStateHandler


def make_rows(n=100):
    return [
        [i, f"name-{i}", i * 1.5, i % 2 == 0, None if i % 3 else f"note {i}",
         f"2026-01-{(i % 28) + 1:02d}T12:00:00"]
        for i in range(n)
    ]


class BenchHandler(PyStateHandler):
    state = "Bench"

    def __init__(self) -> None:
        super().__init__()
        self.rows = make_rows()

    def trivial(self, ctx=None):
        return "Completed"

    def with_context(self, ctx):
        return {"state": "Completed", "host": ctx["host"]}

    def rows_out(self, ctx=None):
        return self.rows

    def rows_in(self, rows):
        return len(rows)

    async def execute(self, context) -> str:
        return "Completed"


class InlineBenchHandler(BenchHandler):
    state = "InlineBench"
    inline = True


class QueryHandler(PyStateHandler):
    state = "Query"

    async def execute(self, context) -> str:
        await context.connection.query("SELECT 1")
        return "Completed"


class InlineQueryHandler(QueryHandler):
    state = "InlineQuery"
    inline = True
