"""Building SQL safely from values that are not literals (table and column names)."""

from __future__ import annotations


def quote_identifier(name: str) -> str:
    """Backtick-quotes a MySQL/TiDB identifier (table, column, database name).

    Backticks inside the name are doubled, so any string, including one from a
    suite parameter, stays one identifier and cannot end the statement::

        table = quote_identifier(context.params["table"])
        context.connection.execute_query(f"CREATE TABLE {table} (id INT)")

    Values belong in query parameters (``execute_query(sql, [value])``), never
    in identifiers. Raises ValueError for an empty name or one containing NUL
    (the server refuses those anyway), and TypeError for a non-string.
    """
    if not isinstance(name, str):
        raise TypeError(f"an identifier must be a str, not {type(name).__name__}")
    if name == "" or "\x00" in name:
        raise ValueError(f"not a valid identifier: {name!r}")
    return "`" + name.replace("`", "``") + "`"
