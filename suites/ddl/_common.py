"""Helpers shared by the ddl cases (not a test file: no cases here)."""
from __future__ import annotations

from test_rig.testing import one, raises  # noqa: F401 - re-exported for the cases

import hashlib
from typing import Any, Iterator, List, Optional, Type

from test_rig import PyConnection


def columns(conn: PyConnection, db: str, table: str) -> List[dict]:
    return conn.execute_query(
        "SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type, IS_NULLABLE AS nullable, COLUMN_DEFAULT AS dflt,"
        " COLUMN_COMMENT AS comment, CHARACTER_SET_NAME AS charset, ORDINAL_POSITION AS pos"
        " FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION",
        [db, table],
    )


def column_names(conn: PyConnection, db: str, table: str) -> List[str]:
    return [c["name"] for c in columns(conn, db, table)]


def index_names(conn: PyConnection, db: str, table: str) -> List[str]:
    rows = conn.execute_query(
        "SELECT DISTINCT INDEX_NAME AS name FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY INDEX_NAME",
        [db, table],
    )
    return [r["name"] for r in rows]


def create_table_sql(conn: PyConnection, table: str) -> str:
    return conn.execute_query(f"SHOW CREATE TABLE {table}")[0]["Create Table"]


def unique_name(context, prefix: str) -> str:
    """A name unique to this case run (users, roles, extra databases), ≤ 32 chars."""
    return f"{prefix}_{hashlib.sha1(context.database.encode()).hexdigest()[:10]}"
