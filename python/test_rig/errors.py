"""Exceptions raised to Python handlers.

SQL errors raise ``DatabaseError`` subclasses chosen by the server's error
number, so a test can assert "this statement must deadlock" with
``pytest.raises``-style code: ``except DeadlockError``."""

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

    def __str__(self) -> str:
        if self.errno is not None:
            return f"({self.errno}{'/' + self.sqlstate if self.sqlstate else ''}) {self.msg}"
        return self.msg


class OperationalError(DatabaseError):
    """Connection-level and server-state problems."""


class ConnectionLostError(OperationalError):
    """The connection dropped (2006, 2013, killed)."""


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
    """TiDB 9007: write conflict (optimistic transaction)."""


class ProgrammingError(DatabaseError):
    """Errors in the statement itself or the objects it names."""


class SQLSyntaxError(ProgrammingError):
    """1064/1149: SQL syntax error."""


class NoSuchTableError(ProgrammingError):
    """1146: table doesn't exist."""


class UnknownDatabaseError(ProgrammingError):
    """1049: unknown database."""


class UnsupportedError(DatabaseError):
    """1235/1178/8200-range: the server does not support this feature."""


_BY_ERRNO: Dict[int, Type[DatabaseError]] = {
    1062: DuplicateKeyError,
    1586: DuplicateKeyError,
    1216: ForeignKeyError,
    1217: ForeignKeyError,
    1451: ForeignKeyError,
    1452: ForeignKeyError,
    3819: CheckConstraintError,
    4025: CheckConstraintError,
    1048: NotNullError,
    1364: NotNullError,
    1213: DeadlockError,
    1205: LockWaitTimeoutError,
    9007: WriteConflictError,
    1064: SQLSyntaxError,
    1149: SQLSyntaxError,
    1146: NoSuchTableError,
    1049: UnknownDatabaseError,
    1044: AccessDeniedError,
    1045: AccessDeniedError,
    1698: AccessDeniedError,
    1142: AccessDeniedError,
    1227: AccessDeniedError,
    2006: ConnectionLostError,
    2013: ConnectionLostError,
    1927: ConnectionLostError,
    1235: UnsupportedError,
    1178: UnsupportedError,
}

_DNS_CODES = {"ENOTFOUND", "EAI_AGAIN", "EAI_FAIL", "EAI_NONAME"}
_UNKNOWN_HOST = 2005  # CR_UNKNOWN_HOST, as the mysql client reports it
_CANNOT_CONNECT = 2003  # CR_CONN_HOST_ERROR

_LOST_CODES = {"PROTOCOL_CONNECTION_LOST", "ECONNRESET", "EPIPE", "ECONNREFUSED", "ETIMEDOUT"}


def error_from_js(info: Any) -> Exception:
    """Builds the Python exception for an error JavaScript reported."""
    if not isinstance(info, dict):
        return JsError(str(info))
    message = str(info.get("message", "JavaScript error"))
    errno = info.get("errno")
    code = info.get("code")
    if info.get("name") == "ConnectError" and errno is None:
        # a connection that never was (open_connection): not a lost one, not a JsError
        return ConnectError(message, errno=_UNKNOWN_HOST if code in _DNS_CODES else _CANNOT_CONNECT, code=code)
    if errno is not None or info.get("sqlState") or code in _LOST_CODES:
        cls = _BY_ERRNO.get(int(errno)) if errno is not None else None
        if cls is None:
            cls = ConnectionLostError if code in _LOST_CODES else DatabaseError
        return cls(message, errno=errno, sqlstate=info.get("sqlState"), code=code)
    return JsError(message, name=str(info.get("name", "Error")))
