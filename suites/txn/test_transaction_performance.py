"""Bulk and large transactions (sizes are small by default; `--param txn_rows=N` raises them)."""
import time

from test_rig import PyState, PyStateHandler

from ._common import count, one


class BulkInsertHandler(PyStateHandler):
    """100 single-row inserts in one transaction; all 100 there after COMMIT."""

    def execute(self, context):
        c = context.connection
        c.execute_query("CREATE TABLE bi (id INT PRIMARY KEY, v VARCHAR(20))")
        c.start_transaction()
        for i in range(100):
            c.execute_query("INSERT INTO bi VALUES (?, ?)", [i, f"row{i}"])
        c.commit()
        assert count(c, "bi") == 100 and one(c, "SELECT MAX(id) AS m FROM bi") == 99
        return PyState.completed()


class BulkUpdateHandler(PyStateHandler):
    """One UPDATE of 50 rows in a transaction: affected_rows is 50 and the values changed."""

    def execute(self, context):
        c = context.connection
        c.execute_query("CREATE TABLE bu (id INT PRIMARY KEY, v INT)")
        c.execute_query("INSERT INTO bu VALUES " + ", ".join(f"({i}, 0)" for i in range(100)))
        c.start_transaction()
        c.execute_query("UPDATE bu SET v = v + 5 WHERE id < 50")
        assert c.affected_rows == 50, c.affected_rows
        c.commit()
        assert one(c, "SELECT SUM(v) AS s FROM bu") == 250
        return PyState.completed()


class LargeTransactionHandler(PyStateHandler):
    """A large transaction (default 5000 inserts in batches plus 50 updates) is invisible to
    others until COMMIT, then visible all at once."""

    def __init__(self, txn_rows: int = 5000):
        self.rows = txn_rows

    def execute(self, context):
        c = context.connection
        obs = context.open_connection("observer")
        c.execute_query("CREATE TABLE lt (id INT PRIMARY KEY, payload VARCHAR(100))")
        c.start_transaction()
        batch = 500
        for start in range(0, self.rows, batch):
            ids = range(start, min(self.rows, start + batch))
            c.execute_query("INSERT INTO lt VALUES " + ", ".join("(?, ?)" for _ in ids), [x for i in ids for x in (i, f"payload-{i}")])
        c.execute_query("UPDATE lt SET payload = 'updated' WHERE id < 50")
        assert count(obs, "lt") == 0, "an uncommitted large transaction leaked"
        c.commit()
        assert count(obs, "lt") == self.rows
        assert count(obs, "lt", "payload = 'updated'") == min(50, self.rows)
        return PyState.completed()


class TransactionPerformanceMonitoringHandler(PyStateHandler):
    """Times 20 inserts and stores each duration; the stored values round-trip."""

    def execute(self, context):
        c = context.connection
        c.execute_query("CREATE TABLE perf (id INT PRIMARY KEY, execution_time_ms DOUBLE NOT NULL)")
        c.start_transaction()
        times = []
        for i in range(20):
            t0 = time.perf_counter()
            c.execute_query("INSERT INTO perf VALUES (?, 0)", [i])
            times.append((time.perf_counter() - t0) * 1000)
        for i, ms in enumerate(times):
            c.execute_query("UPDATE perf SET execution_time_ms = ? WHERE id = ?", [ms, i])
        c.commit()
        stats = c.execute_query("SELECT COUNT(*) AS n, MIN(execution_time_ms) AS lo, AVG(execution_time_ms) AS avg FROM perf")[0]
        assert stats["n"] == 20 and stats["lo"] > 0, stats
        print(f"20 inserts: avg {float(stats['avg']):.3f} ms")
        return PyState.completed()


class TransactionSizeLimitHandler(PyStateHandler):
    """10 rows of 100–1000-character strings in one transaction; lengths and content round-trip."""

    def execute(self, context):
        c = context.connection
        c.execute_query("CREATE TABLE sz (id INT PRIMARY KEY, body TEXT)")
        c.start_transaction()
        for i in range(10):
            c.execute_query("INSERT INTO sz VALUES (?, ?)", [i, chr(65 + i) * (100 + i * 100)])
        c.commit()
        rows = c.execute_query("SELECT id, CHAR_LENGTH(body) AS n, body FROM sz ORDER BY id")
        assert [r["n"] for r in rows] == [100 + i * 100 for i in range(10)]
        assert all(r["body"] == chr(65 + r["id"]) * r["n"] for r in rows)
        return PyState.completed()
