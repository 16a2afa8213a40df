"""TiDB IMPORT INTO, in TiDB's real syntax:
    IMPORT INTO t [(cols)] FROM '<absolute path the server can read>' FORMAT 'csv' WITH skip_rows=1, …
The target table must be empty; DETACHED returns the job at once and SHOW IMPORT JOB <id> follows it.
Runs where the server has IMPORT INTO (TiDB ≥ 7.2, and the test-rig TiDB emulator); skipped elsewhere.
The data files are written to a temp dir, or to `--param import_dir=DIR` (a folder the TiDB node can read)."""
import threading

from test_rig import DatabaseError, PyState, PyStateHandler

from ._common import TempFiles, gen_data, one, raises, sql_path, wait_job

PRECHECK_FAILED = 8173


class _Import(PyStateHandler):
    requires = {"feature": "import_into"}
    tags = ("import_into",)

    def __init__(self, import_dir: str = ""):
        self.import_dir = import_dir

    def enter(self, context):
        self.files = TempFiles()
        if self.import_dir:
            self.files.dir = self.import_dir
        return super().enter(context)

    def exit(self, context):
        if not self.import_dir:
            self.files.cleanup()

    def import_into(self, c, table, path, options="", cols=""):
        with_ = f" WITH {options}" if options else ""
        rows = c.execute_query(f"IMPORT INTO {table}{f' ({cols})' if cols else ''} FROM '{sql_path(path)}' FORMAT 'csv'{with_}")
        assert len(rows) == 1, rows
        return rows[0]


def _table_name(row):
    return str(row["Target_Table"]).replace("`", "")


def _finished(row, rows):
    assert str(row["Status"]).lower() == "finished", row
    assert int(row["Imported_Rows"]) == rows, row


class BasicImportIntoHandler(_Import):
    """A CSV with a header imported WITH skip_rows=1: the job row says finished with 3 rows; the table equals the file."""

    def execute(self, context):
        c = context.connection
        c.execute_query("CREATE TABLE people (id INT PRIMARY KEY, name VARCHAR(40), age INT)")
        path = self.files.write("basic.csv", "id,name,age\n1,Alice,30\n2,Bob,25\n3,\"Carol, Jr.\",41\n")
        _finished(self.import_into(c, "people", path, "skip_rows=1"), 3)
        rows = c.execute_query("SELECT id, name, age FROM people ORDER BY id")
        assert [(r["id"], r["name"], r["age"]) for r in rows] == [(1, "Alice", 30), (2, "Bob", 25), (3, "Carol, Jr.", 41)], rows
        return PyState.completed()


class ImportIntoWithNullsHandler(_Import):
    r"""\N (the default fields_defined_null_by) imports as NULL; fields_defined_null_by='NULL' changes the marker."""

    def execute(self, context):
        c = context.connection
        c.execute_query("CREATE TABLE n1 (id INT PRIMARY KEY, name VARCHAR(20), age INT)")
        _finished(self.import_into(c, "n1", self.files.write("n1.csv", "1,\\N,30\n2,Bob,\\N\n")), 2)
        assert [(r["name"], r["age"]) for r in c.execute_query("SELECT name, age FROM n1 ORDER BY id")] == [(None, 30), ("Bob", None)]
        c.execute_query("CREATE TABLE n2 (id INT PRIMARY KEY, name VARCHAR(20))")
        _finished(self.import_into(c, "n2", self.files.write("n2.csv", "1,NULL\n2,x\n"), "fields_defined_null_by='NULL'"), 2)
        assert one(c, "SELECT COUNT(*) FROM n2 WHERE name IS NULL") == 1
        return PyState.completed()


