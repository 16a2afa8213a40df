"""Errors inside transactions: constraint violations, lock-wait timeout, deadlock
recovery, rollback, error propagation and savepoint recovery."""
from test_rig import (
    CheckConstraintError,
    DuplicateKeyError,
    LockWaitTimeoutError,
    NotNullError,
    PyState,
    PyStateHandler,
)

from ._common import count, deadlock, lock_timeout, one, raises


class ConstraintViolationHandler(PyStateHandler):
    """PK, NOT NULL, UNIQUE (and CHECK where enforced) violations fail with their error
    class; the transaction survives and COMMIT keeps the good rows."""

    def execute(self, context):
        c = context.connection
        check = context.server.kind != "tidb" or context.server.at_least("7.2")
        c.execute_query(
            "CREATE TABLE cv (id INT PRIMARY KEY, email VARCHAR(50) NOT NULL UNIQUE, qty INT"
            + (", CONSTRAINT qty_pos CHECK (qty > 0))" if check else ")")
        )
        c.start_transaction()
        c.execute_query("INSERT INTO cv VALUES (1, 'a@x', 1)")
        with raises(DuplicateKeyError):
            c.execute_query("INSERT INTO cv VALUES (1, 'b@x', 1)")
        with raises(NotNullError):
            c.execute_query("INSERT INTO cv VALUES (2, NULL, 1)")
        with raises(DuplicateKeyError):
            c.execute_query("INSERT INTO cv VALUES (3, 'a@x', 1)")
        if check and context.server.kind == "tidb":
            c.execute_query("SET SESSION tidb_enable_check_constraint = ON")
        if check:
            with raises(CheckConstraintError):
                c.execute_query("INSERT INTO cv VALUES (4, 'd@x', 0)")
        c.execute_query("INSERT INTO cv VALUES (5, 'e@x', 5)")
        c.commit()
        assert [r["id"] for r in c.execute_query("SELECT id FROM cv ORDER BY id")] == [1, 5]
        return PyState.completed()


class DeadlockRecoveryHandler(PyStateHandler):
    """A real deadlock between two connections: one is rolled back (DeadlockError),
    its work is gone, and retrying it succeeds."""

    requires = {"feature": "pessimistic_txn"}
    tags = ("deadlock",)

    def execute(self, context):
        c = context.connection
        c.execute_query("CREATE TABLE dr (id INT PRIMARY KEY, v INT)")
        c.execute_query("INSERT INTO dr VALUES (1, 0), (2, 0)")
        a, b = context.open_connection("a"), context.open_connection("b")
        for x in (a, b):
            lock_timeout(x, 10)
            x.start_transaction()
        a.execute_query("UPDATE dr SET v = v + 1 WHERE id = 1")
        b.execute_query("UPDATE dr SET v = v + 10 WHERE id = 2")
        victim = deadlock(("a", a, "UPDATE dr SET v = v + 1 WHERE id = 2"), ("b", b, "UPDATE dr SET v = v + 10 WHERE id = 1"))
        survivor, loser = (b, a) if victim == "a" else (a, b)
        survivor.commit()
        loser.rollback()
        expected = 20 if victim == "a" else 2  # the survivor incremented both rows
        assert int(one(c, "SELECT SUM(v) AS s FROM dr")) == expected, "the victim's first update must be rolled back"
        # retry the victim's transaction
        inc = 1 if victim == "a" else 10
        loser.start_transaction()
        loser.execute_query(f"UPDATE dr SET v = v + {inc} WHERE id = 1")
        loser.execute_query(f"UPDATE dr SET v = v + {inc} WHERE id = 2")
        loser.commit()
        assert int(one(c, "SELECT SUM(v) AS s FROM dr")) == 22
        print(f"victim: {victim}; retried and committed")
        return PyState.completed()


