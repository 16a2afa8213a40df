"""Views of every shape, each verified by querying it (exact rows), plus ALTER VIEW and SHOW CREATE VIEW."""
from test_rig import PyState, PyStateHandler

from ._common import one


def _window_cte_supported(s):
    return {"mysql": "8.0", "mariadb": "10.2.2", "tidb": "5.1"}.get(s.kind) and s.at_least({"mysql": "8.0", "mariadb": "10.2.2", "tidb": "5.1"}[s.kind])


class AlterViewHandler(PyStateHandler):
    """CREATE OR REPLACE VIEW: simple, join, aggregate, GROUP BY/HAVING, ORDER BY+LIMIT, subquery,
    CASE, computed, DISTINCT, UNION, window, CTE; each queried and compared to the expected rows."""

    def execute(self, context):
        c, db = context.connection, context.database
        c.execute_query("CREATE TABLE base_table (id INT PRIMARY KEY, name VARCHAR(20), dept VARCHAR(10), salary INT)")
        c.execute_query("INSERT INTO base_table VALUES (1,'ann','eng',100),(2,'bob','eng',80),(3,'cid','ops',60),(4,'dee','ops',90),(5,'eve','hr',70)")
        c.execute_query("CREATE TABLE details_table (id INT PRIMARY KEY, base_id INT, city VARCHAR(20))")
        c.execute_query("INSERT INTO details_table VALUES (1,1,'Oslo'),(2,2,'Rome'),(3,4,'Lima')")
        cases = [
            ("SELECT id, name FROM base_table WHERE salary > 75", "SELECT * FROM test_view ORDER BY id", [(1, "ann"), (2, "bob"), (4, "dee")]),
            ("SELECT b.name, d.city FROM base_table b JOIN details_table d ON d.base_id = b.id", "SELECT * FROM test_view ORDER BY name", [("ann", "Oslo"), ("bob", "Rome"), ("dee", "Lima")]),
            ("SELECT COUNT(*) AS n, SUM(salary) AS total FROM base_table", "SELECT * FROM test_view", [(5, 400)]),
            ("SELECT dept, COUNT(*) AS n FROM base_table GROUP BY dept HAVING COUNT(*) > 1", "SELECT * FROM test_view ORDER BY dept", [("eng", 2), ("ops", 2)]),
            ("SELECT name FROM base_table ORDER BY salary DESC LIMIT 2", "SELECT * FROM test_view", [("ann",), ("dee",)]),
            ("SELECT name FROM base_table WHERE id IN (SELECT base_id FROM details_table)", "SELECT * FROM test_view ORDER BY name", [("ann",), ("bob",), ("dee",)]),
            ("SELECT name, CASE WHEN salary >= 90 THEN 'high' WHEN salary >= 70 THEN 'mid' ELSE 'low' END AS band FROM base_table", "SELECT * FROM test_view ORDER BY name", [("ann", "high"), ("bob", "mid"), ("cid", "low"), ("dee", "high"), ("eve", "mid")]),
            ("SELECT id, salary * 12 AS yearly, CONCAT(name, '@', dept) AS tag FROM base_table", "SELECT * FROM test_view WHERE id = 3", [(3, 720, "cid@ops")]),
            ("SELECT DISTINCT dept FROM base_table", "SELECT * FROM test_view ORDER BY dept", [("eng",), ("hr",), ("ops",)]),
            ("SELECT name AS label FROM base_table WHERE id = 1 UNION SELECT city FROM details_table WHERE id = 3", "SELECT * FROM test_view ORDER BY label", [("ann",), ("Lima",)]),
        ]
        if _window_cte_supported(context.server):
            cases += [
                ("SELECT name, RANK() OVER (PARTITION BY dept ORDER BY salary DESC) AS rnk FROM base_table", "SELECT * FROM test_view WHERE rnk = 1 ORDER BY name", [("ann", 1), ("dee", 1), ("eve", 1)]),
                ("WITH rich AS (SELECT * FROM base_table WHERE salary >= 80) SELECT COUNT(*) AS n FROM rich", "SELECT * FROM test_view", [(3,)]),
            ]
        for definition, query, want in cases:
            c.execute_query(f"CREATE OR REPLACE VIEW test_view AS {definition}")
            got = [tuple(r[k] for k in r if not k.startswith("col_")) for r in c.execute_query(query)]
            got = [tuple(int(v) if hasattr(v, "is_integer") or type(v).__name__ == "Decimal" else v for v in row) for row in got]
            assert got == want, f"view {definition!r}: {got} != {want}"
        c.execute_query("ALTER VIEW test_view AS SELECT id FROM base_table WHERE dept = 'hr'")
        assert [r["id"] for r in c.execute_query("SELECT * FROM test_view")] == [5]
        ddl = c.execute_query("SHOW CREATE VIEW test_view")[0]["Create View"]
        assert "dept" in ddl and "hr" in ddl, ddl
        assert one(c, "SELECT COUNT(*) FROM information_schema.VIEWS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = 'test_view'", [db]) == 1
        c.execute_query("INSERT INTO base_table VALUES (6, 'fay', 'hr', 50)")
        assert [r["id"] for r in c.execute_query("SELECT * FROM test_view ORDER BY id")] == [5, 6], "a view reads current data"
        return PyState.completed()
