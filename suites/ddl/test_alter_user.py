"""Users and roles: ALTER USER variants the server supports, each verified in mysql.user /
SHOW CREATE USER or by logging in; variants it lacks must fail with a syntax error.
Users and roles get unique names and are dropped at the end."""
from test_rig import AccessDeniedError, DatabaseError, PyState, PyStateHandler, SQLSyntaxError

from ._common import one, raises, unique_name


def _show_create(c, user):
    return next(iter(c.execute_query(f"SHOW CREATE USER {user}")[0].values()))


class AlterUserHandler(PyStateHandler):
    """Password change (new password logs in, old one is refused), ACCOUNT LOCK/UNLOCK (login refused
    / allowed), PASSWORD EXPIRE variants, resource limits, REQUIRE SSL/X509/NONE, auth plugin;
    MySQL-only options (FAILED_LOGIN_ATTEMPTS, COMMENT, RETAIN CURRENT PASSWORD) per server."""

    requires = {"server": ["mysql", "mariadb"]}

    def execute(self, context):
        c, s = context.connection, context.server
        name = unique_name(context, "trt_u")
        user = f"'{name}'@'%'"
        c.execute_query(f"CREATE USER {user} IDENTIFIED BY 'first-pw1'")
        try:
            c.execute_query(f"GRANT SELECT ON `{context.database}`.* TO {user}")
            login = lambda pw, tag: context.open_connection(f"{name}_{tag}", username=name, password=pw)  # noqa: E731
            assert one(login("first-pw1", "a"), "SELECT CURRENT_USER()") == f"{name}@%"

            c.execute_query(f"ALTER USER {user} IDENTIFIED BY 'second-pw2'")
            login("second-pw2", "b").close()
            with raises(AccessDeniedError):
                login("first-pw1", "c")

            c.execute_query(f"ALTER USER {user} ACCOUNT LOCK")
            assert "ACCOUNT LOCK" in _show_create(c, user)
            with raises(DatabaseError) as box:
                login("second-pw2", "d")
            assert box["error"].errno in (3118, 4151), box["error"]  # MySQL / MariaDB: account is locked
            c.execute_query(f"ALTER USER {user} ACCOUNT UNLOCK")
            assert "ACCOUNT LOCK" not in _show_create(c, user)
            login("second-pw2", "e").close()

            c.execute_query(f"ALTER USER {user} PASSWORD EXPIRE INTERVAL 90 DAY")
            assert "PASSWORD EXPIRE INTERVAL 90 DAY" in _show_create(c, user)
            c.execute_query(f"ALTER USER {user} PASSWORD EXPIRE NEVER")
            assert "PASSWORD EXPIRE NEVER" in _show_create(c, user)
            c.execute_query(f"ALTER USER {user} PASSWORD EXPIRE")
            if s.kind == "mariadb":
                assert one(c, "SELECT password_expired FROM mysql.user WHERE User = ?", [name]) == "Y"
            else:
                assert one(c, "SELECT password_expired FROM mysql.user WHERE User = ?", [name]) == "Y"
            c.execute_query(f"ALTER USER {user} IDENTIFIED BY 'third-pw3'")  # clears the expiry

            c.execute_query(f"ALTER USER {user} WITH MAX_QUERIES_PER_HOUR 100 MAX_UPDATES_PER_HOUR 50 MAX_USER_CONNECTIONS 5")
            lim = c.execute_query("SELECT max_questions AS q, max_updates AS u, max_user_connections AS c FROM mysql.user WHERE User = ?", [name])[0]
            assert (int(lim["q"]), int(lim["u"]), int(lim["c"])) == (100, 50, 5), lim

            for clause, ssl_type in (("REQUIRE SSL", "ANY"), ("REQUIRE X509", "X509"), ("REQUIRE NONE", "")):
                c.execute_query(f"ALTER USER {user} {clause}")
                got = one(c, "SELECT ssl_type FROM mysql.user WHERE User = ?", [name])
                assert got == ssl_type, f"{clause}: ssl_type {got!r}"

            if s.kind == "mariadb":
                c.execute_query(f"ALTER USER {user} IDENTIFIED VIA mysql_native_password USING PASSWORD('fourth-pw4')")
                assert one(c, "SELECT plugin FROM mysql.user WHERE User = ?", [name]) == "mysql_native_password"
                for unsupported in ("FAILED_LOGIN_ATTEMPTS 3 PASSWORD_LOCK_TIME 1", "COMMENT 'x'", "IDENTIFIED BY 'p5' RETAIN CURRENT PASSWORD"):
                    with raises(SQLSyntaxError):
                        c.execute_query(f"ALTER USER {user} {unsupported}")
            else:
                c.execute_query(f"ALTER USER {user} IDENTIFIED WITH caching_sha2_password BY 'fourth-pw4'")
                assert one(c, "SELECT plugin FROM mysql.user WHERE User = ?", [name]) == "caching_sha2_password"
                if s.at_least("8.0.19"):
                    c.execute_query(f"ALTER USER {user} FAILED_LOGIN_ATTEMPTS 3 PASSWORD_LOCK_TIME 1")
                    assert "FAILED_LOGIN_ATTEMPTS 3" in _show_create(c, user)
                if s.at_least("8.0.21"):
                    c.execute_query(f"ALTER USER {user} COMMENT 'rig user'")
                    attr = one(c, "SELECT ATTRIBUTE FROM information_schema.USER_ATTRIBUTES WHERE USER = ?", [name])
                    assert "rig user" in str(attr), attr
        finally:
            c.execute_query(f"DROP USER IF EXISTS {user}")
        assert one(c, "SELECT COUNT(*) FROM mysql.user WHERE User = ?", [name]) == 0
        return PyState.completed()


