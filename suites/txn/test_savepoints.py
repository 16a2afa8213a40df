"""Savepoints: basic, nested, release, rollback-to after errors, per isolation level, many."""
from test_rig import CheckConstraintError, DatabaseError, DuplicateKeyError, PyState, PyStateHandler

from ._common import count, raises, set_level

SP_MISSING = 1305  # SAVEPOINT ... does not exist (MySQL/MariaDB/TiDB)


def _table(c, name="sp"):
    c.execute_query(f"CREATE TABLE {name} (id INT PRIMARY KEY, value INT)")


class BasicSavepointHandler(PyStateHandler):
    """ROLLBACK TO SAVEPOINT undoes only the work after the savepoint; COMMIT keeps the rest."""

    requires = {"feature": "savepoint"}

    def execute(self, context):
        c = context.connection
        _table(c)
        c.start_transaction()
        c.execute_query("INSERT INTO sp VALUES (1, 10)")
        c.execute_query("SAVEPOINT sp1")
        c.execute_query("INSERT INTO sp VALUES (2, 20)")
        assert count(c, "sp") == 2
        c.execute_query("ROLLBACK TO SAVEPOINT sp1")
        assert count(c, "sp") == 1
        c.commit()
        assert [r["id"] for r in c.execute_query("SELECT id FROM sp")] == [1]
        return PyState.completed()


class NestedSavepointHandler(PyStateHandler):
    """level1/level2/level3: rolling back to level2 drops level3 (and its savepoint), keeps level1."""

    requires = {"feature": "savepoint"}

    def execute(self, context):
        c = context.connection
        _table(c)
        c.start_transaction()
        for i, sp in enumerate(("level1", "level2", "level3"), start=1):
            c.execute_query(f"SAVEPOINT {sp}")
            c.execute_query("INSERT INTO sp VALUES (?, ?)", [i, i * 10])
        assert count(c, "sp") == 3
        c.execute_query("ROLLBACK TO SAVEPOINT level3")
        assert count(c, "sp") == 2
        c.execute_query("ROLLBACK TO SAVEPOINT level2")
        assert count(c, "sp") == 1
        # level3 was set after level2: gone now
        with raises(DatabaseError, SP_MISSING):
            c.execute_query("ROLLBACK TO SAVEPOINT level3")
        c.execute_query("INSERT INTO sp VALUES (4, 40)")
        c.commit()
        assert [r["id"] for r in c.execute_query("SELECT id FROM sp ORDER BY id")] == [1, 4]
        return PyState.completed()


class SavepointReleaseHandler(PyStateHandler):
    """RELEASE SAVEPOINT keeps the work; rolling back to a released savepoint fails (1305)."""

    requires = {"feature": "savepoint"}

    def execute(self, context):
        c = context.connection
        _table(c)
        c.start_transaction()
        c.execute_query("SAVEPOINT a")
        c.execute_query("INSERT INTO sp VALUES (1, 1)")
        c.execute_query("RELEASE SAVEPOINT a")
        with raises(DatabaseError, SP_MISSING):
            c.execute_query("ROLLBACK TO SAVEPOINT a")
        with raises(DatabaseError, SP_MISSING):
            c.execute_query("RELEASE SAVEPOINT a")
        c.commit()
        assert count(c, "sp") == 1
        return PyState.completed()


class SavepointErrorHandler(PyStateHandler):
    """A CHECK violation and a duplicate key inside the transaction fail alone; ROLLBACK TO then COMMIT."""

    requires = {"features": ["savepoint", "check_constraint"]}

    def execute(self, context):
        c = context.connection
        c.execute_query("CREATE TABLE spe (id INT PRIMARY KEY, value INT, CONSTRAINT positive CHECK (value > 0))")
        c.start_transaction()
        c.execute_query("INSERT INTO spe VALUES (1, 10)")
        c.execute_query("SAVEPOINT before_errors")
        c.execute_query("INSERT INTO spe VALUES (2, 20)")
        with raises(CheckConstraintError):
            c.execute_query("INSERT INTO spe VALUES (3, -5)")
        with raises(DuplicateKeyError):
            c.execute_query("INSERT INTO spe VALUES (1, 11)")
        assert count(c, "spe") == 2, "failed statements must not undo earlier work"
        c.execute_query("ROLLBACK TO SAVEPOINT before_errors")
        c.commit()
        rows = c.execute_query("SELECT id, value FROM spe")
        assert [(r["id"], r["value"]) for r in rows] == [(1, 10)], rows
        return PyState.completed()


class SavepointIsolationHandler(PyStateHandler):
    """Savepoints behave the same under RC, RR and (not on TiDB) SERIALIZABLE."""

    requires = {"feature": "savepoint"}

    def execute(self, context):
        c = context.connection
        _table(c)
        levels = ["READ COMMITTED", "REPEATABLE READ"] + (["SERIALIZABLE"] if context.server.kind != "tidb" else [])
        for n, level in enumerate(levels):
            set_level(c, level)
            c.start_transaction()
            c.execute_query("INSERT INTO sp VALUES (?, 1)", [n * 10 + 1])
            c.execute_query("SAVEPOINT s")
            c.execute_query("INSERT INTO sp VALUES (?, 2)", [n * 10 + 2])
            c.execute_query("ROLLBACK TO SAVEPOINT s")
            c.commit()
            assert count(c, "sp", f"id BETWEEN {n * 10} AND {n * 10 + 9}") == 1, level
        set_level(c, "REPEATABLE READ")
        return PyState.completed()


class SavepointPerformanceHandler(PyStateHandler):
    """Ten savepoints with an insert after each; ROLLBACK TO sp_5 leaves 5 rows."""

    requires = {"feature": "savepoint"}

    def execute(self, context):
        c = context.connection
        _table(c)
        c.start_transaction()
        for i in range(10):
            c.execute_query(f"SAVEPOINT sp_{i}")
            c.execute_query("INSERT INTO sp VALUES (?, ?)", [i, i])
        c.execute_query("ROLLBACK TO SAVEPOINT sp_5")
        c.commit()
        assert [r["id"] for r in c.execute_query("SELECT id FROM sp ORDER BY id")] == [0, 1, 2, 3, 4]
        return PyState.completed()
