"""Indexes: rename, comment, drop, visibility (MySQL/TiDB INVISIBLE, MariaDB ≥ 10.6 IGNORED),
and the old suite's made-up `ALTER INDEX … ON t` syntax rejected as a syntax error."""
from test_rig import DatabaseError, PyState, PyStateHandler, SQLSyntaxError

from ._common import index_names, one, raises


def _table(c):
    c.execute_query("CREATE TABLE test_table (id INT PRIMARY KEY, a INT, b INT, c VARCHAR(20), KEY idx_a (a), KEY idx_b (b), KEY idx_c (c))")
    c.execute_query("INSERT INTO test_table VALUES " + ", ".join(f"({i}, {i % 50}, {i % 7}, 'v{i}')" for i in range(1, 301)))
    c.execute_query("ANALYZE TABLE test_table")


def _explain_key(c, sql):
    rows = c.execute_query("EXPLAIN " + sql)
    return rows[0].get("key")


class AlterIndexHandler(PyStateHandler):
    """RENAME INDEX, index COMMENT, DROP INDEX, each verified in information_schema.STATISTICS;
    `ALTER INDEX idx ON t VISIBLE` (not SQL) fails with SQLSyntaxError."""

    def execute(self, context):
        c, db = context.connection, context.database
        _table(c)
        c.execute_query("ALTER TABLE test_table RENAME INDEX idx_a TO idx_a_renamed")
        assert set(index_names(c, db, "test_table")) == {"PRIMARY", "idx_a_renamed", "idx_b", "idx_c"}
        c.execute_query("ALTER TABLE test_table DROP INDEX idx_c, ADD INDEX idx_c (c) COMMENT 'by name'")
        comment = one(c, "SELECT INDEX_COMMENT FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'test_table' AND INDEX_NAME = 'idx_c'", [db])
        assert comment == "by name", comment
        c.execute_query("ALTER TABLE test_table ADD INDEX idx_ab (a, b)")
        cols = c.execute_query(
            "SELECT COLUMN_NAME AS col FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'test_table' AND INDEX_NAME = 'idx_ab' ORDER BY SEQ_IN_INDEX", [db]
        )
        assert [r["col"] for r in cols] == ["a", "b"]
        c.execute_query("ALTER TABLE test_table DROP INDEX idx_b")
        assert "idx_b" not in index_names(c, db, "test_table")
        with raises(DatabaseError, 1061):  # duplicate key name
            c.execute_query("ALTER TABLE test_table ADD INDEX idx_c (a)")
        with raises(SQLSyntaxError):
            c.execute_query("ALTER INDEX idx_c ON test_table VISIBLE")
        return PyState.completed()


class InvisibleIndexHandler(PyStateHandler):
    """MySQL/TiDB: ALTER INDEX … INVISIBLE shows IS_VISIBLE='NO' and the optimizer stops using it; VISIBLE restores it."""

    requires = {"feature": "invisible_indexes"}

    def execute(self, context):
        c, db = context.connection, context.database
        _table(c)
        q = "SELECT id FROM test_table WHERE c = 'v42'"
        assert _explain_key(c, q) == "idx_c"
        c.execute_query("ALTER TABLE test_table ALTER INDEX idx_c INVISIBLE")
        vis = one(c, "SELECT IS_VISIBLE FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'test_table' AND INDEX_NAME = 'idx_c'", [db])
        assert vis == "NO", vis
        assert _explain_key(c, q) in (None, ""), "an invisible index must not be chosen"
        c.execute_query("ALTER TABLE test_table ALTER INDEX idx_c VISIBLE")
        assert _explain_key(c, q) == "idx_c"
        return PyState.completed()


class IgnoredIndexHandler(PyStateHandler):
    """MariaDB ≥ 10.6: ALTER INDEX … IGNORED shows STATISTICS.IGNORED='YES' and EXPLAIN stops using it; NOT IGNORED restores it."""

    requires = {"feature": "ignored_indexes"}

    def execute(self, context):
        c, db = context.connection, context.database
        _table(c)
        q = "SELECT id FROM test_table WHERE c = 'v42'"
        assert _explain_key(c, q) == "idx_c", c.execute_query("EXPLAIN " + q)
        c.execute_query("ALTER TABLE test_table ALTER INDEX idx_c IGNORED")
        ign = one(c, "SELECT IGNORED FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'test_table' AND INDEX_NAME = 'idx_c'", [db])
        assert ign == "YES", ign
        assert _explain_key(c, q) in (None, ""), "an ignored index must not be chosen"
        c.execute_query("ALTER TABLE test_table ALTER INDEX idx_c NOT IGNORED")
        assert _explain_key(c, q) == "idx_c"
        with raises(DatabaseError):  # the primary key cannot be ignored
            c.execute_query("ALTER TABLE test_table ALTER INDEX `PRIMARY` IGNORED")
        return PyState.completed()
