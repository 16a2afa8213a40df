"""Edge cases: a three-connection deadlock cycle and 'nested' transactions
(START TRANSACTION inside a transaction commits the first one implicitly)."""
from test_rig import DeadlockError, PyState, PyStateHandler

from ._common import count, lock_timeout, raises


class ThreeWayDeadlockHandler(PyStateHandler):
    """A locks 1, B locks 2, C locks 3; A wants 2, B wants 3, C wants 1: the cycle is
    detected, exactly one transaction is rolled back and the other two finish."""

    requires = {"feature": "pessimistic_txn"}
    tags = ("deadlock",)

    def execute(self, context):
        context.connection.execute_query("CREATE TABLE dl3 (id INT PRIMARY KEY, v INT)")
        context.connection.execute_query("INSERT INTO dl3 VALUES (1, 0), (2, 0), (3, 0)")
        conns = [context.open_connection(n) for n in ("A", "B", "C")]
        for i, c in enumerate(conns):
            lock_timeout(c, 10)
            c.start_transaction()
            c.execute_query("SELECT v FROM dl3 WHERE id = ? FOR UPDATE", [i + 1])
        pa = conns[0].start("UPDATE dl3 SET v = v + 1 WHERE id = 2")
        pa.expect_blocked(0.2)
        pb = conns[1].start("UPDATE dl3 SET v = v + 1 WHERE id = 3")
        pb.expect_blocked(0.2)
        pc = conns[2].start("UPDATE dl3 SET v = v + 1 WHERE id = 1")
        pending = {"A": pa, "B": pb, "C": pc}
        victims, done = [], []
        # resolve in the order the locks free up: C first (it closes the cycle) or whoever the victim lets through
        for _ in range(3):
            progressed = False
            for name, p in list(pending.items()):
                if p.finished_within(0.5):
                    try:
                        p.wait()
                        done.append(name)
                        conns["ABC".index(name)].commit()
                    except DeadlockError:
                        victims.append(name)
                        conns["ABC".index(name)].rollback()
                    del pending[name]
                    progressed = True
            if not pending:
                break
            assert progressed, f"no progress: still waiting {sorted(pending)}"
        print(f"deadlock victim(s): {victims}; committed: {done}")
        assert len(victims) == 1, f"expected exactly one victim, got {victims}"
        assert sorted(victims + done) == ["A", "B", "C"]
        total = int(context.connection.execute_query("SELECT SUM(v) AS s FROM dl3")[0]["s"])
        assert total == 2, f"two surviving increments expected, got {total}"
        return PyState.completed()


class NestedTransactionHandler(PyStateHandler):
    """START TRANSACTION inside a transaction implicitly commits the first one (no real nesting)."""

    def execute(self, context):
        c = context.connection
        c.execute_query("CREATE TABLE nested (id INT PRIMARY KEY)")
        other = context.open_connection("observer")
        c.start_transaction()
        c.execute_query("INSERT INTO nested VALUES (1)")
        assert count(other, "nested") == 0
        c.start_transaction()  # implicit COMMIT of the outer transaction
        assert count(other, "nested") == 1, "the inner START TRANSACTION must commit the outer one"
        c.execute_query("INSERT INTO nested VALUES (2)")
        c.rollback()  # undoes only the second transaction
        rows = c.execute_query("SELECT id FROM nested ORDER BY id")
        assert [r["id"] for r in rows] == [1], rows
        return PyState.completed()
