"""Helpers shared by the txn cases (not a test file: no cases here)."""
from __future__ import annotations

from test_rig.testing import one, raises  # noqa: F401 - re-exported for the cases

from typing import Any, Callable, Iterator, Optional, Tuple, Type

from test_rig import DatabaseError, DeadlockError, PyConnection

LEVELS = ("READ UNCOMMITTED", "READ COMMITTED", "REPEATABLE READ", "SERIALIZABLE")


def count(conn: PyConnection, table: str, where: str = "1=1") -> int:
    return int(one(conn, f"SELECT COUNT(*) AS n FROM {table} WHERE {where}"))


def set_level(conn: PyConnection, level: str) -> None:
    conn.execute_query(f"SET SESSION TRANSACTION ISOLATION LEVEL {level}")


def session_level(conn: PyConnection) -> str:
    """The session's isolation level as the server reports it, e.g. 'REPEATABLE-READ'."""
    for var in ("@@session.transaction_isolation", "@@session.tx_isolation"):
        try:
            return str(one(conn, f"SELECT {var} AS lvl"))
        except DatabaseError:  # 1193 unknown variable: older/newer spelling
            continue
    raise AssertionError("the server reports neither transaction_isolation nor tx_isolation")


def begin(conn: PyConnection, level: Optional[str] = None) -> None:
    if level:
        set_level(conn, level)
    conn.start_transaction()


def deadlock(first: Tuple[str, PyConnection, str], second: Tuple[str, PyConnection, str]) -> str:
    """Runs ``first``'s statement (which must block), then ``second``'s (which closes
    the cycle). Exactly one of them must fail with DeadlockError; returns the victim's
    name. The survivor's statement has completed when this returns."""
    name1, c1, sql1 = first
    name2, c2, sql2 = second
    pending = c1.start(sql1)
    pending.expect_blocked(0.2)
    try:
        c2.execute_query(sql2)
    except DeadlockError:
        pending.wait()  # the survivor gets its lock once the victim is rolled back
        return name2
    with raises(DeadlockError):
        pending.wait()
    return name1


def lock_timeout(conn: PyConnection, seconds: int = 1) -> None:
    conn.execute_query(f"SET SESSION innodb_lock_wait_timeout = {int(seconds)}")


def snapshot_isolation_on(conn: PyConnection) -> bool:
    """MariaDB 11.6+ innodb_snapshot_isolation (absent on 10.11 and MySQL)."""
    rows = conn.execute_query("SHOW VARIABLES LIKE 'innodb_snapshot_isolation'")
    return bool(rows) and str(rows[0]["Value"]).upper() in ("ON", "1")


def is_conflict(exc: BaseException) -> bool:
    """A transaction aborted by concurrency control: deadlock, write conflict, or
    MariaDB snapshot isolation's 1020 'Record has changed since last read'."""
    return isinstance(exc, DatabaseError) and (
        isinstance(exc, DeadlockError) or getattr(exc, "errno", None) in (1020, 9007, 8002)
    )


def safe_rollback(*conns: PyConnection) -> None:
    for c in conns:
        c.rollback()


Probe = Callable[..., str]
