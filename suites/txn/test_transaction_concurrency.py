"""Concurrent transactions: read/write visibility, lock contention, races, conflicts, rollback."""
from test_rig import PyState, PyStateHandler

from ._common import begin, lock_timeout, one


def _accounts(c, name, n=6):
    c.execute_query(f"CREATE TABLE {name} (id INT PRIMARY KEY, balance INT, version INT NOT NULL DEFAULT 1)")
    c.execute_query(f"INSERT INTO {name} (id, balance) VALUES " + ", ".join(f"({i}, {i * 100})" for i in range(1, n + 1)))


class ConcurrentReadWriteHandler(PyStateHandler):
    """Three connections: an uncommitted update is invisible to readers; an RR reader keeps its
    snapshot after the commit; updates of different rows (2 and 4) do not block each other,
    an update of the same row does."""

    requires = {"feature": "pessimistic_txn"}

    def execute(self, context):
        c = context.connection
        _accounts(c, "crw")
        w, r, w2 = (context.open_connection(n) for n in ("writer", "reader", "writer2"))
        begin(r, "REPEATABLE READ")
        assert one(r, "SELECT balance FROM crw WHERE id = 2") == 200
        w.start_transaction()
        w.execute_query("UPDATE crw SET balance = 250 WHERE id = 2")
        assert one(r, "SELECT balance FROM crw WHERE id = 2") == 200, "uncommitted update visible"
        w2.start_transaction()
        w2.execute_query("UPDATE crw SET balance = 450 WHERE id = 4")  # a different row: no wait
        p = w2.start("UPDATE crw SET balance = 260 WHERE id = 2")
        p.expect_blocked(0.2)
        w.commit()
        p.wait()
        w2.commit()
        assert one(r, "SELECT balance FROM crw WHERE id = 2") == 200, "RR snapshot not kept"
        r.commit()
        rows = {x["id"]: x["balance"] for x in c.execute_query("SELECT id, balance FROM crw")}
        assert rows[2] == 260 and rows[4] == 450, rows
        return PyState.completed()


class LockContentionHandler(PyStateHandler):
    """FOR UPDATE on ids 1,3,5 and on 2,4,6 coexist; asking for a held row blocks until release."""

    requires = {"feature": "pessimistic_txn"}

    def execute(self, context):
        c = context.connection
        _accounts(c, "lc")
        a, b = context.open_connection("a"), context.open_connection("b")
        for x in (a, b):
            lock_timeout(x, 10)
            x.start_transaction()
        for i in (1, 3, 5):  # point lookups on the primary key lock just those rows
            assert len(a.execute_query("SELECT id FROM lc WHERE id = ? FOR UPDATE", [i])) == 1
        for i in (2, 4, 6):
            p = b.start(f"SELECT id FROM lc WHERE id = {i} FOR UPDATE")
            assert p.finished_within(2.0), f"row {i} is not locked by a: it must not block"
            assert len(p.wait()) == 1
        q = b.start("SELECT balance FROM lc WHERE id = 3 FOR UPDATE")
        q.expect_blocked(0.3)
        a.execute_query("UPDATE lc SET balance = 333 WHERE id = 3")
        a.commit()
        assert q.wait()[0]["balance"] == 333, "the lock holder's committed value is what FOR UPDATE reads"
        b.commit()
        return PyState.completed()


class RaceConditionHandler(PyStateHandler):
    """Two transactions run counter=counter+1 on the same row: the second waits for the first's
    lock and both increments count (no lost update with an atomic UPDATE)."""

    requires = {"feature": "pessimistic_txn"}

    def execute(self, context):
        c = context.connection
        c.execute_query("CREATE TABLE counter (id INT PRIMARY KEY, n INT)")
        c.execute_query("INSERT INTO counter VALUES (1, 0)")
        a, b = context.open_connection("a"), context.open_connection("b")
        a.start_transaction()
        b.start_transaction()
        a.execute_query("UPDATE counter SET n = n + 1 WHERE id = 1")
        p = b.start("UPDATE counter SET n = n + 1 WHERE id = 1")
        p.expect_blocked(0.2)
        a.commit()
        p.wait()
        b.commit()
        assert one(c, "SELECT n FROM counter WHERE id = 1") == 2
        return PyState.completed()


class ConcurrentTransactionConflictHandler(PyStateHandler):
    """Optimistic locking with a version column: of two writers that read version 1, the
    first commits (version 2), the second's UPDATE … WHERE version=1 matches 0 rows."""

    requires = {"feature": "pessimistic_txn"}

    def execute(self, context):
        c = context.connection
        _accounts(c, "ctc")
        a, b = context.open_connection("a"), context.open_connection("b")
        begin(a, "READ COMMITTED")
        begin(b, "READ COMMITTED")
        va = one(a, "SELECT version FROM ctc WHERE id = 1")
        vb = one(b, "SELECT version FROM ctc WHERE id = 1")
        assert va == vb == 1
        a.execute_query("UPDATE ctc SET balance = balance - 10, version = version + 1 WHERE id = 1 AND version = ?", [va])
        assert a.affected_rows == 1
        p = b.start("UPDATE ctc SET balance = balance - 20, version = version + 1 WHERE id = 1 AND version = ?", [vb])
        p.expect_blocked(0.2)
        a.commit()
        p.wait()
        assert b.affected_rows == 0, "the second writer must detect the conflict (0 rows)"
        b.rollback()
        row = c.execute_query("SELECT balance, version FROM ctc WHERE id = 1")[0]
        assert (row["balance"], row["version"]) == (90, 2), row
        return PyState.completed()


class TransactionRollbackHandler(PyStateHandler):
    """A rolled-back update is never seen by another session, before or after."""

    def execute(self, context):
        c = context.connection
        _accounts(c, "trb")
        a, obs = context.open_connection("a"), context.open_connection("observer")
        a.start_transaction()
        a.execute_query("UPDATE trb SET balance = 0")
        assert one(obs, "SELECT SUM(balance) AS s FROM trb") == 2100
        a.rollback()
        assert one(obs, "SELECT SUM(balance) AS s FROM trb") == 2100
        assert one(a, "SELECT SUM(balance) AS s FROM trb") == 2100
        return PyState.completed()
