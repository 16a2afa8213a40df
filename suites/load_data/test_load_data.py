"""LOAD DATA LOCAL INFILE: files written to a temp dir and sent by the client (the rig enables
local-infile on the case's connections)."""
from test_rig import ForeignKeyError, JsError, NoSuchTableError, PyState, PyStateHandler

from ._common import TempFiles, gen_data, one, raises, sql_path


class _Load(PyStateHandler):
    requires = {"feature": "load_data_local"}
    tags = ("load_data",)

    def enter(self, context):
        self.files = TempFiles()
        return super().enter(context)

    def exit(self, context):
        self.files.cleanup()

    def load(self, c, path, table, extra="", cols="", replace=False, charset=""):
        c.execute_query(
            f"LOAD DATA LOCAL INFILE '{sql_path(path)}' {'REPLACE ' if replace else ''}INTO TABLE {table} "
            f"{charset} FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' LINES TERMINATED BY '\\n' {extra} {cols}"
        )
        return c.affected_rows


class BasicLoadDataHandler(_Load):
    """A 3-row CSV loads exactly: affected_rows 3 and the rows equal the file."""

    def execute(self, context):
        c = context.connection
        c.execute_query("CREATE TABLE people (id INT PRIMARY KEY, name VARCHAR(40), age INT)")
        path = self.files.write("basic.csv", "1,Alice,30\n2,Bob,25\n3,\"Carol, Jr.\",41\n")
        assert self.load(c, path, "people") == 3
        rows = c.execute_query("SELECT id, name, age FROM people ORDER BY id")
        assert [(r["id"], r["name"], r["age"]) for r in rows] == [(1, "Alice", 30), (2, "Bob", 25), (3, "Carol, Jr.", 41)], rows
        return PyState.completed()


class LoadDataWithNullsHandler(_Load):
    r"""\N loads as NULL; a column missing from the column list takes its DEFAULT."""

    def execute(self, context):
        c = context.connection
        c.execute_query("CREATE TABLE n (id INT PRIMARY KEY, name VARCHAR(20), age INT, city VARCHAR(20) DEFAULT 'unknown')")
        path = self.files.write("nulls.csv", "1,\\N,30\n2,Bob,\\N\n3,\\N,\\N\n")
        assert self.load(c, path, "n", cols="(id, name, age)") == 3
        rows = c.execute_query("SELECT id, name, age, city FROM n ORDER BY id")
        assert [(r["name"], r["age"], r["city"]) for r in rows] == [(None, 30, "unknown"), ("Bob", None, "unknown"), (None, None, "unknown")], rows
        assert one(c, "SELECT COUNT(*) FROM n WHERE name IS NULL") == 2
        return PyState.completed()


class LoadDataDuplicateKeysHandler(_Load):
    """REPLACE replaces rows with duplicate keys (affected_rows counts delete+insert); IGNORE keeps the old ones."""

    def execute(self, context):
        c = context.connection
        c.execute_query("CREATE TABLE d (id INT PRIMARY KEY, name VARCHAR(20))")
        c.execute_query("INSERT INTO d VALUES (1, 'old1'), (2, 'old2')")
        path = self.files.write("dups.csv", "1,new1\n3,new3\n")
        assert self.load(c, path, "d", replace=True) == 3  # 1 replaced (2) + 1 inserted (1)
        assert {r["id"]: r["name"] for r in c.execute_query("SELECT * FROM d")} == {1: "new1", 2: "old2", 3: "new3"}
        path2 = self.files.write("dups2.csv", "1,ignored\n4,new4\n")
        c.execute_query(f"LOAD DATA LOCAL INFILE '{sql_path(path2)}' IGNORE INTO TABLE d FIELDS TERMINATED BY ','")
        assert c.affected_rows == 1 and c.warning_count >= 1
        assert {r["id"]: r["name"] for r in c.execute_query("SELECT * FROM d")} == {1: "new1", 2: "old2", 3: "new3", 4: "new4"}
        return PyState.completed()


