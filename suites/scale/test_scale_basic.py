"""Scale: the basic insert/update/delete/aggregate case and a parametrised multi-connection load."""
import threading
import time

from test_rig import PyState, PyStateHandler


def _one(conn, sql, params=None):
    rows = conn.execute_query(sql, params)
    return next(iter(rows[0].values())) if rows else None


class ScaleBasicHandler(PyStateHandler):
    """100 single-row INSERTs, UPDATE id<50, DELETE id>=90, then COUNT/AVG/MAX equal the values computed in Python."""

    def execute(self, context):
        c = context.connection
        c.execute_query("CREATE TABLE scale_test (id INT PRIMARY KEY, value INT NOT NULL)")
        for i in range(100):
            c.execute_query("INSERT INTO scale_test VALUES (?, ?)", [i, i * 10])
        c.execute_query("UPDATE scale_test SET value = value + 1 WHERE id < 50")
        assert c.affected_rows == 50
        c.execute_query("DELETE FROM scale_test WHERE id >= 90")
        assert c.affected_rows == 10
        expect = {i: i * 10 + (1 if i < 50 else 0) for i in range(90)}
        row = c.execute_query("SELECT COUNT(*) AS n, SUM(value) AS s, AVG(value) AS a, MAX(value) AS m FROM scale_test")[0]
        assert row["n"] == 90 and int(row["s"]) == sum(expect.values()) and row["m"] == 890, row
        assert abs(float(row["a"]) - sum(expect.values()) / 90) < 1e-3, row
        return PyState.completed()


class ScaleLoadHandler(PyStateHandler):
    """`--param rows=N connections=M` (defaults 2000 and 4): M connections insert N rows between
    them in multi-row batches, concurrently; the table then holds exactly N distinct ids whose sum is
    known. Prints rows/s."""

    tags = ("load",)

    def __init__(self, rows: int = 2000, connections: int = 4, batch: int = 200):
        self.rows, self.conns, self.batch = int(rows), max(1, int(connections)), max(1, int(batch))

    def execute(self, context):
        c = context.connection
        c.execute_query("CREATE TABLE load_test (id INT PRIMARY KEY, worker INT NOT NULL, payload VARCHAR(64) NOT NULL)")
        conns = [context.open_connection(f"load_{i}") for i in range(self.conns)]
        errors = []

        def work(w, conn):
            try:
                ids = list(range(w, self.rows, self.conns))
                for k in range(0, len(ids), self.batch):
                    chunk = ids[k:k + self.batch]
                    conn.execute_query(
                        "INSERT INTO load_test VALUES " + ", ".join("(?, ?, ?)" for _ in chunk),
                        [x for i in chunk for x in (i, w, f"row-{i}-payload")],
                    )
            except Exception as exc:  # reported and re-raised in the handler's thread below
                errors.append(exc)

        t0 = time.perf_counter()
        threads = [threading.Thread(target=work, args=(w, conn)) for w, conn in enumerate(conns)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        secs = time.perf_counter() - t0
        if errors:
            raise errors[0]
        row = c.execute_query("SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS d, SUM(id) AS s, COUNT(DISTINCT worker) AS w FROM load_test")[0]
        assert row["n"] == self.rows and row["d"] == self.rows, row
        assert int(row["s"] or 0) == self.rows * (self.rows - 1) // 2, row
        assert row["w"] == min(self.conns, self.rows), row
        print(f"inserted {self.rows} rows over {self.conns} connections in {secs:.3f} s: {self.rows / secs if secs else 0:,.0f} rows/s")
        t0 = time.perf_counter()
        c.execute_query("UPDATE load_test SET payload = CONCAT(payload, '!') WHERE worker = 0")
        updated = c.affected_rows
        assert updated == len(range(0, self.rows, self.conns)), updated
        agg = c.execute_query("SELECT worker, COUNT(*) AS n FROM load_test GROUP BY worker ORDER BY worker")
        assert sum(r["n"] for r in agg) == self.rows
        print(f"update of {updated} rows + aggregate in {time.perf_counter() - t0:.3f} s")
        return PyState.completed()