class TransactionTimeoutHandler(PyStateHandler):
    """innodb_lock_wait_timeout=1: a blocked UPDATE fails with LockWaitTimeoutError after
    about a second; the statement is rolled back, the transaction stays usable."""

    requires = {"feature": "pessimistic_txn"}

    def execute(self, context):
        c = context.connection
        c.execute_query("CREATE TABLE lt (id INT PRIMARY KEY, v INT)")
        c.execute_query("INSERT INTO lt VALUES (1, 0), (2, 0)")
        holder, waiter = context.open_connection("holder"), context.open_connection("waiter")
        lock_timeout(waiter, 1)
        assert int(one(waiter, "SELECT @@session.innodb_lock_wait_timeout AS t")) == 1
        holder.start_transaction()
        holder.execute_query("SELECT v FROM lt WHERE id = 1 FOR UPDATE")
        waiter.start_transaction()
        waiter.execute_query("UPDATE lt SET v = 5 WHERE id = 2")
        pending = waiter.start("UPDATE lt SET v = 7 WHERE id = 1")
        pending.expect_blocked(0.5)
        with raises(LockWaitTimeoutError):
            pending.wait()
        # only the statement was rolled back (innodb_rollback_on_timeout=OFF): the earlier update stands
        if context.server.kind != "tidb":
            assert int(one(waiter, "SELECT v FROM lt WHERE id = 2")) == 5
        holder.rollback()
        waiter.commit()
        return PyState.completed()


class RollbackRecoveryHandler(PyStateHandler):
    """Insert and update, then ROLLBACK: the table is exactly as before."""

    def execute(self, context):
        c = context.connection
        c.execute_query("CREATE TABLE rr (id INT PRIMARY KEY, v INT)")
        c.execute_query("INSERT INTO rr VALUES (1, 100)")
        before = c.execute_query("SELECT * FROM rr ORDER BY id")
        c.start_transaction()
        c.execute_query("INSERT INTO rr VALUES (2, 200)")
        c.execute_query("UPDATE rr SET v = 0")
        c.rollback()
        assert c.execute_query("SELECT * FROM rr ORDER BY id") == before
        return PyState.completed()


class ErrorPropagationHandler(PyStateHandler):
    """CHECK-violating INSERT and UPDATE raise CheckConstraintError and change nothing."""

    requires = {"feature": "check_constraint"}

    def execute(self, context):
        c = context.connection
        if context.server.kind == "tidb":
            c.execute_query("SET SESSION tidb_enable_check_constraint = ON")
        c.execute_query("CREATE TABLE ep (id INT PRIMARY KEY, v INT CHECK (v BETWEEN 0 AND 100))")
        c.execute_query("INSERT INTO ep VALUES (1, 50)")
        c.start_transaction()
        with raises(CheckConstraintError):
            c.execute_query("INSERT INTO ep VALUES (2, 101)")
        with raises(CheckConstraintError):
            c.execute_query("UPDATE ep SET v = -1 WHERE id = 1")
        c.commit()
        assert count(c, "ep") == 1 and one(c, "SELECT v FROM ep WHERE id = 1") == 50
        return PyState.completed()


class RecoveryMechanismHandler(PyStateHandler):
    """SAVEPOINT recovery_point, a duplicate key, ROLLBACK TO recovery_point, then carry on."""

    requires = {"feature": "savepoint"}

    def execute(self, context):
        c = context.connection
        c.execute_query("CREATE TABLE rm (id INT PRIMARY KEY)")
        c.start_transaction()
        c.execute_query("INSERT INTO rm VALUES (1)")
        c.execute_query("SAVEPOINT recovery_point")
        c.execute_query("INSERT INTO rm VALUES (2)")
        with raises(DuplicateKeyError):
            c.execute_query("INSERT INTO rm VALUES (2)")
        c.execute_query("ROLLBACK TO SAVEPOINT recovery_point")
        c.execute_query("INSERT INTO rm VALUES (3)")
        c.commit()
        assert [r["id"] for r in c.execute_query("SELECT id FROM rm ORDER BY id")] == [1, 3]
        return PyState.completed()
