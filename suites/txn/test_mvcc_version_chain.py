"""MVCC: version visibility across concurrent transactions."""
from test_rig import PyState, PyStateHandler

from ._common import begin, one


def _items(c, name):
    c.execute_query(f"CREATE TABLE {name} (id INT PRIMARY KEY, value INT, version INT, category CHAR(1))")
    c.execute_query(f"INSERT INTO {name} VALUES (1, 10, 1, 'A'), (2, 10, 1, 'A'), (3, 10, 1, 'A'), (4, 10, 1, 'A'), (5, 10, 1, 'A'), (6, 10, 1, 'B')")


class MVCCOptimisticUpdateHandler(PyStateHandler):
    """Two RR transactions read id=2 (version 1) and both run
    UPDATE … SET version=version+1 WHERE version=1: the second blocks on the row lock,
    then re-reads the latest committed version (2) and updates 0 rows."""

    requires = {"feature": "pessimistic_txn"}

    def execute(self, context):
        c = context.connection
        _items(c, "mv")
        t1, t2 = context.open_connection("t1"), context.open_connection("t2")
        begin(t1, "REPEATABLE READ")
        begin(t2, "REPEATABLE READ")
        assert one(t1, "SELECT version FROM mv WHERE id = 2") == 1
        assert one(t2, "SELECT version FROM mv WHERE id = 2") == 1
        t1.execute_query("UPDATE mv SET value = 999, version = version + 1 WHERE id = 2 AND version = 1")
        assert t1.affected_rows == 1
        p = t2.start("UPDATE mv SET value = 555, version = version + 1 WHERE id = 2 AND version = 1")
        p.expect_blocked(0.2)
        t1.commit()
        p.wait()
        assert t2.affected_rows == 0, f"the stale-version update must match 0 rows, matched {t2.affected_rows}"
        t2.commit()
        row = c.execute_query("SELECT value, version FROM mv WHERE id = 2")[0]
        assert (row["value"], row["version"]) == (999, 2), row
        return PyState.completed()


class PhantomReadMvccHandler(PyStateHandler):
    """conn1 (RR) counts category A = 5; conn2 inserts one and commits; conn1 still counts 5, then 6 after commit."""

    def execute(self, context):
        c = context.connection
        _items(c, "ph")
        c1, c2 = context.open_connection("conn1"), context.open_connection("conn2")
        begin(c1, "REPEATABLE READ")
        assert one(c1, "SELECT COUNT(*) AS n FROM ph WHERE category = 'A'") == 5
        c2.start_transaction()
        c2.execute_query("INSERT INTO ph VALUES (7, 10, 1, 'A')")
        c2.commit()
        assert one(c1, "SELECT COUNT(*) AS n FROM ph WHERE category = 'A'") == 5
        c1.commit()
        assert one(c1, "SELECT COUNT(*) AS n FROM ph WHERE category = 'A'") == 6
        return PyState.completed()


class VersionChainHandler(PyStateHandler):
    """Three connections: conn1 (RR) holds a snapshot; conn2 updates and commits (version 2);
    conn3's stale-version update affects 0 rows; conn1 still sees 10/1, then 999/2."""

    def execute(self, context):
        c = context.connection
        _items(c, "vc")
        c1, c2, c3 = (context.open_connection(n) for n in ("conn1", "conn2", "conn3"))
        begin(c1, "REPEATABLE READ")
        r = c1.execute_query("SELECT value, version FROM vc WHERE id = 1")[0]
        assert (r["value"], r["version"]) == (10, 1)
        begin(c3, "REPEATABLE READ")
        assert one(c3, "SELECT version FROM vc WHERE id = 1") == 1
        c2.start_transaction()
        c2.execute_query("UPDATE vc SET value = 999, version = 2 WHERE id = 1 AND version = 1")
        assert c2.affected_rows == 1
        c2.commit()
        c3.execute_query("UPDATE vc SET value = 111, version = 2 WHERE id = 1 AND version = 1")
        assert c3.affected_rows == 0, "an update of a superseded version must match nothing"
        c3.commit()
        r = c1.execute_query("SELECT value, version FROM vc WHERE id = 1")[0]
        assert (r["value"], r["version"]) == (10, 1), f"snapshot broken: {r}"
        c1.commit()
        r = c1.execute_query("SELECT value, version FROM vc WHERE id = 1")[0]
        assert (r["value"], r["version"]) == (999, 2), r
        return PyState.completed()
