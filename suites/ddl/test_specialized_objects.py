"""Views, temporary tables, stored procedures, grants and information_schema."""
from test_rig import AccessDeniedError, DatabaseError, NoSuchTableError, PyState, PyStateHandler

from ._common import one, raises, unique_name


class ViewsHandler(PyStateHandler):
    """CREATE VIEW: SHOW FULL TABLES (of the scratch database) lists it as a VIEW; it returns the filtered rows."""

    def execute(self, context):
        c, db = context.connection, context.database
        c.execute_query("CREATE TABLE t_src (id INT PRIMARY KEY, active TINYINT)")
        c.execute_query("INSERT INTO t_src VALUES (1, 1), (2, 0), (3, 1)")
        c.execute_query("CREATE VIEW v_test AS SELECT id FROM t_src WHERE active = 1")
        rows = c.execute_query(f"SHOW FULL TABLES WHERE Table_type = 'VIEW' AND `Tables_in_{db}` = 'v_test'")
        assert len(rows) == 1, rows
        assert [r["id"] for r in c.execute_query("SELECT id FROM v_test ORDER BY id")] == [1, 3]
        c.execute_query("DROP VIEW v_test")
        with raises(NoSuchTableError):
            c.execute_query("SELECT * FROM v_test")
        return PyState.completed()


class TempTablesHandler(PyStateHandler):
    """A TEMPORARY table is visible only to its session (another gets NoSuchTableError), shadows a
    permanent table of the same name, and disappears when dropped."""

    requires = {"feature": "temporary_tables"}

    def execute(self, context):
        c = context.connection
        other = context.open_connection("other")
        c.execute_query("CREATE TABLE shadow (id INT)")
        c.execute_query("INSERT INTO shadow VALUES (1), (2)")
        c.execute_query("CREATE TEMPORARY TABLE tmp (id INT PRIMARY KEY, v VARCHAR(10))")
        c.execute_query("INSERT INTO tmp VALUES (1, 'a'), (2, 'b'), (3, 'c')")
        assert one(c, "SELECT COUNT(*) FROM tmp") == 3
        with raises(NoSuchTableError):
            other.execute_query("SELECT * FROM tmp")
        c.execute_query("CREATE TEMPORARY TABLE shadow (id INT)")
        assert one(c, "SELECT COUNT(*) FROM shadow") == 0, "the temporary table must shadow the permanent one"
        assert one(other, "SELECT COUNT(*) FROM shadow") == 2
        c.execute_query("DROP TEMPORARY TABLE shadow")
        assert one(c, "SELECT COUNT(*) FROM shadow") == 2
        c.execute_query("DROP TEMPORARY TABLE tmp")
        with raises(NoSuchTableError):
            c.execute_query("SELECT * FROM tmp")
        return PyState.completed()


class ProceduresHandler(PyStateHandler):
    """CREATE PROCEDURE with IN/OUT parameters: CALL returns the result through a user variable and
    a result set; information_schema.ROUTINES lists it; DROP removes it. Not on TiDB."""

    requires = {"feature": "stored_procedures"}

    def execute(self, context):
        c, db = context.connection, context.database
        c.execute_query("CREATE TABLE nums (n INT)")
        c.execute_query("INSERT INTO nums VALUES (1), (2), (3), (4)")
        c.execute_query(
            "CREATE PROCEDURE sum_above(IN lo INT, OUT total INT) BEGIN SELECT COALESCE(SUM(n), 0) INTO total FROM nums WHERE n > lo; END"
        )
        c.execute_query("CALL sum_above(1, @t)")
        assert one(c, "SELECT @t") == 9
        c.execute_query("CREATE PROCEDURE list_nums() SELECT n FROM nums ORDER BY n")
        rows = c.execute_query("CALL list_nums()")
        assert [r["n"] for r in rows] == [1, 2, 3, 4], rows
        names = [r["ROUTINE_NAME"] for r in c.execute_query(
            "SELECT ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ? ORDER BY ROUTINE_NAME", [db])]
        assert names == ["list_nums", "sum_above"], names
        c.execute_query("DROP PROCEDURE sum_above")
        with raises(DatabaseError, 1305):  # PROCEDURE does not exist
            c.execute_query("CALL sum_above(1, @t)")
        return PyState.completed()