class ImportIntoNonEmptyTableHandler(_Import):
    """The old 'duplicate keys' scenario: IMPORT INTO a table that already has rows fails its precheck
    (errno 8173) and leaves the table untouched."""

    def execute(self, context):
        c = context.connection
        c.execute_query("CREATE TABLE d (id INT PRIMARY KEY, name VARCHAR(20))")
        c.execute_query("INSERT INTO d VALUES (1, 'old')")
        with raises(DatabaseError, PRECHECK_FAILED):
            self.import_into(c, "d", self.files.write("d.csv", "1,new\n2,new\n"))
        assert c.execute_query("SELECT id, name FROM d") == [{"id": 1, "name": "old"}] or one(c, "SELECT COUNT(*) FROM d") == 1
        assert one(c, "SELECT name FROM d WHERE id = 1") == "old"
        return PyState.completed()


class ImportIntoInTransactionHandler(_Import):
    """IMPORT INTO inside an explicit transaction is refused (precheck 8173)."""

    def execute(self, context):
        c = context.connection
        c.execute_query("CREATE TABLE tx (id INT PRIMARY KEY)")
        path = self.files.write("tx.csv", "1\n2\n")
        c.start_transaction()
        with raises(DatabaseError, PRECHECK_FAILED):
            self.import_into(c, "tx", path)
        c.rollback()
        _finished(self.import_into(c, "tx", path), 2)
        return PyState.completed()


class ImportIntoColumnMappingHandler(_Import):
    """A column list maps the file's field order (email, age, id, name) onto the table."""

    def execute(self, context):
        c = context.connection
        c.execute_query("CREATE TABLE m (id INT PRIMARY KEY, name VARCHAR(20), age INT, email VARCHAR(40))")
        path = self.files.write("m.csv", "alice@x.org,31,1,alice\nbob@x.org,27,2,bob\n")
        _finished(self.import_into(c, "m", path, cols="email, age, id, name"), 2)
        rows = c.execute_query("SELECT id, name, age, email FROM m ORDER BY id")
        assert [(r["id"], r["name"], r["age"], r["email"]) for r in rows] == [(1, "alice", 31, "alice@x.org"), (2, "bob", 27, "bob@x.org")]
        return PyState.completed()


class ImportIntoCharsetHandler(_Import):
    """UTF-8 data (accents, CJK, emoji) imports into a utf8mb4 table unchanged."""

    def execute(self, context):
        c = context.connection
        c.execute_query("CREATE TABLE cs (id INT PRIMARY KEY, name VARCHAR(40)) CHARACTER SET utf8mb4")
        names = ["José Müller", "北京", "Ünïcödé 🚀"]
        _finished(self.import_into(c, "cs", self.files.write("cs.csv", "".join(f"{i},{n}\n" for i, n in enumerate(names, 1)))), 3)
        assert [r["name"] for r in c.execute_query("SELECT name FROM cs ORDER BY id")] == names
        return PyState.completed()


class ImportIntoPartitionedTableHandler(_Import):
    """A generated 1000-row simple file into a RANGE(age) partitioned table: per-partition counts match the file."""

    def execute(self, context):
        c = context.connection
        c.execute_query(
            "CREATE TABLE p (id INT, name VARCHAR(40), age INT, PRIMARY KEY (id, age)) PARTITION BY RANGE (age)"
            " (PARTITION young VALUES LESS THAN (40), PARTITION old VALUES LESS THAN MAXVALUE)"
        )
        path = gen_data(self.files.path("p.csv"), 1000, simple=True, seed=3)
        with open(path, encoding="utf-8") as f:
            ages = [int(line.rsplit(",", 1)[1]) for line in f]
        _finished(self.import_into(c, "p", path), 1000)
        assert one(c, "SELECT COUNT(*) FROM p PARTITION (young)") == sum(1 for a in ages if a < 40)
        assert one(c, "SELECT COUNT(*) FROM p PARTITION (old)") == sum(1 for a in ages if a >= 40)
        return PyState.completed()


class ImportIntoAutoIncrementHandler(_Import):
    """Without the id column in the column list, the AUTO_INCREMENT column gets distinct ids for every row."""

    def execute(self, context):
        c = context.connection
        c.execute_query("CREATE TABLE ai (id BIGINT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(20), age INT)")
        _finished(self.import_into(c, "ai", self.files.write("ai.csv", "a,1\nb,2\nc,3\n"), cols="name, age"), 3)
        row = c.execute_query("SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS d, MIN(id) AS lo FROM ai")[0]
        assert row["n"] == 3 and row["d"] == 3 and row["lo"] >= 1, row
        return PyState.completed()


