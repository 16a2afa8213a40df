"""Handlers the engine benchmark drives. Each loops on its own state until
it has made ``n`` steps, so a visit costs only the call under test."""

from test_rig import PyState, PyStateHandler


class _Loop(PyStateHandler):
    n = 1000

    def __init__(self, config=None) -> None:
        super().__init__()
        self.left = int((config or {}).get("n", self.n))


class AwaitQueryHandler(_Loop):
    state = "AwaitQuery"

    async def execute(self, context) -> str:
        await context.connection.query("SELECT 1")
        self.left -= 1
        return "AwaitQuery" if self.left > 0 else PyState.completed()


class AwaitQueryInlineHandler(AwaitQueryHandler):
    state = "AwaitQueryInline"
    inline = True

    async def execute(self, context) -> str:
        await context.connection.query("SELECT 1")
        self.left -= 1
        return "AwaitQueryInline" if self.left > 0 else PyState.completed()


class BlockingQueryHandler(_Loop):
    state = "BlockingQuery"

    def execute(self, context) -> str:
        context.connection.execute_query("SELECT 1")
        self.left -= 1
        return "BlockingQuery" if self.left > 0 else PyState.completed()


# Visits with no query: two states ping-pong so every step is a full
# enter + execute + exit visit.
class _Visit(_Loop):
    other = ""

    def enter(self, context) -> str:
        return PyState.connecting()

    def execute(self, context) -> str:
        self.left -= 1
        return self.other if self.left > 0 else PyState.completed()

    def exit(self, context) -> None:
        return None


class PingHandler(_Visit):
    state = "Ping"
    other = "Pong"


class PongHandler(_Visit):
    state = "Pong"
    other = "Ping"


class _AsyncVisit(_Loop):
    other = ""

    async def enter(self, context) -> str:
        return PyState.connecting()

    async def execute(self, context) -> str:
        self.left -= 1
        return self.other if self.left > 0 else PyState.completed()

    async def exit(self, context) -> None:
        return None


class APingHandler(_AsyncVisit):
    state = "APing"
    other = "APong"


class APongHandler(_AsyncVisit):
    state = "APong"
    other = "APing"


class IPingHandler(_Visit):
    state = "IPing"
    other = "IPong"
    inline = True


class IPongHandler(_Visit):
    state = "IPong"
    other = "IPing"
    inline = True


class IAPingHandler(_AsyncVisit):
    state = "IAPing"
    other = "IAPong"
    inline = True


class IAPongHandler(_AsyncVisit):
    state = "IAPong"
    other = "IAPing"
    inline = True


# A big result in a handler: every visit fetches the whole table the bench made.
class FetchRowsHandler(_Loop):
    state = "FetchRows"

    def __init__(self, config=None) -> None:
        super().__init__(config)
        self.sql = (config or {}).get("sql", "SELECT 1")

    async def execute(self, context) -> str:
        rows = await context.connection.query(self.sql)
        assert rows, "the bench table is empty"
        self.left -= 1
        return self.state if self.left > 0 else PyState.completed()


class FetchRowsInlineHandler(FetchRowsHandler):
    state = "FetchRowsInline"
    inline = True
