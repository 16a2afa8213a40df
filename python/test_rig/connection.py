"""``PyConnection``: a database connection owned by TypeScript (mysql2).

Python never opens sockets itself: every call goes to the connection TypeScript
holds, so SQL echo, timing, retry and the scratch database apply equally to
Python and TypeScript handlers."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from . import _bridge
from ._types import encode_params, make_rows, rows_from_packed


class PyConnection:
    """A connection to the server under test.

    ``execute_query`` blocks (as in the user's guide); ``await query()`` does
    not. Both return a list of rows, each a dict keyed by column name (and by
    ``col_0``, ``col_1``… positionally, for older files). A statement with
    several result sets (a ``CALL``) returns the first; ``result_sets`` holds
    all of them. ``warning_count`` is the last statement's, SELECTs included."""

    def __init__(self, connection_info: Optional[Dict[str, Any]] = None, connection_id: str = "default", **kwargs: Any) -> None:
        self.connection_id = connection_id
        self.affected_rows = 0
        self.last_insert_id = 0
        self.warning_count = 0
        self.result_sets: List[List[Dict[str, Any]]] = []
        self._key: Optional[int] = kwargs.pop("_rig_key", None)
        if self._key is None:
            # Constructed by handler code (old API): open a real one through the rig.
            overrides = dict(connection_info or {})
            overrides.update({k: v for k, v in kwargs.items() if v is not None})
            info = _bridge.call_js_blocking(_open_payload(overrides, connection_id))
            self._key = info["key"]

    # -- queries -----------------------------------------------------------------

    def execute_query(self, query: str, params: Any = None) -> List[Dict[str, Any]]:
        """Runs one statement and waits for it. Returns its rows ([] for DML)."""
        return self._rows(_bridge.call_js_blocking(self._payload(query, params)))

    async def query(self, query: str, params: Any = None) -> List[Dict[str, Any]]:
        """Runs one statement without blocking the event loop."""
        return self._rows(await _bridge.call_js(self._payload(query, params)))

    def execute(self, query: str, params: Any = None) -> List[Dict[str, Any]]:
        """Alias of ``execute_query``."""
        return self.execute_query(query, params)

    def start(self, query: str, params: Any = None) -> "PendingStatement":
        """Issues a statement without waiting for it: the interleaving primitive
        of multi-connection tests. Assert it blocks with ``expect_blocked()``,
        act on other connections, then ``wait()`` for its rows or its error."""
        payload = self._payload(query, params)
        payload[0] = "start"
        return PendingStatement(self, _bridge.call_js_blocking(payload)["id"], query)

    # -- transactions ------------------------------------------------------------

    def start_transaction(self) -> None:
        _bridge.call_js_blocking(["begin", self._key])

    def commit(self) -> None:
        _bridge.call_js_blocking(["commit", self._key])

    def rollback(self) -> None:
        _bridge.call_js_blocking(["rollback", self._key])

    async def start_transaction_async(self) -> None:
        await _bridge.call_js(["begin", self._key])

    async def commit_async(self) -> None:
        await _bridge.call_js(["commit", self._key])

    async def rollback_async(self) -> None:
        await _bridge.call_js(["rollback", self._key])

    def close(self) -> None:
        if self._key is not None:
            _bridge.call_js_blocking(["close", self._key])

    @property
    def thread_id(self) -> int:
        """The server's id for this connection (for KILL and processlist checks)."""
        return int(_bridge.call_js_blocking(["info", self._key])["threadId"])

    # -- internals ---------------------------------------------------------------

    def _payload(self, query: str, params: Any) -> List[Any]:
        if not isinstance(query, str):
            raise TypeError(f"query must be a str, not {type(query).__name__}")
        return ["query", self._key, query, encode_params(params)]

    def _rows(self, result: List[Any]) -> List[Dict[str, Any]]:
        # [packed result sets, affected_rows, last_insert_id, warning_count], or unpacked
        # [columns, rows, affected_rows, last_insert_id, warning_count, more_sets]: see forPython() in runtime.ts
        if isinstance(result[0], bytes):
            packed, self.affected_rows, self.last_insert_id, self.warning_count = result
            self.result_sets = rows_from_packed(packed)
            return self.result_sets[0] if self.result_sets else []
        columns, rows, self.affected_rows, self.last_insert_id, self.warning_count, more = result
        first = make_rows(columns, rows)
        self.result_sets = ([first] if columns else []) + [make_rows(c, r) for c, r in more]
        return first

    def __repr__(self) -> str:
        return f"<PyConnection {self.connection_id!r}>"


def _open_payload(overrides: Dict[str, Any], name: str) -> List[Any]:
    ctx = _bridge.context_now()
    return ["open", name, getattr(ctx, "_rig_key", None), dict(overrides)]


def open_connection(name: str, **overrides: Any) -> PyConnection:
    """Asks TypeScript for a new connection (same server and scratch database
    as the running case unless overridden: host, port, username, password, database)."""
    return PyConnection(overrides, connection_id=name)


async def open_connection_async(name: str, **overrides: Any) -> PyConnection:
    """``open_connection`` without blocking: awaitable on a lane and inline (``inline = True``)."""
    wanted = {k: v for k, v in overrides.items() if v is not None}
    info = await _bridge.call_js(_open_payload(wanted, name))
    return PyConnection(None, name, _rig_key=info["key"])


class PendingStatement:
    """A statement running on a connection while the handler does other things."""

    def __init__(self, connection: PyConnection, statement_id: int, sql: str) -> None:
        self.connection = connection
        self.id = statement_id
        self.sql = sql

    def expect_blocked(self, seconds: float = 0.2) -> None:
        """Asserts the statement is still running after ``seconds`` (e.g. waiting for a lock)."""
        if self.finished_within(seconds):
            raise AssertionError(
                f"[{self.connection.connection_id}] {self.sql!r} finished within {seconds:g} s; expected it to block"
            )

    def finished_within(self, seconds: float) -> bool:
        """Waits up to ``seconds``; True if the statement finished (with rows or an error) by then."""
        return bool(_bridge.call_js_blocking(["blocked", self.id, int(seconds * 1000)]))

    def wait(self) -> List[Dict[str, Any]]:
        """Waits for the statement; returns its rows or raises its DatabaseError."""
        return self.connection._rows(_bridge.call_js_blocking(["wait", self.id]))

    async def wait_async(self) -> List[Dict[str, Any]]:
        return self.connection._rows(await _bridge.call_js(["wait", self.id]))

    def __repr__(self) -> str:
        return f"<PendingStatement #{self.id} on {self.connection.connection_id}: {self.sql!r}>"