class ImportIntoErrorHandlingHandler(_Import):
    """A row with the wrong number of fields fails the import: the blocking statement raises; in DETACHED
    mode SHOW IMPORT JOB ends 'failed' with a Result_Message. Unknown options are refused."""

    def execute(self, context):
        c = context.connection
        c.execute_query("CREATE TABLE e (id INT PRIMARY KEY, name VARCHAR(20))")
        bad = self.files.write("bad.csv", "id,name\n1,a\n2,b,extra\n")
        with raises(DatabaseError):
            self.import_into(c, "e", bad, "skip_rows=1")
        c.execute_query("DELETE FROM e")  # a failed physical import may leave partial data
        c.execute_query("CREATE TABLE e2 (id INT PRIMARY KEY, name VARCHAR(20))")
        job = self.import_into(c, "e2", bad, "skip_rows=1, DETACHED")
        final = wait_job(c, job["Job_ID"])
        assert str(final["Status"]).lower() == "failed" and final["Result_Message"], final
        c.execute_query("CREATE TABLE e3 (id INT PRIMARY KEY, name VARCHAR(20))")
        with raises(DatabaseError):
            self.import_into(c, "e3", bad, "no_such_option=1")
        with raises(DatabaseError):
            self.import_into(c, "e3", self.files.path("does_not_exist.csv"))
        assert one(c, "SELECT COUNT(*) FROM e3") == 0
        return PyState.completed()


class ImportIntoTSVHandler(_Import):
    r"""Tab-separated data: FORMAT 'csv' WITH fields_terminated_by='\t' (TiDB has no 'tsv' format), from test-rig gen-data --format tsv."""

    def execute(self, context):
        c = context.connection
        c.execute_query("CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(40), age INT)")
        path = gen_data(self.files.path("t.tsv"), 500, fmt="tsv", simple=True, seed=5)
        _finished(self.import_into(c, "t", path, "fields_terminated_by='\\t', fields_enclosed_by=''"), 500)
        first = open(path, encoding="utf-8").readline().rstrip("\n").split("\t")
        row = c.execute_query("SELECT name, age FROM t WHERE id = 1")[0]
        assert (row["name"], str(row["age"])) == (first[1], first[2]), (row, first)
        return PyState.completed()


class ImportIntoWithOptionsHandler(_Import):
    """fields_terminated_by='|', fields_enclosed_by="'", fields_escaped_by, lines_terminated_by, skip_rows together."""

    def execute(self, context):
        c = context.connection
        c.execute_query("CREATE TABLE o (id INT PRIMARY KEY, note VARCHAR(40))")
        path = self.files.write("o.txt", "header|row\r\n1|'a|b'\r\n2|'it''s'\r\n3|plain\r\n")
        row = self.import_into(c, "o", path, "fields_terminated_by='|', fields_enclosed_by='''', fields_escaped_by='\\\\', lines_terminated_by='\\r\\n', skip_rows=1")
        _finished(row, 3)
        assert [r["note"] for r in c.execute_query("SELECT note FROM o ORDER BY id")] == ["a|b", "it's", "plain"]
        return PyState.completed()


class ImportIntoDetachedHandler(_Import):
    """WITH DETACHED returns the job row at once (pending, no Start_Time); SHOW IMPORT JOB <id> is polled
    until finished; SHOW IMPORT JOBS lists it; Imported_Rows equals the table's count."""

    def execute(self, context):
        c = context.connection
        c.execute_query("CREATE TABLE det (id INT PRIMARY KEY, name VARCHAR(40), age INT)")
        path = gen_data(self.files.path("det.csv"), 3000, simple=True, seed=9)
        job = self.import_into(c, "det", path, "DETACHED")
        assert str(job["Status"]).lower() == "pending" and job["Start_Time"] is None, job
        assert _table_name(job) == f"{context.database}.det", job
        final = wait_job(c, job["Job_ID"])
        _finished(final, 3000)
        assert any(r["Job_ID"] == job["Job_ID"] for r in c.execute_query("SHOW IMPORT JOBS"))
        assert one(c, "SELECT COUNT(*) FROM det") == 3000
        return PyState.completed()


