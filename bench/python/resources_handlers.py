"""Handlers for the resource-growth checks (bench/resources.ts and
test/reliability/resources.test.ts): each ping-pongs between two states
until it has made ``n`` visits, so every step is a full enter/execute/exit
visit; the query handlers run one SELECT per visit."""
import gc
import tracemalloc

from test_rig import PyState, PyStateHandler


class _Loop(PyStateHandler):
    other = ""

    def __init__(self, config=None) -> None:
        super().__init__()
        self.left = int((config or {}).get("n", 1000))

    def enter(self, context):
        return PyState.connecting()

    def execute(self, context):
        self.left -= 1
        return self.other if self.left > 0 else PyState.completed()

    def exit(self, context):
        return None


class _AsyncLoop(_Loop):
    async def enter(self, context):
        return PyState.connecting()

    async def execute(self, context):
        self.left -= 1
        return self.other if self.left > 0 else PyState.completed()

    async def exit(self, context):
        return None


class SPingHandler(_Loop):
    state, other, inline = "SPing", "SPong", True


class SPongHandler(_Loop):
    state, other, inline = "SPong", "SPing", True


class APingHandler(_AsyncLoop):
    state, other, inline = "APing", "APong", True


class APongHandler(_AsyncLoop):
    state, other, inline = "APong", "APing", True


class DPingHandler(_Loop):
    """The default path: each visit is a job on the machine's lane."""

    state, other = "DPing", "DPong"


class DPongHandler(_Loop):
    state, other = "DPong", "DPing"


class QueryHandler(_Loop):
    """A blocking query per visit, from the lane thread."""

    state = "Query"

    def execute(self, context):
        row = context.connection.execute_query("SELECT 1 AS one, 'x' AS s")[0]
        assert row["one"] == 1
        self.left -= 1
        return "Query" if self.left > 0 else PyState.completed()


class AwaitQueryHandler(_Loop):
    """An awaited query per visit, inline (on the JS thread)."""

    state, inline = "AwaitQuery", True

    async def execute(self, context):
        rows = await context.connection.query("SELECT 1 AS one, 'x' AS s")
        assert rows[0]["one"] == 1
        self.left -= 1
        return "AwaitQuery" if self.left > 0 else PyState.completed()


def python_objects() -> int:
    """Live objects the garbage collector tracks, after a full collection."""
    gc.collect()
    return len(gc.get_objects())


def traced_bytes() -> int:
    """Bytes Python has allocated since tracing started (tracemalloc)."""
    if not tracemalloc.is_tracing():
        tracemalloc.start()
    gc.collect()
    return tracemalloc.get_traced_memory()[0]
