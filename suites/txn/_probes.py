"""Isolation anomaly probes: each runs a real two-connection interleaving and
reports whether the anomaly was ALLOWED or PREVENTED at the given level, with
how it was prevented (snapshot read, blocked by a lock, transaction aborted).

``expected(server, level, conn)`` is what the server documents:
- InnoDB (MySQL, MariaDB): READ UNCOMMITTED reads the newest (uncommitted) row
  versions; READ COMMITTED takes a fresh snapshot per statement; REPEATABLE READ
  keeps the first read's snapshot (no phantoms for plain SELECT) but a plain
  read-modify-write loses updates (unless MariaDB's innodb_snapshot_isolation=ON,
  11.6+); SERIALIZABLE turns plain SELECTs in a transaction into locking reads
  (LOCK IN SHARE MODE), so the writer blocks and cycles end in a deadlock.
- TiDB: READ COMMITTED / REPEATABLE READ (snapshot isolation); lost update is
  allowed in pessimistic mode and prevented (write conflict) in optimistic mode.
Dirty writes (G0) are prevented everywhere: a second writer waits for the row lock.
"""
from __future__ import annotations

from typing import Callable, Dict, List, Tuple

from test_rig import DatabaseError, PyConnection

from ._common import begin, is_conflict, lock_timeout, one, snapshot_isolation_on

ALLOWED = "allowed"
PREVENTED = "prevented"
BLOCK_S = 0.3

CLASSIC = ["dirty_read", "non_repeatable_read", "phantom", "lost_update", "write_skew"]
ADYA = ["G0", "G1a", "G1b", "G1c", "G2"]


def expected(kind: str, level: str, conn: PyConnection) -> Dict[str, str]:
    a, p = ALLOWED, PREVENTED
    if kind == "tidb":
        optimistic = str(one(conn, "SELECT @@tidb_txn_mode AS m") or "").lower() == "optimistic"
        if level == "READ COMMITTED":
            row = [p, a, a, a, a, p, p, p, p, a]
        else:  # REPEATABLE READ = snapshot isolation
            row = [p, p, p, p if optimistic else a, a, p, p, p, p, a]
    else:  # InnoDB
        row = {
            "READ UNCOMMITTED": [a, a, a, a, a, p, a, a, a, a],
            "READ COMMITTED": [p, a, a, a, a, p, p, p, p, a],
            "REPEATABLE READ": [p, p, p, a, a, p, p, p, p, a],
            "SERIALIZABLE": [p] * 10,
        }[level]
        if level == "REPEATABLE READ" and kind == "mariadb" and snapshot_isolation_on(conn):
            row = list(row)
            row[3] = p  # 1020 'Record has changed since last read'
    return dict(zip(CLASSIC + ADYA, row))


# -- plumbing -------------------------------------------------------------------


def _table(a: PyConnection, name: str, rows: List[Tuple[int, int, int]]) -> None:
    a.execute_query(f"DROP TABLE IF EXISTS {name}")
    a.execute_query(f"CREATE TABLE {name} (id INT PRIMARY KEY, v INT NOT NULL, k INT NOT NULL DEFAULT 0, KEY k (k))")
    for r in rows:
        a.execute_query(f"INSERT INTO {name} (id, v, k) VALUES (?, ?, ?)", list(r))


def _settle(pending) -> str:
    """'ok' or 'conflict' (deadlock victim / write conflict); other errors propagate."""
    try:
        pending.wait()
        return "ok"
    except DatabaseError as exc:
        if is_conflict(exc):
            return "conflict"
        raise


def _finish(conn: PyConnection, outcome: str) -> None:
    if outcome == "ok":
        conn.commit()
    else:
        conn.rollback()


def _read(reader: PyConnection, sql: str, release: Callable[[], None]) -> Tuple[object, bool]:
    """Reads one value; if the read blocks (a locking read under SERIALIZABLE),
    runs ``release`` (the writer ends) and then takes the value. Returns (value, blocked)."""
    pending = reader.start(sql)
    if pending.finished_within(BLOCK_S):
        rows = pending.wait()
        return (next(iter(rows[0].values())) if rows else None), False
    release()
    rows = pending.wait()
    return (next(iter(rows[0].values())) if rows else None), True


def _write_race(a: PyConnection, sql_a: str, b: PyConnection, sql_b: str) -> List[str]:
    """a writes, then b writes; each commits if it can. Returns the aborted ones."""
    aborted: List[str] = []
    pa = a.start(sql_a)
    if pa.finished_within(BLOCK_S):
        oa = _settle(pa)
        _finish(a, oa)
        ob = _settle(b.start(sql_b))
        _finish(b, ob)
    else:  # a waits for b's (shared) lock: b's write closes the cycle or b goes first
        ob = _settle(b.start(sql_b))
        _finish(b, ob)
        oa = _settle(pa)
        _finish(a, oa)
    if oa == "conflict":
        aborted.append("a")
    if ob == "conflict":
        aborted.append("b")
    return aborted