class LargeImportWithMonitoringHandler(_Import):
    """The old large/complex import: gen-data writes `import_rows` (default 20000) 14-column rows with a
    header; IMPORT INTO … WITH skip_rows=1, DETACHED; monitored through SHOW IMPORT JOB to 'finished'."""

    def __init__(self, import_dir: str = "", import_rows: int = 20000):
        super().__init__(import_dir)
        self.rows = int(import_rows)

    def execute(self, context):
        c = context.connection
        c.execute_query(
            "CREATE TABLE emp (id INT PRIMARY KEY, name VARCHAR(60), email VARCHAR(100), phone VARCHAR(20), city VARCHAR(40),"
            " department VARCHAR(40), job_title VARCHAR(40), salary DECIMAL(10,2), performance_score DECIMAL(3,1), hire_date DATE,"
            " is_active VARCHAR(5), notes VARCHAR(100), years_experience INT, projects_completed INT)"
        )
        path = gen_data(self.files.path("emp.csv"), self.rows, seed=1)
        job = self.import_into(c, "emp", path, "skip_rows=1, DETACHED")
        _finished(wait_job(c, job["Job_ID"], timeout=300), self.rows)
        assert one(c, "SELECT COUNT(*) FROM emp") == self.rows
        assert one(c, "SELECT COUNT(*) FROM emp WHERE notes LIKE '%, review %'") == self.rows
        return PyState.completed()


class ConcurrentImportHandler(_Import):
    """Three tables imported at the same time from three connections (DETACHED), all monitored until
    finished; each table holds exactly its file."""

    def execute(self, context):
        c = context.connection
        jobs = {}
        for i in range(3):
            c.execute_query(f"CREATE TABLE ci_{i} (id INT PRIMARY KEY, name VARCHAR(40), age INT)")
        conns = [context.open_connection(f"importer_{i}") for i in range(3)]
        for i, conn in enumerate(conns):
            path = gen_data(self.files.path(f"ci_{i}.csv"), 1000 * (i + 1), simple=True, seed=i)
            jobs[i] = self.import_into(conn, f"ci_{i}", path, "DETACHED")["Job_ID"]
        assert len(set(jobs.values())) == 3
        for i, job_id in jobs.items():
            _finished(wait_job(c, job_id), 1000 * (i + 1))
            assert one(c, f"SELECT COUNT(*) FROM ci_{i}") == 1000 * (i + 1)
        return PyState.completed()


class MultiConnectionImportHandler(_Import):
    """A blocking IMPORT INTO runs on one connection (conn.start()) while a second connection watches
    SHOW IMPORT JOBS until the job for the table is finished; then the statement returns the job row."""

    def execute(self, context):
        c = context.connection
        c.execute_query("CREATE TABLE mc (id INT PRIMARY KEY, name VARCHAR(40), age INT)")
        path = gen_data(self.files.path("mc.csv"), 5000, simple=True, seed=4)
        importer = context.open_connection("importer")
        pending = importer.start(f"IMPORT INTO mc FROM '{sql_path(path)}' FORMAT 'csv'")
        seen = set()
        job_id = None
        for _ in range(3000):
            done = pending.finished_within(0.02)
            mine = [r for r in c.execute_query("SHOW IMPORT JOBS") if _table_name(r) == f"{context.database}.mc"]
            if mine:
                job_id = mine[-1]["Job_ID"]
                seen.add(str(mine[-1]["Status"]).lower())
            if done and "finished" in seen:
                break
        rows = pending.wait()
        print(f"statuses seen while monitoring: {sorted(seen)}")
        assert job_id is not None and rows[0]["Job_ID"] == job_id
        _finished(rows[0], 5000)
        _finished(c.execute_query(f"SHOW IMPORT JOB {int(job_id)}")[0], 5000)
        return PyState.completed()
