"""test_rig: write test-rig state handlers in Python.

    from test_rig import PyStateHandler, PyStateContext, PyState

    class MyHandler(PyStateHandler):
        def execute(self, context: PyStateContext) -> str:
            rows = context.connection.execute_query("SELECT 1 AS one")
            assert rows[0]["one"] == 1
            return PyState.completed()
"""

from .compat import MultiConnectionTestHandler, RealPyConnection
from .connection import PendingStatement, PyConnection
from .context import PyStateContext, ServerInfo
from .errors import (
    AccessDeniedError,
    CheckConstraintError,
    ConnectError,
    ConnectionLostError,
    DatabaseError,
    DeadlockError,
    DuplicateKeyError,
    ForeignKeyError,
    IntegrityError,
    JsError,
    LockWaitTimeoutError,
    NoSuchTableError,
    NotNullError,
    OperationalError,
    ProgrammingError,
    RigError,
    SQLSyntaxError,
    TransactionError,
    UnknownDatabaseError,
    UnsupportedError,
    WriteConflictError,
)
from .handler import PyStateHandler
from .state import PyState
from .sql import quote_identifier
from ._types import Row
from . import testing
from . import _aliases
from . import _children

__all__ = [
    "PyStateHandler",
    "PyState",
    "PyStateContext",
    "PyConnection",
    "PendingStatement",
    "RealPyConnection",
    "MultiConnectionTestHandler",
    "ServerInfo",
    "Row",
    "RigError",
    "JsError",
    "DatabaseError",
    "OperationalError",
    "ConnectError",
    "ConnectionLostError",
    "AccessDeniedError",
    "IntegrityError",
    "DuplicateKeyError",
    "ForeignKeyError",
    "CheckConstraintError",
    "NotNullError",
    "TransactionError",
    "DeadlockError",
    "LockWaitTimeoutError",
    "WriteConflictError",
    "ProgrammingError",
    "SQLSyntaxError",
    "NoSuchTableError",
    "UnknownDatabaseError",
    "UnsupportedError",
    "quote_identifier",
]

_aliases.install()
_children.install()