class LoadDataColumnMappingHandler(_Load):
    """A column list maps file fields to columns in another order; @vars and SET transform a field."""

    def execute(self, context):
        c = context.connection
        c.execute_query("CREATE TABLE m (id INT PRIMARY KEY, name VARCHAR(20), age INT, email VARCHAR(40))")
        path = self.files.write("map.csv", "alice@x.org,31,1,ALICE\nbob@x.org,27,2,BOB\n")
        assert self.load(c, path, "m", cols="(email, age, id, @n) SET name = LOWER(@n)") == 2
        rows = c.execute_query("SELECT id, name, age, email FROM m ORDER BY id")
        assert [(r["id"], r["name"], r["age"], r["email"]) for r in rows] == [(1, "alice", 31, "alice@x.org"), (2, "bob", 27, "bob@x.org")], rows
        return PyState.completed()


class LoadDataCharsetHandler(_Load):
    """UTF-8 data (accents, CJK, emoji) loaded with CHARACTER SET utf8mb4 round-trips; the same bytes read
    as latin1 come out different (the charset clause matters)."""

    def execute(self, context):
        c = context.connection
        c.execute_query("CREATE TABLE cs (id INT PRIMARY KEY, name VARCHAR(40)) CHARACTER SET utf8mb4")
        names = ["José Müller", "北京", "Ünïcödé 🚀"]
        path = self.files.write("utf8.csv", "".join(f"{i},{n}\n" for i, n in enumerate(names, 1)))
        assert self.load(c, path, "cs", charset="CHARACTER SET utf8mb4") == 3
        got = [r["name"] for r in c.execute_query("SELECT name FROM cs ORDER BY id")]
        assert got == names, got
        assert one(c, "SELECT CHAR_LENGTH(name) FROM cs WHERE id = 2") == 2
        c.execute_query("CREATE TABLE cs2 (id INT PRIMARY KEY, name VARCHAR(80)) CHARACTER SET utf8mb4")
        c.execute_query(f"LOAD DATA LOCAL INFILE '{sql_path(path)}' INTO TABLE cs2 CHARACTER SET latin1 FIELDS TERMINATED BY ','")
        assert one(c, "SELECT name FROM cs2 WHERE id = 1") != names[0], "latin1 must mis-decode UTF-8 bytes"
        return PyState.completed()


class LoadDataPartitionedTableHandler(_Load):
    """A generated 2000-row file (test-rig gen-data --simple) loads into a HASH(id) PARTITIONS 2 table;
    information_schema.PARTITIONS splits the rows 1000/1000."""

    def execute(self, context):
        c = context.connection
        c.execute_query("CREATE TABLE p (id INT PRIMARY KEY, name VARCHAR(40), age INT) PARTITION BY HASH(id) PARTITIONS 2")
        path = gen_data(self.files.path("simple.csv"), 2000, simple=True, seed=7)
        assert self.load(c, path, "p") == 2000
        c.execute_query("ANALYZE TABLE p")
        parts = c.execute_query(
            "SELECT PARTITION_NAME AS pn FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'p' ORDER BY pn", [context.database]
        )
        assert [r["pn"] for r in parts] == ["p0", "p1"], parts
        for pn in ("p0", "p1"):
            assert one(c, f"SELECT COUNT(*) FROM p PARTITION ({pn})") == 1000
        assert one(c, "SELECT COUNT(*) FROM p WHERE age BETWEEN 18 AND 80") == 2000
        return PyState.completed()


class LoadDataConstraintsHandler(_Load):
    """Children whose parent is missing: with LOCAL the server cannot stop the client mid-file, so
    (as MySQL/MariaDB document) errors become warnings: those rows are skipped with warning 1452
    and the valid rows load. Without a parent table row nothing dangling ever lands."""

    requires = {"features": ["load_data_local", "foreign_keys"]}

    def execute(self, context):
        c = context.connection
        c.execute_query("CREATE TABLE parent (id INT PRIMARY KEY)")
        c.execute_query("CREATE TABLE child (id INT PRIMARY KEY, parent_id INT NOT NULL, FOREIGN KEY (parent_id) REFERENCES parent (id))")
        c.execute_query("INSERT INTO parent VALUES (1), (2)")
        mixed = self.files.write("children.csv", "1,1\n2,99\n3,2\n4,98\n")
        assert self.load(c, mixed, "child") == 2
        codes = [w["Code"] for w in c.execute_query("SHOW WARNINGS")]
        assert codes == [1452, 1452], codes
        assert [r["id"] for r in c.execute_query("SELECT id FROM child ORDER BY id")] == [1, 3]
        assert one(c, "SELECT COUNT(*) FROM child LEFT JOIN parent ON parent.id = child.parent_id WHERE parent.id IS NULL") == 0
        with raises(ForeignKeyError):  # the same violation outside LOAD DATA is an error
            c.execute_query("INSERT INTO child VALUES (9, 99)")
        return PyState.completed()