# -- probes: each returns (outcome, how) ---------------------------------------------


def dirty_read(a, b, level, t):
    _table(a, t, [(1, 10, 0)])
    begin(a, level)
    begin(b, level)
    a.execute_query(f"UPDATE {t} SET v = 20 WHERE id = 1")
    v, blocked = _read(b, f"SELECT v FROM {t} WHERE id = 1", a.rollback)
    if not blocked:
        a.rollback()
    b.commit()
    if v == 20:
        return ALLOWED, "read the uncommitted 20"
    assert v == 10, f"dirty_read: read {v}, expected 10 or 20"
    return PREVENTED, "blocked until the writer ended" if blocked else "read the committed 10"


def non_repeatable_read(a, b, level, t):
    _table(a, t, [(1, 10, 0)])
    begin(a, level)
    begin(b, level)
    first = one(a, f"SELECT v FROM {t} WHERE id = 1")
    pb = b.start(f"UPDATE {t} SET v = 20 WHERE id = 1")
    if pb.finished_within(BLOCK_S):
        pb.wait()
        b.commit()
        second = one(a, f"SELECT v FROM {t} WHERE id = 1")
        a.commit()
        how = "the second read saw the committed 20" if second == 20 else "snapshot kept 10"
        return (ALLOWED if second != first else PREVENTED), how
    second = one(a, f"SELECT v FROM {t} WHERE id = 1")
    a.commit()
    pb.wait()
    b.commit()
    assert first == second == 10, (first, second)
    return PREVENTED, "the writer blocked on the reader's shared lock"


def phantom(a, b, level, t):
    _table(a, t, [(1, 10, 1), (2, 10, 1), (3, 10, 2)])
    begin(a, level)
    begin(b, level)
    first = one(a, f"SELECT COUNT(*) AS n FROM {t} WHERE k = 1")
    pb = b.start(f"INSERT INTO {t} (id, v, k) VALUES (4, 10, 1)")
    if pb.finished_within(BLOCK_S):
        pb.wait()
        b.commit()
        second = one(a, f"SELECT COUNT(*) AS n FROM {t} WHERE k = 1")
        a.commit()
        return (ALLOWED if second != first else PREVENTED), f"counts {first} then {second}"
    second = one(a, f"SELECT COUNT(*) AS n FROM {t} WHERE k = 1")
    a.commit()
    pb.wait()
    b.commit()
    assert first == second == 2, (first, second)
    return PREVENTED, "the insert blocked on the reader's next-key locks"


def lost_update(a, b, level, t):
    _table(a, t, [(1, 0, 0)])
    begin(a, level)
    begin(b, level)
    va = one(a, f"SELECT v FROM {t} WHERE id = 1")
    vb = one(b, f"SELECT v FROM {t} WHERE id = 1")
    aborted = _write_race(a, f"UPDATE {t} SET v = {va + 1} WHERE id = 1", b, f"UPDATE {t} SET v = {vb + 1} WHERE id = 1")
    final = one(a, f"SELECT v FROM {t} WHERE id = 1")
    if not aborted and final == 1:
        return ALLOWED, "both read 0 and both committed v=1: one increment lost"
    return PREVENTED, f"aborted: {aborted}, final v={final}"


def write_skew(a, b, level, t):
    # doctors on call: each may go off call only if another doctor stays on call
    _table(a, t, [(1, 1, 0), (2, 1, 0)])
    begin(a, level)
    begin(b, level)
    na = one(a, f"SELECT SUM(v) AS n FROM {t}")
    nb = one(b, f"SELECT SUM(v) AS n FROM {t}")
    assert na == 2 and nb == 2, (na, nb)
    aborted = _write_race(a, f"UPDATE {t} SET v = 0 WHERE id = 1", b, f"UPDATE {t} SET v = 0 WHERE id = 2")
    final = one(a, f"SELECT SUM(v) AS n FROM {t}")
    if final == 0:
        return ALLOWED, "both went off call: nobody on call"
    return PREVENTED, f"aborted: {aborted}, on call: {final}"


def g0(a, b, level, t):
    _table(a, t, [(1, 0, 0), (2, 0, 0)])
    begin(a, level)
    begin(b, level)
    a.execute_query(f"UPDATE {t} SET v = 1 WHERE id = 1")
    pb = b.start(f"UPDATE {t} SET v = 2 WHERE id = 1")
    blocked = not pb.finished_within(BLOCK_S)
    a.execute_query(f"UPDATE {t} SET v = 1 WHERE id = 2")
    a.commit()
    pb.wait()
    b.execute_query(f"UPDATE {t} SET v = 2 WHERE id = 2")
    b.commit()
    rows = a.execute_query(f"SELECT v FROM {t} ORDER BY id")
    assert [r["v"] for r in rows] == [2, 2], f"G0: final {rows}"
    return (PREVENTED, "second writer waited for the row lock") if blocked else (ALLOWED, "second writer overwrote an uncommitted write")


