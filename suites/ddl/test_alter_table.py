"""ALTER TABLE, one operation at a time, each verified in information_schema / SHOW CREATE TABLE."""
from test_rig import DatabaseError, ForeignKeyError, PyState, PyStateHandler

from ._common import column_names, columns, create_table_sql, index_names, one, raises


class AlterTableHandler(PyStateHandler):
    """ADD COLUMN (AFTER, FIRST, several), MODIFY, CHANGE, DROP; ADD/DROP INDEX and UNIQUE;
    ADD/DROP FOREIGN KEY; SET/DROP DEFAULT; AUTO_INCREMENT; CONVERT TO CHARACTER SET; COMMENT."""

    requires = {"feature": "foreign_keys"}

    def execute(self, context):
        c, db = context.connection, context.database
        c.execute_query("CREATE TABLE ref_table (id INT PRIMARY KEY)")
        c.execute_query("INSERT INTO ref_table VALUES (1), (2)")
        c.execute_query("CREATE TABLE ddl_test (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(20)) CHARACTER SET latin1")
        c.execute_query("INSERT INTO ddl_test (name) VALUES ('a'), ('b')")

        def cols():
            return {x["name"]: x for x in columns(c, db, "ddl_test")}

        c.execute_query("ALTER TABLE ddl_test ADD COLUMN email VARCHAR(50)")
        assert column_names(c, db, "ddl_test") == ["id", "name", "email"]
        c.execute_query("ALTER TABLE ddl_test ADD COLUMN age INT AFTER name")
        assert column_names(c, db, "ddl_test") == ["id", "name", "age", "email"]
        c.execute_query("ALTER TABLE ddl_test ADD COLUMN first_col INT FIRST")
        assert column_names(c, db, "ddl_test")[0] == "first_col"
        c.execute_query("ALTER TABLE ddl_test ADD COLUMN (x1 INT, x2 INT)")
        assert column_names(c, db, "ddl_test")[-2:] == ["x1", "x2"]
        c.execute_query("ALTER TABLE ddl_test MODIFY COLUMN name VARCHAR(100) NOT NULL")
        col = cols()["name"]
        assert col["type"] == "varchar(100)" and col["nullable"] == "NO", col
        c.execute_query("ALTER TABLE ddl_test CHANGE COLUMN email contact_email VARCHAR(80)")
        assert "contact_email" in cols() and "email" not in cols() and cols()["contact_email"]["type"] == "varchar(80)"
        c.execute_query("ALTER TABLE ddl_test MODIFY COLUMN age INT AFTER contact_email")
        names = column_names(c, db, "ddl_test")
        assert names.index("age") == names.index("contact_email") + 1, names
        c.execute_query("ALTER TABLE ddl_test DROP COLUMN x2")
        assert "x2" not in cols()
        c.execute_query("ALTER TABLE ddl_test ADD INDEX idx_age (age)")
        c.execute_query("ALTER TABLE ddl_test ADD UNIQUE KEY uq_email (contact_email)")
        assert {"idx_age", "uq_email"} <= set(index_names(c, db, "ddl_test"))
        c.execute_query("ALTER TABLE ddl_test DROP INDEX idx_age")
        assert "idx_age" not in index_names(c, db, "ddl_test")
        c.execute_query("ALTER TABLE ddl_test ADD COLUMN ref_id INT")
        c.execute_query("ALTER TABLE ddl_test ADD CONSTRAINT fk_ref FOREIGN KEY (ref_id) REFERENCES ref_table (id)")
        fk = c.execute_query(
            "SELECT REFERENCED_TABLE_NAME AS t FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ? AND CONSTRAINT_NAME = 'fk_ref'", [db]
        )
        assert fk == [{"t": "ref_table"}] or [r["t"] for r in fk] == ["ref_table"], fk
        with raises(ForeignKeyError):
            c.execute_query("INSERT INTO ddl_test (name, ref_id) VALUES ('x', 99)")
        c.execute_query("ALTER TABLE ddl_test DROP FOREIGN KEY fk_ref")
        assert one(c, "SELECT COUNT(*) FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ?", [db]) == 0
        c.execute_query("INSERT INTO ddl_test (name, ref_id) VALUES ('x', 99)")  # no longer checked
        c.execute_query("ALTER TABLE ddl_test ALTER COLUMN age SET DEFAULT 18")
        assert str(cols()["age"]["dflt"]) == "18", cols()["age"]
        c.execute_query("ALTER TABLE ddl_test ALTER COLUMN age DROP DEFAULT")
        assert cols()["age"]["dflt"] in (None, "NULL"), cols()["age"]
        c.execute_query("ALTER TABLE ddl_test AUTO_INCREMENT = 1000")
        c.execute_query("INSERT INTO ddl_test (name) VALUES ('after_ai')")
        if context.server.kind != "tidb":
            assert c.last_insert_id == 1000, c.last_insert_id
        else:
            assert c.last_insert_id >= 1000, c.last_insert_id
        c.execute_query("ALTER TABLE ddl_test CONVERT TO CHARACTER SET utf8mb4")
        assert cols()["name"]["charset"] == "utf8mb4", cols()["name"]
        assert "utf8mb4" in create_table_sql(c, "ddl_test")
        c.execute_query("ALTER TABLE ddl_test COMMENT = 'the ddl test table'")
        assert one(c, "SELECT TABLE_COMMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'ddl_test'", [db]) == "the ddl test table"
        c.execute_query("ALTER TABLE ddl_test MODIFY COLUMN name VARCHAR(100) NOT NULL COMMENT 'person name'")
        assert cols()["name"]["comment"] == "person name"
        assert one(c, "SELECT COUNT(*) FROM ddl_test") == 4, "ALTERs must keep the rows"
        return PyState.completed()


class AlterTableStrictNarrowingHandler(PyStateHandler):
    """Under the server's default strict sql_mode, narrowing a column below existing data fails
    (1265 data truncated / 1406 too long) and leaves column and data unchanged."""

    def execute(self, context):
        c, db = context.connection, context.database
        mode = one(c, "SELECT @@SESSION.sql_mode")
        print(f"sql_mode: {mode}")
        c.execute_query("CREATE TABLE narrow (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL)")
        c.execute_query("INSERT INTO narrow VALUES (1, 'abcdefghij')")
        with raises(DatabaseError) as box:
            c.execute_query("ALTER TABLE narrow MODIFY name VARCHAR(3) NOT NULL")
        assert box["error"].errno in (1265, 1406, 8200, 1105), box["error"]
        assert columns(c, db, "narrow")[1]["type"] == "varchar(20)"
        assert one(c, "SELECT name FROM narrow WHERE id = 1") == "abcdefghij"
        return PyState.completed()
