"""ALTER DATABASE / ALTER SCHEMA charset and collation changes, verified in information_schema.SCHEMATA."""
from test_rig import DatabaseError, PyState, PyStateHandler, SQLSyntaxError

from ._common import raises


def _schema(c, db):
    return c.execute_query(
        "SELECT DEFAULT_CHARACTER_SET_NAME AS cs, DEFAULT_COLLATION_NAME AS co FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", [db]
    )[0]


class AlterDatabaseHandler(PyStateHandler):
    """Each CHARACTER SET / COLLATE change of the scratch database shows in SCHEMATA, and new
    tables inherit it; utf8mb4_0900_ai_ci and READ ONLY only where the server has them."""

    def execute(self, context):
        c, db, s = context.connection, context.database, context.server
        q = f"`{db}`"
        steps = [
            (f"ALTER DATABASE {q} CHARACTER SET latin1", ("latin1", "latin1_swedish_ci")),
            (f"ALTER DATABASE {q} COLLATE latin1_bin", ("latin1", "latin1_bin")),
            (f"ALTER SCHEMA {q} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci", ("utf8mb4", "utf8mb4_unicode_ci")),
            (f"ALTER DATABASE {q} COLLATE utf8mb4_general_ci", ("utf8mb4", "utf8mb4_general_ci")),
            (f"ALTER DATABASE {q} COLLATE utf8mb4_bin", ("utf8mb4", "utf8mb4_bin")),
        ]
        if s.kind != "tidb":  # TiDB does not allow changing to a charset other than utf8/utf8mb4 (and latin1 needs care)
            steps.append((f"ALTER DATABASE {q} CHARACTER SET utf8mb3 COLLATE utf8mb3_unicode_ci", ("utf8mb3", "utf8mb3_unicode_ci")))
        for sql, want in steps:
            c.execute_query(sql)
            got = _schema(c, db)
            # MySQL 8.0 reports utf8mb3 as 'utf8' (before 8.0.30): accept both spellings
            norm = lambda x: x.replace("utf8mb3", "utf8") if x else x  # noqa: E731
            assert (norm(got["cs"]), norm(got["co"])) == (norm(want[0]), norm(want[1])), f"{sql}: SCHEMATA says {got}"
        c.execute_query("ALTER DATABASE " + q + " CHARACTER SET latin1 COLLATE latin1_bin")
        c.execute_query("CREATE TABLE inherits (s VARCHAR(10))")
        cs = c.execute_query(
            "SELECT CHARACTER_SET_NAME AS cs, COLLATION_NAME AS co FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'inherits'", [db]
        )[0]
        assert (cs["cs"], cs["co"]) == ("latin1", "latin1_bin"), f"new tables must inherit the database default: {cs}"
        mysql8 = s.kind == "mysql" and s.at_least("8.0")
        has_0900 = mysql8 or s.kind == "tidb" and s.at_least("7.4") or s.kind == "mariadb" and s.at_least("11.4.5")
        if has_0900:
            c.execute_query(f"ALTER DATABASE {q} COLLATE utf8mb4_0900_ai_ci")
            assert _schema(c, db)["cs"] == "utf8mb4"
        else:
            with raises(DatabaseError, 1273):  # Unknown collation
                c.execute_query(f"ALTER DATABASE {q} COLLATE utf8mb4_0900_ai_ci")
        if s.kind == "mysql" and s.at_least("8.0.22"):
            c.execute_query(f"ALTER DATABASE {q} READ ONLY = 1")
            opts = c.execute_query("SELECT OPTIONS FROM information_schema.SCHEMATA_EXTENSIONS WHERE SCHEMA_NAME = ?", [db])[0]["OPTIONS"]
            assert "READ ONLY=1" in opts, opts
            with raises(DatabaseError, 3989):
                c.execute_query("CREATE TABLE ro (id INT)")
            c.execute_query(f"ALTER DATABASE {q} READ ONLY = 0")
        elif s.kind == "mariadb":
            with raises(SQLSyntaxError):
                c.execute_query(f"ALTER DATABASE {q} READ ONLY = 1")
        return PyState.completed()