def g1a(a, b, level, t):
    _table(a, t, [(1, 0, 0)])
    begin(a, level)
    begin(b, level)
    a.execute_query(f"UPDATE {t} SET v = 99 WHERE id = 1")
    v, blocked = _read(b, f"SELECT v FROM {t} WHERE id = 1", a.rollback)
    if not blocked:
        a.rollback()
    b.commit()
    if v == 99:
        return ALLOWED, "read a value that was later rolled back"
    return PREVENTED, "blocked" if blocked else "read the committed 0"


def g1b(a, b, level, t):
    _table(a, t, [(1, 0, 0)])
    begin(a, level)
    begin(b, level)
    a.execute_query(f"UPDATE {t} SET v = 1 WHERE id = 1")  # intermediate

    def finish_a():
        a.execute_query(f"UPDATE {t} SET v = 2 WHERE id = 1")
        a.commit()

    v, blocked = _read(b, f"SELECT v FROM {t} WHERE id = 1", finish_a)
    if not blocked:
        finish_a()
    b.commit()
    if v == 1:
        return ALLOWED, "read an intermediate version"
    return PREVENTED, "blocked" if blocked else f"read {v}"


def g1c(a, b, level, t):
    _table(a, t, [(1, 0, 0), (2, 0, 0)])
    begin(a, level)
    begin(b, level)
    a.execute_query(f"UPDATE {t} SET v = 1 WHERE id = 1")
    b.execute_query(f"UPDATE {t} SET v = 1 WHERE id = 2")
    pa = a.start(f"SELECT v FROM {t} WHERE id = 2")
    if pa.finished_within(BLOCK_S):
        ya = pa.wait()[0]["v"]
        xb = one(b, f"SELECT v FROM {t} WHERE id = 1")
        a.commit()
        b.commit()
        if ya == 1 and xb == 1:
            return ALLOWED, "each transaction read the other's uncommitted write"
        return PREVENTED, f"reads saw {ya}/{xb}"
    ob = _settle(b.start(f"SELECT v FROM {t} WHERE id = 1"))
    _finish(b, ob)
    oa = _settle(pa)
    _finish(a, oa)
    assert "conflict" in (oa, ob), "G1c: mutual locking reads neither deadlocked nor aborted"
    return PREVENTED, "locking reads deadlocked; one transaction rolled back"


def g2(a, b, level, t):
    _table(a, t, [(1, 0, 0), (2, 0, 2)])
    begin(a, level)
    begin(b, level)
    na = one(a, f"SELECT COUNT(*) AS n FROM {t} WHERE k = 1")
    nb = one(b, f"SELECT COUNT(*) AS n FROM {t} WHERE k = 1")
    assert na == 0 and nb == 0, (na, nb)
    aborted = _write_race(a, f"INSERT INTO {t} (id, v, k) VALUES (10, 0, 1)", b, f"INSERT INTO {t} (id, v, k) VALUES (11, 0, 1)")
    final = one(a, f"SELECT COUNT(*) AS n FROM {t} WHERE k = 1")
    if not aborted and final == 2:
        return ALLOWED, "both saw no row matching k=1 and both inserted one"
    return PREVENTED, f"aborted: {aborted}, rows k=1: {final}"


PROBES = {
    "dirty_read": dirty_read,
    "non_repeatable_read": non_repeatable_read,
    "phantom": phantom,
    "lost_update": lost_update,
    "write_skew": write_skew,
    "G0": g0,
    "G1a": g1a,
    "G1b": g1b,
    "G1c": g1c,
    "G2": g2,
}


def run_probes(context, level: str, names: List[str], set_level_fn=None) -> Dict[str, Tuple[str, str]]:
    """Runs the named probes at ``level`` on two fresh connections; returns name → (outcome, how)."""
    a = context.open_connection("probe_a")
    b = context.open_connection("probe_b")
    for c in (a, b):
        lock_timeout(c, 5)  # a probe that hangs is a failure, not a 50 s wait
    results = {}
    tag = level.split()[0].lower()[:4] + level.split()[-1].lower()[:4]
    for name in names:
        results[name] = PROBES[name](a, b, level, f"p_{name.lower()}_{tag}")
    a.close()
    b.close()
    return results


def check(context, level: str, results: Dict[str, Tuple[str, str]]) -> None:
    """Prints the report and asserts it against the documented behaviour."""
    want = expected(context.server.kind, level, context.connection)
    wrong = []
    print(f"{context.server.kind} {context.server.version} {level}:")
    for name, (outcome, how) in results.items():
        mark = "ok " if outcome == want[name] else "BAD"
        print(f"  [{mark}] {name:20s} {outcome:9s} ({how})")
        if outcome != want[name]:
            wrong.append(f"{name}: {outcome}, documented {want[name]} ({how})")
    assert not wrong, f"{level}: " + "; ".join(wrong)
