"""Deadlock detection with real concurrent connections."""
from test_rig import PyState, PyStateHandler

from ._common import begin, deadlock, lock_timeout, one


class DeadlockDetectionHandler(PyStateHandler):
    """conn1 locks t1.id=1, conn2 locks t2.id=1 (FOR UPDATE), then each asks for the
    other's row: the server detects the cycle at once (no lock-wait timeout) and rolls
    one back with DeadlockError; the other gets its lock."""

    requires = {"feature": "pessimistic_txn"}
    tags = ("deadlock",)

    def execute(self, context):
        c = context.connection
        for t in ("t1", "t2"):
            c.execute_query(f"CREATE TABLE {t} (id INT PRIMARY KEY, v INT)")
            c.execute_query(f"INSERT INTO {t} VALUES (1, 0)")
        c1, c2 = context.open_connection("conn1"), context.open_connection("conn2")
        for x in (c1, c2):
            lock_timeout(x, 4)  # a missed detection shows as a 4 s wait, then LockWaitTimeoutError
            x.start_transaction()
        c1.execute_query("SELECT * FROM t1 WHERE id = 1 FOR UPDATE")
        c2.execute_query("SELECT * FROM t2 WHERE id = 1 FOR UPDATE")
        victim = deadlock(("conn1", c1, "SELECT * FROM t2 WHERE id = 1 FOR UPDATE"), ("conn2", c2, "SELECT * FROM t1 WHERE id = 1 FOR UPDATE"))
        survivor = c2 if victim == "conn1" else c1
        survivor.execute_query("UPDATE t1 SET v = 1 WHERE id = 1")
        survivor.execute_query("UPDATE t2 SET v = 1 WHERE id = 1")
        survivor.commit()
        (c1 if victim == "conn1" else c2).rollback()
        assert one(c, "SELECT v FROM t1") == 1 and one(c, "SELECT v FROM t2") == 1
        if context.server.kind in ("mysql", "mariadb"):
            status = c.execute_query("SHOW ENGINE INNODB STATUS")[0]["Status"]
            assert "LATEST DETECTED DEADLOCK" in status, "InnoDB did not record the deadlock"
        print(f"deadlock detected; victim {victim}")
        return PyState.completed()


class IsolationLevelDeadlockHandler(PyStateHandler):
    """conn1 (READ COMMITTED) updates id=1 to 999; conn2 (REPEATABLE READ) keeps seeing 10
    before and after conn1 commits; a fresh transaction sees 999."""

    def execute(self, context):
        c = context.connection
        c.execute_query("CREATE TABLE ild (id INT PRIMARY KEY, v INT)")
        c.execute_query("INSERT INTO ild VALUES (1, 10)")
        c1, c2 = context.open_connection("conn1"), context.open_connection("conn2")
        begin(c1, "READ COMMITTED")
        begin(c2, "REPEATABLE READ")
        assert one(c2, "SELECT v FROM ild WHERE id = 1") == 10
        c1.execute_query("UPDATE ild SET v = 999 WHERE id = 1")
        assert one(c2, "SELECT v FROM ild WHERE id = 1") == 10, "uncommitted value visible"
        c1.commit()
        assert one(c2, "SELECT v FROM ild WHERE id = 1") == 10, "REPEATABLE READ snapshot not kept"
        c2.commit()
        assert one(c2, "SELECT v FROM ild WHERE id = 1") == 999
        return PyState.completed()