class PermissionsHandler(PyStateHandler):
    """GRANT SELECT, INSERT on one table to a new user: SHOW GRANTS lists it, the user can read and
    insert there but not elsewhere (AccessDeniedError); REVOKE INSERT takes it away."""

    def execute(self, context):
        c, db = context.connection, context.database
        c.execute_query("CREATE TABLE open_t (id INT)")
        c.execute_query("CREATE TABLE closed_t (id INT)")
        name = unique_name(context, "trt_g")
        user = f"'{name}'@'%'"
        c.execute_query(f"CREATE USER {user} IDENTIFIED BY 'grant-pw1'")
        try:
            c.execute_query(f"GRANT SELECT, INSERT ON `{db}`.open_t TO {user}")
            grants = " ".join(next(iter(r.values())) for r in c.execute_query(f"SHOW GRANTS FOR {user}"))
            assert "SELECT, INSERT" in grants and "open_t" in grants, grants
            tp = c.execute_query(
                "SELECT PRIVILEGE_TYPE AS p FROM information_schema.TABLE_PRIVILEGES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'open_t' AND GRANTEE LIKE ? ORDER BY p",
                [db, f"%{name}%"],
            )
            assert [r["p"] for r in tp] == ["INSERT", "SELECT"], tp
            u = context.open_connection("grantee", username=name, password="grant-pw1", database="information_schema")
            u.execute_query(f"INSERT INTO `{db}`.open_t VALUES (1)")
            assert one(u, f"SELECT COUNT(*) FROM `{db}`.open_t") == 1
            with raises(AccessDeniedError):
                u.execute_query(f"SELECT * FROM `{db}`.closed_t")
            c.execute_query(f"REVOKE INSERT ON `{db}`.open_t FROM {user}")
            with raises(AccessDeniedError):
                u.execute_query(f"INSERT INTO `{db}`.open_t VALUES (2)")
            assert one(u, f"SELECT COUNT(*) FROM `{db}`.open_t") == 1
            u.close()
        finally:
            c.execute_query(f"DROP USER IF EXISTS {user}")
        return PyState.completed()


class InformationSchemaHandler(PyStateHandler):
    """information_schema describes what was created: TABLES (count, engine, type), COLUMNS
    (types, nullability, defaults), KEY_COLUMN_USAGE (primary key)."""

    def execute(self, context):
        c, db = context.connection, context.database
        c.execute_query("CREATE TABLE is_a (id BIGINT PRIMARY KEY, name VARCHAR(30) NOT NULL DEFAULT 'x', price DECIMAL(10,2))")
        c.execute_query("CREATE TABLE is_b (k INT, PRIMARY KEY (k))")
        c.execute_query("CREATE VIEW is_v AS SELECT id FROM is_a")
        tables = c.execute_query("SELECT TABLE_NAME AS t, TABLE_TYPE AS ty FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME", [db])
        assert [(r["t"], r["ty"]) for r in tables] == [("is_a", "BASE TABLE"), ("is_b", "BASE TABLE"), ("is_v", "VIEW")], tables
        assert one(c, "SELECT COUNT(*) FROM information_schema.tables") > 3
        cols = c.execute_query(
            "SELECT COLUMN_NAME AS n, DATA_TYPE AS dt, IS_NULLABLE AS nu, COLUMN_DEFAULT AS d, NUMERIC_PRECISION AS p, NUMERIC_SCALE AS s"
            " FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'is_a' ORDER BY ORDINAL_POSITION",
            [db],
        )
        assert [(r["n"], r["dt"], r["nu"]) for r in cols] == [("id", "bigint", "NO"), ("name", "varchar", "NO"), ("price", "decimal", "YES")], cols
        assert str(cols[1]["d"]).strip("'") == "x" and (int(cols[2]["p"]), int(cols[2]["s"])) == (10, 2), cols
        pk = c.execute_query(
            "SELECT TABLE_NAME AS t, COLUMN_NAME AS col FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = ? AND CONSTRAINT_NAME = 'PRIMARY' ORDER BY t",
            [db],
        )
        assert [(r["t"], r["col"]) for r in pk] == [("is_a", "id"), ("is_b", "k")], pk
        return PyState.completed()
