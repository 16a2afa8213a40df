"""Basic DDL: create/drop table, create/drop index, create database, rename, truncate."""
from test_rig import DatabaseError, DuplicateKeyError, NoSuchTableError, PyState, PyStateHandler

from ._common import column_names, index_names, one, raises, unique_name


class CreateTableHandler(PyStateHandler):
    """CREATE TABLE: the table and its columns are in information_schema; a second CREATE fails (1050)."""

    def execute(self, context):
        c, db = context.connection, context.database
        c.execute_query("CREATE TABLE ct (id INT PRIMARY KEY, name VARCHAR(50) NOT NULL, created TIMESTAMP NULL)")
        assert one(c, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'ct'", [db]) == 1
        assert column_names(c, db, "ct") == ["id", "name", "created"]
        with raises(DatabaseError, 1050):
            c.execute_query("CREATE TABLE ct (id INT)")
        c.execute_query("CREATE TABLE IF NOT EXISTS ct (id INT)")  # a no-op with a warning
        assert column_names(c, db, "ct") == ["id", "name", "created"]
        return PyState.completed()


class DropTableHandler(PyStateHandler):
    """DROP TABLE: gone from information_schema; selecting from it raises NoSuchTableError."""

    def execute(self, context):
        c = context.connection
        c.execute_query("CREATE TABLE dt (id INT)")
        c.execute_query("DROP TABLE dt")
        assert one(c, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'dt'", [context.database]) == 0
        with raises(NoSuchTableError):
            c.execute_query("SELECT * FROM dt")
        with raises(DatabaseError, 1051):
            c.execute_query("DROP TABLE dt")
        return PyState.completed()


class CreateIndexHandler(PyStateHandler):
    """CREATE INDEX / CREATE UNIQUE INDEX: SHOW INDEX lists them; the unique one rejects duplicates."""

    def execute(self, context):
        c = context.connection
        c.execute_query("CREATE TABLE ci (id INT PRIMARY KEY, a INT, b INT)")
        c.execute_query("CREATE INDEX idx_name ON ci (a)")
        c.execute_query("CREATE UNIQUE INDEX uq_b ON ci (b)")
        rows = c.execute_query("SHOW INDEX FROM ci WHERE Key_name = 'idx_name'")
        assert len(rows) == 1 and rows[0]["Column_name"] == "a" and rows[0]["Non_unique"] == 1, rows
        uq = c.execute_query("SHOW INDEX FROM ci WHERE Key_name = 'uq_b'")
        assert uq[0]["Non_unique"] == 0
        c.execute_query("INSERT INTO ci VALUES (1, 1, 1)")
        with raises(DuplicateKeyError):
            c.execute_query("INSERT INTO ci VALUES (2, 1, 1)")
        return PyState.completed()


class DropIndexHandler(PyStateHandler):
    """DROP INDEX removes it from information_schema.STATISTICS; dropping it again fails (1091)."""

    def execute(self, context):
        c, db = context.connection, context.database
        c.execute_query("CREATE TABLE di (id INT PRIMARY KEY, a INT, KEY idx_a (a))")
        assert "idx_a" in index_names(c, db, "di")
        c.execute_query("DROP INDEX idx_a ON di")
        assert index_names(c, db, "di") == ["PRIMARY"]
        with raises(DatabaseError, 1091):
            c.execute_query("DROP INDEX idx_a ON di")
        return PyState.completed()


class CreateDatabaseHandler(PyStateHandler):
    """CREATE DATABASE with a charset (a uniquely named one next to the scratch database, dropped after):
    SHOW DATABASES LIKE and SCHEMATA see it; a second CREATE fails (1007)."""

    def execute(self, context):
        c = context.connection
        name = unique_name(context, "trt_db")
        c.execute_query(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
        try:
            assert len(c.execute_query(f"SHOW DATABASES LIKE '{name}'")) == 1
            row = c.execute_query(
                "SELECT DEFAULT_CHARACTER_SET_NAME AS cs, DEFAULT_COLLATION_NAME AS co FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", [name]
            )[0]
            assert (row["cs"], row["co"]) == ("utf8mb4", "utf8mb4_bin"), row
            with raises(DatabaseError, 1007):
                c.execute_query(f"CREATE DATABASE `{name}`")
        finally:
            c.execute_query(f"DROP DATABASE IF EXISTS `{name}`")
        assert c.execute_query(f"SHOW DATABASES LIKE '{name}'") == []
        return PyState.completed()


class RenameTableHandler(PyStateHandler):
    """RENAME TABLE keeps the rows under the new name; the old name is gone."""

    def execute(self, context):
        c = context.connection
        c.execute_query("CREATE TABLE old_name (id INT PRIMARY KEY)")
        c.execute_query("INSERT INTO old_name VALUES (1), (2)")
        c.execute_query("RENAME TABLE old_name TO new_name")
        assert one(c, "SELECT COUNT(*) FROM new_name") == 2
        with raises(NoSuchTableError):
            c.execute_query("SELECT * FROM old_name")
        c.execute_query("ALTER TABLE new_name RENAME TO newer_name")
        assert one(c, "SELECT COUNT(*) FROM newer_name") == 2
        return PyState.completed()


class TruncateTableHandler(PyStateHandler):
    """TRUNCATE empties the table and resets AUTO_INCREMENT."""

    def execute(self, context):
        c = context.connection
        c.execute_query("CREATE TABLE tt (id INT AUTO_INCREMENT PRIMARY KEY, v INT)")
        c.execute_query("INSERT INTO tt (v) VALUES (1), (2), (3)")
        c.execute_query("TRUNCATE TABLE tt")
        assert one(c, "SELECT COUNT(*) FROM tt") == 0
        c.execute_query("INSERT INTO tt (v) VALUES (9)")
        if context.server.kind != "tidb":  # TiDB allocates ids in batches per TiDB node
            assert c.last_insert_id == 1, c.last_insert_id
        return PyState.completed()
