"""Helpers for the load_data cases (not a test file: no cases here)."""
from __future__ import annotations

from test_rig.testing import one, raises  # noqa: F401 - re-exported for the cases

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator, Optional, Type

ROOT = Path(__file__).resolve().parents[2]


class TempFiles:
    """A temp dir for data files; files are absolute paths, readable by a local server."""

    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="trt-load-")
        os.chmod(self.dir, 0o755)

    def write(self, name: str, text: str, encoding: str = "utf-8") -> str:
        path = os.path.join(self.dir, name)
        with open(path, "w", encoding=encoding, newline="") as f:
            f.write(text)
        os.chmod(path, 0o644)
        return path

    def path(self, name: str) -> str:
        return os.path.join(self.dir, name)

    def cleanup(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def sql_path(path: str) -> str:
    """A file path as an SQL string literal body."""
    return path.replace("\\", "\\\\").replace("'", "\\'")


def _node() -> str:
    for cand in (os.environ.get("TEST_RIG_NODE"), os.path.realpath("/proc/self/exe") if os.path.exists("/proc/self/exe") else None, sys.executable, shutil.which("node")):
        if cand and os.path.basename(cand).startswith("node") and os.access(cand, os.X_OK):
            return cand
    raise RuntimeError("cannot find the node binary to run test-rig gen-data (set TEST_RIG_NODE)")


def gen_data(output: str, rows: int, fmt: str = "csv", simple: bool = False, seed: int = 42) -> str:
    """Runs `test-rig gen-data` (the built CLI of this checkout) and returns the file."""
    main = ROOT / "dist" / "ts" / "cli" / "main.js"
    if not main.exists():
        raise RuntimeError(f"{main} is missing: build with `npx tsc -p tsconfig.json`")
    cmd = [_node(), str(main), "gen-data", "--rows", str(rows), "--format", fmt, "--seed", str(seed), "-o", output, "--quiet"]
    if simple:
        cmd.append("--simple")
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    os.chmod(output, 0o644)
    return output


def wait_job(conn, job_id: int, timeout: float = 60.0, interval: float = 0.05) -> dict:
    """Polls SHOW IMPORT JOB <id> until the job is finished/failed/cancelled; returns the last row.
    Prints each status change (the monitoring the old suite did with threads)."""
    end = time.monotonic() + timeout
    last = None
    while True:
        row = conn.execute_query(f"SHOW IMPORT JOB {int(job_id)}")[0]
        state = (row["Status"], row.get("Phase"), row.get("Imported_Rows"))
        if state != last:
            print(f"job {job_id}: status={row['Status']} phase={row.get('Phase')!r} imported_rows={row.get('Imported_Rows')}")
            last = state
        if str(row["Status"]).lower() in ("finished", "failed", "cancelled", "canceled"):
            return row
        if time.monotonic() > end:
            raise AssertionError(f"import job {job_id} still {row['Status']} after {timeout} s")
        time.sleep(interval)