class RolesHandler(PyStateHandler):
    """CREATE ROLE, GRANT privileges to it, GRANT it to a user, make it the default role: the
    user can SELECT but not INSERT (AccessDeniedError); revoking the role takes SELECT away."""

    requires = {"feature": "roles"}

    def execute(self, context):
        c, db = context.connection, context.database
        c.execute_query("CREATE TABLE secret (id INT)")
        c.execute_query("INSERT INTO secret VALUES (1)")
        uname, rname = unique_name(context, "trt_ru"), unique_name(context, "trt_role")
        user = f"'{uname}'@'%'"
        role = f"`{rname}`"
        c.execute_query(f"CREATE USER {user} IDENTIFIED BY 'role-pw1'")
        c.execute_query(f"CREATE ROLE {role}")
        try:
            c.execute_query(f"GRANT SELECT ON `{db}`.* TO {role}")
            c.execute_query(f"GRANT {role} TO {user}")
            if context.server.kind == "mariadb":
                c.execute_query(f"SET DEFAULT ROLE {role} FOR {user}")
                assert one(c, "SELECT default_role FROM mysql.user WHERE User = ?", [uname]) == rname
            else:
                c.execute_query(f"SET DEFAULT ROLE {role} TO {user}")
            grants = " ".join(next(iter(r.values())) for r in c.execute_query(f"SHOW GRANTS FOR {user}"))
            assert rname in grants, grants
            u = context.open_connection("role_user", username=uname, password="role-pw1")
            assert one(u, "SELECT COUNT(*) FROM secret") == 1
            with raises(AccessDeniedError):
                u.execute_query("INSERT INTO secret VALUES (2)")
            u.close()
            c.execute_query(f"REVOKE {role} FROM {user}")
            with raises(AccessDeniedError):
                context.open_connection("role_user2", username=uname, password="role-pw1").execute_query("SELECT COUNT(*) FROM secret")
        finally:
            c.execute_query(f"DROP USER IF EXISTS {user}")
            c.execute_query(f"DROP ROLE IF EXISTS {role}")
        assert one(c, "SELECT COUNT(*) FROM mysql.user WHERE User IN (?, ?)", [uname, rname]) == 0
        return PyState.completed()