class LoadDataAutoIncrementHandler(_Load):
    """Rows loaded without the id column get consecutive AUTO_INCREMENT ids after the existing ones."""

    def execute(self, context):
        c = context.connection
        c.execute_query("CREATE TABLE ai (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(20))")
        c.execute_query("INSERT INTO ai (id, name) VALUES (100, 'seed')")
        path = self.files.write("ai.csv", "a\nb\nc\n")
        assert self.load(c, path, "ai", cols="(name)") == 3
        rows = c.execute_query("SELECT id, name FROM ai ORDER BY id")
        assert [(r["id"], r["name"]) for r in rows][1:] == [(101, "a"), (102, "b"), (103, "c")], rows
        return PyState.completed()


class LoadDataErrorHandlingHandler(_Load):
    """Error rows with LOCAL (implied IGNORE): a duplicate key (1062), a non-numeric INT (1366), a short
    row (1261) and a long row (1262) each give exactly their warning and the documented value; a
    missing target table is a NoSuchTableError, a missing local file fails on the client;
    IGNORE 1 LINES skips a header."""

    def execute(self, context):
        c = context.connection
        c.execute_query("CREATE TABLE e (id INT PRIMARY KEY, n INT)")
        bad = self.files.write("bad.csv", "1,1\n2,2\n1,3\n4,notanumber\n5\n6,6,6\n")
        assert self.load(c, bad, "e") == 5
        codes = [w["Code"] for w in c.execute_query("SHOW WARNINGS")]
        assert codes == [1062, 1366, 1261, 1262], codes
        rows = {r["id"]: r["n"] for r in c.execute_query("SELECT id, n FROM e")}
        assert rows == {1: 1, 2: 2, 4: 0, 5: None, 6: 6}, rows
        with raises(NoSuchTableError):
            self.load(c, bad, "no_such_table")
        with raises(JsError):
            self.load(c, self.files.path("missing.csv"), "e")
        c.execute_query("TRUNCATE TABLE e")
        hdr = self.files.write("hdr.csv", "id,n\n1,10\n2,20\n")
        assert self.load(c, hdr, "e", extra="IGNORE 1 LINES") == 2
        assert one(c, "SELECT SUM(n) FROM e") == 30 and c.execute_query("SHOW WARNINGS") == []
        return PyState.completed()


class LoadDataComplexFileHandler(_Load):
    """A generated 14-column file with a header (test-rig gen-data, 5000 rows) loads with IGNORE 1 LINES;
    counts and a few derived aggregates match the file."""

    def execute(self, context):
        c = context.connection
        c.execute_query(
            "CREATE TABLE emp (id INT PRIMARY KEY, name VARCHAR(60), email VARCHAR(100), phone VARCHAR(20), city VARCHAR(40),"
            " department VARCHAR(40), job_title VARCHAR(40), salary DECIMAL(10,2), performance_score DECIMAL(3,1), hire_date DATE,"
            " is_active VARCHAR(5), notes VARCHAR(100), years_experience INT, projects_completed INT)"
        )
        path = gen_data(self.files.path("complex.csv"), 5000, seed=11)
        with open(path, encoding="utf-8") as f:
            header = f.readline().strip().split(",")
            lines = f.read().splitlines()
        assert len(header) == 14 and len(lines) == 5000
        assert self.load(c, path, "emp", extra="IGNORE 1 LINES") == 5000
        assert one(c, "SELECT COUNT(*) FROM emp") == 5000
        active = sum(1 for ln in lines if ",True," in ln)
        assert one(c, "SELECT COUNT(*) FROM emp WHERE is_active = 'True'") == active
        assert one(c, "SELECT COUNT(*) FROM emp WHERE notes LIKE '%, review %'") == 5000, "quoted notes with commas"
        return PyState.completed()
