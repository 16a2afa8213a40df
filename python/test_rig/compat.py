"""The old Python API's extra classes, working for real.

Files written for the Rust rig's shim import ``RealPyConnection`` and
``MultiConnectionTestHandler``; both now use connections opened through the
rig, and concurrent operations really run concurrently, one thread per
connection, in order within each connection."""

from __future__ import annotations

import threading
from typing import Any, Dict, List, Optional

from ._describe import exception_text
from .connection import PyConnection
from .context import PyStateContext
from .handler import PyStateHandler
from .state import PyState


class RealPyConnection(PyConnection):
    """A connection opened through the rig; ``host`` may be ``"host:port"``.
    Unset fields default to the running case's server and scratch database."""

    def __init__(
        self,
        connection_info: Optional[Dict[str, Any]] = None,
        connection_id: str = "default",
        host: Optional[str] = None,
        port: Optional[int] = None,
        username: Optional[str] = None,
        password: Optional[str] = None,
        database: Optional[str] = None,
    ) -> None:
        super().__init__(
            connection_info,
            connection_id,
            host=host,
            port=port,
            username=username,
            password=password,
            database=database,
        )


class MultiConnectionTestHandler(PyStateHandler):
    """Base for handlers that drive several connections (``conn_0`` … ``conn_N-1``)."""

    def __init__(self, connection_count: int = 3, *args: Any, **kwargs: Any) -> None:
        super().__init__()
        self.connection_count = connection_count
        self.connections: List[PyConnection] = []

    def enter(self, context: PyStateContext) -> Optional[str]:
        self.get_connections(context, self.connection_count)
        print(f"✓ Created {len(self.connections)} concurrent connections")
        return PyState.connecting()

    def get_connections(self, context: PyStateContext, count: Optional[int] = None) -> List[PyConnection]:
        """Returns ``count`` connections, opening the missing ones."""
        wanted = count if count is not None else self.connection_count
        while len(self.connections) < wanted:
            name = f"conn_{len(self.connections)}"
            self.connections.append(PyConnection({}, connection_id=name))
        context.connections = list(self.connections)
        return self.connections[:wanted]

    def execute_concurrent_operations(self, operations: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """Runs the operations of different connections concurrently; each
        connection's own operations keep their order. Results come back in the
        order of ``operations``."""
        by_name = {c.connection_id: c for c in self.connections}
        results: List[Optional[Dict[str, Any]]] = [None] * len(operations)
        groups: Dict[str, List[int]] = {}
        for index, op in enumerate(operations):
            groups.setdefault(op.get("connection_id", "conn_0"), []).append(index)

        def run_group(name: str, indexes: List[int]) -> None:
            conn = by_name.get(name)
            for index in indexes:
                results[index] = _run_operation(conn, name, operations[index])

        threads = [threading.Thread(target=run_group, args=item) for item in groups.items()]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return [r for r in results if r is not None]

    def exit(self, context: PyStateContext) -> None:
        for conn in self.connections:
            try:
                conn.rollback()
            finally:
                conn.close()
        self.connections = []


def _run_operation(conn: Optional[PyConnection], name: str, op: Dict[str, Any]) -> Dict[str, Any]:
    kind = op.get("operation", "query")
    out: Dict[str, Any] = {"connection_id": name, "result": None}
    if conn is None:
        out.update(status="error", error=f"no connection named {name!r}")
        return out
    try:
        if kind == "query":
            out.update(result=conn.execute_query(op["query"], op.get("params")), status="success")
        elif kind == "start_transaction":
            conn.start_transaction()
            out["status"] = "transaction_started"
        elif kind == "commit":
            conn.commit()
            out["status"] = "committed"
        elif kind == "rollback":
            conn.rollback()
            out["status"] = "rolled_back"
        else:
            raise ValueError(f"unknown operation {kind!r}")
    except Exception as exc:  # reported per operation, as the old API did
        out.update(status="error", error=exception_text(exc), exception=exc)
    return out
