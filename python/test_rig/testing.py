"""Assertion helpers for test cases (used by the bundled suites).

    from test_rig.testing import one, raises

    assert one(conn, "SELECT COUNT(*) FROM t") == 3
    with raises(DuplicateKeyError, errno=1062):
        conn.execute_query("INSERT INTO t VALUES (1)")
"""

from __future__ import annotations

import contextlib
from typing import Any, Dict, Iterator, Optional, Type, TypeVar

from ._describe import exception_text
from .connection import PyConnection


def one(conn: PyConnection, sql: str, params: Any = None) -> Any:
    """The first column of the first row (None when there is no row)."""
    rows = conn.execute_query(sql, params)
    return next(iter(rows[0].values())) if rows else None


E = TypeVar("E", bound=BaseException)


@contextlib.contextmanager
def raises(cls: Type[E], errno: Optional[int] = None) -> Iterator[Dict[str, E]]:
    """Asserts the block raises ``cls`` (and, if given, with that errno); the
    exception is available afterwards as ``box["error"]``."""
    box: Dict[str, E] = {}
    try:
        yield box
    except cls as exc:  # the expected failure
        box["error"] = exc
        if errno is not None and getattr(exc, "errno", None) != errno:
            raise AssertionError(f"expected errno {errno}, got {getattr(exc, 'errno', None)}: {exception_text(exc)}") from exc
        return
    raise AssertionError(f"expected {cls.__name__}{f' ({errno})' if errno else ''}, but the statement succeeded")
