# Public API of test_rig (re-exported names).
from .compat import MultiConnectionTestHandler as MultiConnectionTestHandler, RealPyConnection as RealPyConnection
from .connection import PendingStatement as PendingStatement, PyConnection as PyConnection
from .context import PyStateContext as PyStateContext, ServerInfo as ServerInfo
from .errors import AccessDeniedError as AccessDeniedError, CheckConstraintError as CheckConstraintError, ConnectError as ConnectError, ConnectionLostError as ConnectionLostError, DatabaseError as DatabaseError, DeadlockError as DeadlockError, DuplicateKeyError as DuplicateKeyError, ForeignKeyError as ForeignKeyError, IntegrityError as IntegrityError, JsError as JsError, LockWaitTimeoutError as LockWaitTimeoutError, NoSuchTableError as NoSuchTableError, NotNullError as NotNullError, OperationalError as OperationalError, ProgrammingError as ProgrammingError, RigError as RigError, SQLSyntaxError as SQLSyntaxError, TransactionError as TransactionError, UnknownDatabaseError as UnknownDatabaseError, UnsupportedError as UnsupportedError, WriteConflictError as WriteConflictError
from .handler import PyStateHandler as PyStateHandler
from .state import PyState as PyState
from .sql import quote_identifier as quote_identifier
from ._types import Row as Row

__all__: list[str]
