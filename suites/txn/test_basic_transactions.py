"""Basic commit and rollback, checked from a second connection."""
from test_rig import PyState, PyStateHandler

from ._common import count


class BasicTransactionHandler(PyStateHandler):
    """Two inserts in a transaction: invisible to another session until COMMIT, then both visible."""

    def execute(self, context):
        c = context.connection
        c.execute_query("CREATE TABLE basic_tx (id INT PRIMARY KEY, name VARCHAR(20))")
        other = context.open_connection("observer")
        c.start_transaction()
        c.execute_query("INSERT INTO basic_tx VALUES (1, 'a')")
        c.execute_query("INSERT INTO basic_tx VALUES (2, 'b')")
        assert count(c, "basic_tx") == 2, "the transaction sees its own rows"
        assert count(other, "basic_tx") == 0, "uncommitted rows leaked to another session"
        c.commit()
        assert count(other, "basic_tx") == 2, "committed rows must be visible"
        return PyState.completed()


class BasicRollbackHandler(PyStateHandler):
    """ROLLBACK undoes inserts, updates and deletes of the transaction."""

    def execute(self, context):
        c = context.connection
        c.execute_query("CREATE TABLE basic_rb (id INT PRIMARY KEY, v INT)")
        c.execute_query("INSERT INTO basic_rb VALUES (1, 10), (2, 20)")
        c.start_transaction()
        c.execute_query("INSERT INTO basic_rb VALUES (3, 30)")
        c.execute_query("UPDATE basic_rb SET v = 99 WHERE id = 1")
        c.execute_query("DELETE FROM basic_rb WHERE id = 2")
        c.rollback()
        rows = c.execute_query("SELECT id, v FROM basic_rb ORDER BY id")
        assert [(r["id"], r["v"]) for r in rows] == [(1, 10), (2, 20)], rows
        return PyState.completed()
