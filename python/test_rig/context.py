"""``PyStateContext``: what a handler sees of the machine's context.

TypeScript owns the context; its fields are mirrored here before each call
that follows a change. Attributes a handler sets live on this Python object."""

from __future__ import annotations

from typing import Any, Dict, List, NamedTuple, Optional, cast

from ._types import make_rows
from ._native import native
from .connection import PyConnection, open_connection, open_connection_async


class ServerInfo(NamedTuple):
    kind: str  # 'tidb' | 'mysql' | 'mariadb' | 'unknown'
    version: str  # e.g. '7.5.1' for TiDB, '10.11.19' for MariaDB
    raw: str  # what SELECT VERSION() returned

    def at_least(self, version: str) -> bool:
        def parts(v: str) -> List[int]:
            return [int(p) for p in v.split(".") if p.isdigit()]

        return parts(self.version) >= parts(version)


class PyStateContext:
    """Connection parameters, the connection(s) and the server under test.

    The connection fields are typed as always present: ``test-rig run`` connects
    and detects the server before any handler runs. Only in a machine driven by
    your own code can they still be None (before its connecting state), which
    ``if context.connection:`` checks as the user's guide does."""

    host: str
    port: int
    username: str
    password: str
    database: str
    connection: PyConnection
    server: ServerInfo
    server_version: str

    def __init__(
        self,
        host: Optional[str] = None,
        port: Optional[int] = None,
        username: Optional[str] = None,
        password: Optional[str] = None,
        database: Optional[str] = None,
        connection: Optional[PyConnection] = None,
        connections: Optional[List[PyConnection]] = None,
    ) -> None:
        self.host = cast(str, host)
        self.port = cast(int, port)
        self.username = cast(str, username)
        self.password = cast(str, password)
        self.database = cast(str, database)
        self.connection = cast(PyConnection, connection)
        self.connections = connections if connections is not None else []
        self.server = cast(ServerInfo, None)
        self.server_version = cast(str, None)
        self.params: Dict[str, Any] = {}
        self.custom_data: Dict[str, Any] = {}
        self.state: Optional[str] = None
        self.import_jobs: List[Dict[str, Any]] = []
        self._rig_key: Optional[int] = None
        self._rig_output: Optional[int] = None

    def open_connection(self, name: Optional[str] = None, **overrides: Any) -> PyConnection:
        """A new connection from TypeScript (same server and database unless overridden).
        Blocks: an inline handler (on the JS thread) awaits ``open_connection_async`` instead."""
        if native.on_js_thread():
            raise RuntimeError(
                "open_connection() blocks, and an inline handler (inline = True) runs on the JS thread: "
                "use `await context.open_connection_async(...)`, or remove `inline = True`"
            )
        conn = open_connection(name or f"conn_{len(self.connections) + 1}", **overrides)
        self.connections.append(conn)
        return conn

    async def open_connection_async(self, name: Optional[str] = None, **overrides: Any) -> PyConnection:
        """``open_connection`` without blocking: awaitable on a lane and inline."""
        conn = await open_connection_async(name or f"conn_{len(self.connections) + 1}", **overrides)
        self.connections.append(conn)
        return conn

    def _mirror(self, fields: Dict[str, Any]) -> None:
        """Called by TypeScript with the fields that changed."""
        for key, value in fields.items():
            if key == "server":
                self.server = cast(ServerInfo, ServerInfo(value["kind"], value["version"], value["raw"]) if value else None)
                self.server_version = cast(str, value["raw"] if value else None)
            elif key == "import_jobs":
                # The last SHOW IMPORT JOBS poll of the monitor states: rows as execute_query gives them.
                self.import_jobs = make_rows(value["columns"], value["rows"]) if value else []
            else:
                setattr(self, key, value)

    def __repr__(self) -> str:
        return (
            f"PyStateContext(host={self.host!r}, port={self.port!r}, username={self.username!r}, "
            f"password={'***' if self.password else self.password!r}, database={self.database!r})"
        )
