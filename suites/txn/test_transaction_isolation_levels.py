"""Isolation levels with real two-connection interleavings (conn.start() /
expect_blocked() / wait()), each anomaly reported as prevented or allowed and
asserted against what the server documents (see _probes.py)."""
from test_rig import PyState, PyStateHandler

from ._common import begin, one, session_level, set_level
from ._probes import ADYA, CLASSIC, check, run_probes


class _LevelProbe(PyStateHandler):
    level = "REPEATABLE READ"
    probes = CLASSIC
    tags = ("isolation",)

    def execute(self, context):
        c = context.connection
        set_level(c, self.level)
        assert session_level(c).replace("-", " ").upper() == self.level, session_level(c)
        results = run_probes(context, self.level, self.probes)
        check(context, self.level, results)
        return PyState.completed()


class ReadUncommittedHandler(_LevelProbe):
    """READ UNCOMMITTED: dirty reads allowed (InnoDB reads the newest version)."""

    level = "READ UNCOMMITTED"
    requires = {"feature": "read_uncommitted"}


class ReadCommittedHandler(_LevelProbe):
    """READ COMMITTED: no dirty read; non-repeatable reads and phantoms allowed."""

    level = "READ COMMITTED"


class RepeatableReadHandler(_LevelProbe):
    """REPEATABLE READ: a consistent snapshot (no NRR, no phantom for plain SELECT); lost update per server."""

    level = "REPEATABLE READ"


class SerializableHandler(_LevelProbe):
    """SERIALIZABLE: locking reads make the writer block; every anomaly prevented."""

    level = "SERIALIZABLE"
    requires = {"feature": "serializable"}


class IsolationAnomaliesHandler(PyStateHandler):
    """The Adya/Hermes anomaly probes G0, G1a, G1b, G1c, G2 at every level the server supports."""

    tags = ("isolation",)

    def execute(self, context):
        levels = ["READ COMMITTED", "REPEATABLE READ"]
        if context.server.kind != "tidb":
            levels = ["READ UNCOMMITTED"] + levels + ["SERIALIZABLE"]
        for level in levels:
            check(context, level, run_probes(context, level, ADYA))
        return PyState.completed()


class WriteSkewHandler(PyStateHandler):
    """Doctors on call: write skew allowed under snapshot/RR, prevented by SERIALIZABLE."""

    tags = ("isolation",)

    def execute(self, context):
        levels = ["READ COMMITTED", "REPEATABLE READ"] + (["SERIALIZABLE"] if context.server.kind != "tidb" else [])
        for level in levels:
            check(context, level, run_probes(context, level, ["write_skew"]))
        return PyState.completed()


class IsolationLevelComparisonHandler(PyStateHandler):
    """RC sees another session's autocommitted update inside its transaction; RR does not."""

    tags = ("isolation",)

    def execute(self, context):
        c = context.connection
        c.execute_query("CREATE TABLE cmp (id INT PRIMARY KEY, v INT)")
        c.execute_query("INSERT INTO cmp VALUES (1, 10)")
        rc = context.open_connection("rc")
        rr = context.open_connection("rr")
        begin(rc, "READ COMMITTED")
        begin(rr, "REPEATABLE READ")
        assert one(rc, "SELECT v FROM cmp WHERE id = 1") == 10
        assert one(rr, "SELECT v FROM cmp WHERE id = 1") == 10
        c.execute_query("UPDATE cmp SET v = 20 WHERE id = 1")  # autocommit
        seen_rc = one(rc, "SELECT v FROM cmp WHERE id = 1")
        seen_rr = one(rr, "SELECT v FROM cmp WHERE id = 1")
        print(f"after an autocommitted update: READ COMMITTED sees {seen_rc}, REPEATABLE READ sees {seen_rr}")
        assert seen_rc == 20, f"READ COMMITTED must see the committed update, saw {seen_rc}"
        assert seen_rr == 10, f"REPEATABLE READ must keep its snapshot, saw {seen_rr}"
        rc.commit()
        rr.commit()
        assert one(rr, "SELECT v FROM cmp WHERE id = 1") == 20, "a new transaction sees the update"
        return PyState.completed()


class PhantomReadHandler(PyStateHandler):
    """REPEATABLE READ: COUNT(*) over a predicate is unchanged after another session inserts and commits."""

    tags = ("isolation",)

    def execute(self, context):
        c = context.connection
        c.execute_query("CREATE TABLE ph (id INT PRIMARY KEY, category CHAR(1), KEY (category))")
        for i in range(1, 6):
            c.execute_query("INSERT INTO ph VALUES (?, 'A')", [i])
        reader = context.open_connection("reader")
        begin(reader, "REPEATABLE READ")
        assert one(reader, "SELECT COUNT(*) AS count FROM ph WHERE category = 'A'") == 5
        writer = context.open_connection("writer")
        writer.execute_query("INSERT INTO ph VALUES (6, 'A')")  # autocommit: must not block under RR
        assert one(writer, "SELECT COUNT(*) AS count FROM ph WHERE category = 'A'") == 6
        again = one(reader, "SELECT COUNT(*) AS count FROM ph WHERE category = 'A'")
        assert again == 5, f"phantom row seen under REPEATABLE READ: {again}"
        reader.commit()
        assert one(reader, "SELECT COUNT(*) AS count FROM ph WHERE category = 'A'") == 6
        return PyState.completed()
