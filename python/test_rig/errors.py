"""Exceptions raised to Python handlers.

SQL errors raise ``DatabaseError`` subclasses chosen by the error's class,
which TypeScript decides from the server's error number (ts/errors.ts), so a
test can assert "this statement must deadlock" with ``pytest.raises``-style
code: ``except DeadlockError``."""

from __future__ import annotations

from typing import Any, Dict, Optional, Type


class RigError(Exception):
    """Base of every exception test-rig raises."""


class JsError(RigError):
    """A JavaScript error that is not a database error."""

    def __init__(self, message: str, name: str = "Error") -> None:
        super().__init__(message)
        self.name = name


class DatabaseError(RigError):
    """An error reported by the database server (or the connection to it)."""

    def __init__(
        self,
        message: str,
        errno: Optional[int] = None,
        sqlstate: Optional[str] = None,
        code: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.msg = message
        self.errno = errno
        self.sqlstate = sqlstate
        self.code = code
        # TypeScript's class of the error ('deadlock', 'connection_lost'...; see ts/errors.ts).
        self.error_class = "other"

    def __str__(self) -> str:
        if self.errno is not None:
            return f"({self.errno}{'/' + self.sqlstate if self.sqlstate else ''}) {self.msg}"
        return self.msg


class OperationalError(DatabaseError):
    """Connection-level and server-state problems."""


class ConnectionLostError(OperationalError):
    """The connection dropped (2006, 2013, 1927 killed, 4031, 1053 shutdown, ECONNRESET...)."""


class ConnectError(OperationalError):
    """The server could not be reached, with the mysql client's numbers: errno 2005 for
    an unknown host, 2003 for anything else (refused, timed out, unreachable)."""


class AccessDeniedError(OperationalError):
    """Authentication or privilege failure (1044, 1045, 1142, 1227, 1698)."""


class IntegrityError(DatabaseError):
    """A constraint was violated."""


class DuplicateKeyError(IntegrityError):
    """1062/1586: duplicate entry for a unique key."""


class ForeignKeyError(IntegrityError):
    """1216, 1217, 1451, 1452: foreign key violation."""


class CheckConstraintError(IntegrityError):
    """3819 (MySQL/TiDB) or 4025 (MariaDB): CHECK constraint violated."""


class NotNullError(IntegrityError):
    """1048/1364: a NOT NULL column got no value."""


class TransactionError(DatabaseError):
    """Concurrency-control failures a transaction may retry."""


class DeadlockError(TransactionError):
    """1213: deadlock found; the transaction was rolled back."""


class LockWaitTimeoutError(TransactionError):
    """1205: lock wait timeout exceeded."""


class WriteConflictError(TransactionError):
    """TiDB 9007 write conflict, 8022 retryable, 8028 schema changed."""


class ProgrammingError(DatabaseError):
    """Errors in the statement itself or the objects it names."""


class SQLSyntaxError(ProgrammingError):
    """1064/1149: SQL syntax error."""


class NoSuchTableError(ProgrammingError):
    """1146: table doesn't exist."""


class UnknownDatabaseError(ProgrammingError):
    """1049: unknown database."""


class UnsupportedError(DatabaseError):
    """1235/1178: the server does not support this feature."""


# TypeScript classifies every database error (errno, driver code) with the one
# table in ts/errors.ts and sends the class's name along; this maps the name to
# the exception raised here. Classes without an exception of their own raise the
# nearest base.
BY_ERROR_CLASS: Dict[str, Type[DatabaseError]] = {
    "connection_lost": ConnectionLostError,
    "connection_refused": OperationalError,
    "host_unreachable": OperationalError,
    "dns": OperationalError,
    "timeout": OperationalError,
    "server_busy": OperationalError,
    "circuit_open": OperationalError,
    "aborted": OperationalError,
    "access_denied": AccessDeniedError,
    "unknown_database": UnknownDatabaseError,
    "syntax": SQLSyntaxError,
    "no_such_table": NoSuchTableError,
    "lock_wait_timeout": LockWaitTimeoutError,
    "deadlock": DeadlockError,
    "write_conflict": WriteConflictError,
    "duplicate_key": DuplicateKeyError,
    "foreign_key": ForeignKeyError,
    "check_constraint": CheckConstraintError,
    "not_null": NotNullError,
    "unsupported": UnsupportedError,
    "other": DatabaseError,
}

_DNS_CODES = {"ENOTFOUND", "EAI_AGAIN", "EAI_FAIL", "EAI_NONAME"}
_UNKNOWN_HOST = 2005  # CR_UNKNOWN_HOST, as the mysql client reports it
_CANNOT_CONNECT = 2003  # CR_CONN_HOST_ERROR


def error_from_js(info: Any) -> Exception:
    """Builds the Python exception for an error JavaScript reported: a
    ``DatabaseError`` subclass chosen by the ``errorClass`` JS sent, else ``JsError``."""
    if not isinstance(info, dict):
        return JsError(str(info))
    message = str(info.get("message", "JavaScript error"))
    error_class = info.get("errorClass")
    errno = info.get("errno")
    code = info.get("code")
    if code == "SQL_PARAMETER":  # a parameter refused before anything was sent (ts/db/sql-values.ts)
        return TypeError(message)
    if info.get("name") == "ConnectError" and errno is None:
        # a connection that never was (open_connection): not a lost one, not a JsError
        never = ConnectError(message, errno=_UNKNOWN_HOST if code in _DNS_CODES else _CANNOT_CONNECT, code=code)
        never.error_class = str(error_class) if error_class is not None else "other"
        return never
    if error_class is None and errno is None and not info.get("sqlState"):
        return JsError(message, name=str(info.get("name", "Error")))
    cls = BY_ERROR_CLASS.get(str(error_class), DatabaseError)
    error = cls(message, errno=errno, sqlstate=info.get("sqlState"), code=code)
    error.error_class = str(error_class) if error_class is not None else "other"
    return error
