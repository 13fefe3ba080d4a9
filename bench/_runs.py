"""Helpers every benchmark run shares: which commit was measured, a free port, one run at a time, and how much
the machine's other work interfered (Linux pressure-stall figures)."""

import json
import socket
import subprocess
import sys
from pathlib import Path

import _data

ROOT = Path(__file__).resolve().parent.parent


def code_commit() -> str:
    """The commit of the code under test: git's HEAD, or, in a `git archive` snapshot, its .snapshot-commit."""
    try:
        return subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        marker = ROOT / ".snapshot-commit"
        return marker.read_text().strip() + " (snapshot)" if marker.exists() else "unknown"


def single_run_guard(name: str):
    """Holds a session advisory lock in the `postgres` database for the whole run, so that two copies of this
    script never drop each other's database or share the broker: a second copy stops at once."""
    import psycopg

    conn = psycopg.connect(f"{_data.PG}/postgres", autocommit=True)
    if not conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (name,)).fetchone()[0]:
        conn.close()
        print(json.dumps({"benchmark": name, "error": f"another run of bench/{name}.py is in progress"}))
        sys.exit(2)
    return conn


def pressure_totals() -> dict:
    """Linux pressure-stall totals (microseconds some task waited for CPU / I/O), to report interference."""
    totals = {}
    for resource in ("cpu", "io"):
        try:
            for line in Path(f"/proc/pressure/{resource}").read_text().splitlines():
                kind, *fields = line.split()
                totals[f"{resource}_{kind}"] = int(dict(f.split("=") for f in fields)["total"])
        except (OSError, KeyError, ValueError):
            pass
    return totals


def pressure_share(before: dict, seconds: float) -> dict:
    """The share of the run's wall time during which some (or all) tasks stalled on CPU or I/O."""
    after = pressure_totals()
    return {key: round((after[key] - before[key]) / (seconds * 1e6), 3) for key in before if key in after}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
