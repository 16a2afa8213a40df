"""Truly concurrent DDL and DML on separate connections (conn.start() / expect_blocked() / wait())."""
from test_rig import DatabaseError, PyState, PyStateHandler

from ._common import column_names, index_names, one, raises


def _lock_timeouts(*conns):
    for x in conns:
        x.execute_query("SET SESSION lock_wait_timeout = 20")
        x.execute_query("SET SESSION innodb_lock_wait_timeout = 20")


class ConcurrentInsertAlterHandler(PyStateHandler):
    """ALTER TABLE ADD COLUMN on one connection while another inserts: an open transaction's
    metadata lock makes the ALTER wait (MySQL/MariaDB), an insert queued behind it completes
    after it; both finish and every row is there with the new column's default."""

    def execute(self, context):
        c, db = context.connection, context.database
        c.execute_query("CREATE TABLE ia (id INT PRIMARY KEY, v INT)")
        c.execute_query("INSERT INTO ia VALUES (1, 1), (2, 2)")
        writer, ddl, late = (context.open_connection(n) for n in ("writer", "ddl", "late"))
        _lock_timeouts(writer, ddl, late)
        writer.start_transaction()
        writer.execute_query("INSERT INTO ia VALUES (3, 3)")
        alter = ddl.start("ALTER TABLE ia ADD COLUMN extra INT NOT NULL DEFAULT 7")
        queued = None
        if context.server.kind in ("mysql", "mariadb"):
            alter.expect_blocked(0.3)  # waits for the writer's metadata lock
            queued = late.start("INSERT INTO ia (id, v) VALUES (5, 5)")
            queued.expect_blocked(0.2)  # queued behind the pending exclusive lock
        writer.execute_query("INSERT INTO ia VALUES (4, 4)")
        writer.commit()
        alter.wait()
        if queued is not None:
            queued.wait()
        else:
            late.execute_query("INSERT INTO ia (id, v) VALUES (5, 5)")
        assert column_names(c, db, "ia") == ["id", "v", "extra"]
        rows = c.execute_query("SELECT id, extra FROM ia ORDER BY id")
        assert [(r["id"], r["extra"]) for r in rows] == [(i, 7) for i in range(1, 6)], rows
        return PyState.completed()


class ConcurrentDdlDmlHandler(PyStateHandler):
    """An online ADD INDEX runs while a second connection keeps inserting; afterwards the index
    exists, covers every row, and no insert was lost."""

    def __init__(self, ddl_rows: int = 20000):
        self.rows = ddl_rows

    def execute(self, context):
        c, db = context.connection, context.database
        c.execute_query("CREATE TABLE dd (id INT PRIMARY KEY, k INT, pad CHAR(100))")
        batch = 2000
        for start in range(0, self.rows, batch):
            ids = range(start, min(self.rows, start + batch))
            c.execute_query("INSERT INTO dd VALUES " + ", ".join(f"({i}, {i % 97}, 'p')" for i in ids))
        ddl, dml = context.open_connection("ddl"), context.open_connection("dml")
        _lock_timeouts(ddl, dml)
        online = ", ALGORITHM=INPLACE, LOCK=NONE" if context.server.kind in ("mysql", "mariadb") else ""
        alter = ddl.start(f"ALTER TABLE dd ADD INDEX idx_k (k){online}")
        during, next_id = 0, self.rows
        while True:
            finished = alter.finished_within(0)
            dml.execute_query("INSERT INTO dd VALUES (?, ?, 'n')", [next_id, next_id % 97])
            next_id += 1
            if finished:
                break
            during += 1
            if during > 100000:
                raise AssertionError("the ALTER never finished")
        alter.wait()
        print(f"{during} inserts completed while ADD INDEX was running")
        total = next_id
        assert one(c, "SELECT COUNT(*) FROM dd") == total
        assert "idx_k" in index_names(c, db, "dd")
        assert one(c, "SELECT COUNT(*) FROM dd FORCE INDEX (idx_k) WHERE k >= 0") == total, "the index misses rows"
        return PyState.completed()


class ConcurrentCreateDropTableHandler(PyStateHandler):
    """Two connections create and drop tables at the same time; a DROP waits for a reader's open
    transaction (metadata lock); the final set of tables is exactly what is expected."""

    def execute(self, context):
        c, db = context.connection, context.database
        a, b = context.open_connection("a"), context.open_connection("b")
        _lock_timeouts(a, b)
        for i in range(5):
            c.execute_query(f"CREATE TABLE cd_{i} (id INT)")
        b.start_transaction()
        b.execute_query("SELECT * FROM cd_0")
        drop = a.start("DROP TABLE cd_0")
        if context.server.kind in ("mysql", "mariadb"):
            drop.expect_blocked(0.3)
        c.execute_query("CREATE TABLE cd_new_0 (id INT)")  # other tables are not held up by the pending DROP
        b.commit()
        drop.wait()
        for i in (1, 2):
            b.execute_query(f"DROP TABLE cd_{i}")
        names = sorted(r["t"] for r in c.execute_query("SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?", [db]))
        assert names == ["cd_3", "cd_4", "cd_new_0"], names
        return PyState.completed()


class ConcurrentAlterTableConflictHandler(PyStateHandler):
    """Two connections ALTER the same table at once: different columns both land (4 columns);
    the same column name makes exactly one fail with errno 1060 (duplicate column)."""

    def execute(self, context):
        c, db = context.connection, context.database
        c.execute_query("CREATE TABLE ac (id INT PRIMARY KEY, v INT)")
        c.execute_query("INSERT INTO ac VALUES (1, 1)")
        a, b = context.open_connection("a"), context.open_connection("b")
        _lock_timeouts(a, b)
        pa = a.start("ALTER TABLE ac ADD COLUMN c1 INT DEFAULT 1")
        pb = b.start("ALTER TABLE ac ADD COLUMN c2 INT DEFAULT 2")
        pa.wait()
        pb.wait()
        assert sorted(column_names(c, db, "ac")) == ["c1", "c2", "id", "v"]
        pa = a.start("ALTER TABLE ac ADD COLUMN same INT")
        pb = b.start("ALTER TABLE ac ADD COLUMN same INT")
        failures = []
        for p in (pa, pb):
            try:
                p.wait()
            except DatabaseError as exc:
                failures.append(exc)
        assert len(failures) == 1 and failures[0].errno == 1060, failures
        assert column_names(c, db, "ac").count("same") == 1
        with raises(DatabaseError, 1060):
            c.execute_query("ALTER TABLE ac ADD COLUMN same INT")
        assert one(c, "SELECT c1 + c2 FROM ac WHERE id = 1") == 3
        return PyState.completed()
