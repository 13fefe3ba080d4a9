"""The ledger's sealer process: while it runs, record() only inserts the pending entry and the sealer chains it
within milliseconds; when it stops, writers seal again; a second one stands by; it outlives its database
sessions being cut."""

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection

from audit.ledger import record, sealer
from audit.ledger import verify as ledger_verify
from audit.models import AccessEntry, PendingEntry

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[2]


def wait_for(condition, timeout: float = 5.0, what: str = "the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := condition():
            return result
        time.sleep(0.02)
    raise AssertionError(f"{what} did not happen within {timeout} s")


def sealer_lock_pids() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = 0 "
                       "AND objid = %s AND objsubid = 1", [sealer.SEALER_LOCK])
        return [pid for (pid,) in cursor.fetchall()]


def sealer_lock_holders() -> int:
    return len(sealer_lock_pids())


@contextlib.contextmanager
def running_sealer():
    stop = threading.Event()
    thread = threading.Thread(target=sealer.follow, args=(stop,), daemon=True)
    thread.start()
    try:
        yield stop, thread
    finally:
        stop.set()
        thread.join(timeout=10)
        sealer.forget_presence()


def sealed(target_code: str) -> bool:
    return AccessEntry.objects.filter(target_code=target_code).exists()


@pytest.fixture(autouse=True)
def _fresh_presence():
    sealer.forget_presence()
    yield
    sealer.forget_presence()


def statements_of_record(**fields) -> list[str]:
    statements = []

    def capture(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        record(actor=None, **fields)
    return statements


def test_while_the_sealer_runs_record_only_inserts_and_the_sealer_chains_the_entry_at_once():
    with running_sealer():
        wait_for(lambda: sealer_lock_holders() == 1, what="the sealer taking its lock")
        sealer.sealer_running()  # the one look for it, cached for PRESENCE_TTL_S

        statements = statements_of_record(action="ledger.searched", target_code="t1")

        assert len(statements) == 1 and statements[0].startswith("INSERT INTO audit_pendingentry")
        wait_for(lambda: sealed("t1"), timeout=2, what="the sealer chaining the entry")
    assert not PendingEntry.objects.exists()
    assert ledger_verify().ok


def test_when_the_sealer_stops_writers_seal_their_own_entries_again():
    with running_sealer():
        wait_for(lambda: sealer_lock_holders() == 1, what="the sealer taking its lock")
        assert sealer.sealer_running()
    assert sealer_lock_holders() == 0  # its own connection closed with it: no lock left in Django's pool

    record(actor=None, action="ledger.searched", target_code="t2")

    assert sealed("t2")  # sealed by record() itself, before it returned
    assert not sealer.sealer_running()


def test_a_second_sealer_stands_by_and_takes_over_when_the_first_stops():
    with running_sealer() as (first_stop, first):
        wait_for(lambda: sealer_lock_holders() == 1, what="the first sealer taking its lock")
        with running_sealer():
            time.sleep(sealer.STANDBY_WAIT_S + 0.2)
            assert sealer_lock_holders() == 1  # one sealer at a time
            first_stop.set()
            first.join(timeout=5)
            assert sealer_lock_holders() == 0
            wait_for(lambda: sealer_lock_holders() == 1, timeout=sealer.STANDBY_WAIT_S + 2,
                     what="the second sealer taking over")
            sealer.forget_presence()
            statements = statements_of_record(action="ledger.searched", target_code="t3")
            assert not any("audit_ledger_seal" in sql for sql in statements)
            wait_for(lambda: sealed("t3"), timeout=2, what="the second sealer chaining the entry")


def test_the_sealer_comes_back_after_its_database_sessions_are_cut():
    with running_sealer():
        [first_pid] = wait_for(sealer_lock_pids, what="the sealer taking its lock")
        with connection.cursor() as cursor:  # as a database restart or an administrator would
            cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        # A terminated backend holds its locks until it has exited: wait for a new session's hold, not the old one
        wait_for(lambda: (pids := sealer_lock_pids()) and first_pid not in pids, timeout=10,
                 what="the sealer taking its lock again on a new session")
        sealer.forget_presence()
        statements = statements_of_record(action="ledger.searched", target_code="t4")
        assert len(statements) == 2  # the look for the sealer, then the pending INSERT alone
        wait_for(lambda: sealed("t4"), timeout=5, what="the sealer chaining the entry")
    assert ledger_verify().ok


def test_seal_ledger_once_says_how_many_it_sealed(monkeypatch):
    monkeypatch.setattr(sealer, "_presence", {"checked_at": time.monotonic() + 3600, "running": True})
    record(actor=None, action="ledger.searched", target_code="t5")  # "a sealer runs": left pending
    assert PendingEntry.objects.count() == 1

    out = StringIO()
    call_command("seal_ledger", stdout=out)

    assert out.getvalue().strip() == "sealed 1 pending entries"
    assert sealed("t5") and not PendingEntry.objects.exists()


def test_seal_ledger_follow_runs_as_a_process_until_sigterm():
    db = settings.DATABASES["default"]
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env = {**os.environ, "CONNECT_DATABASE_URL": url, "CONNECT_LOG_LEVEL": "INFO"}
    process = subprocess.Popen([sys.executable, "manage.py", "seal_ledger", "--follow"], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(lambda: sealer_lock_holders() == 1, timeout=20, what="the sealer process taking its lock")
        record(actor=None, action="ledger.searched", target_code="t6")
        wait_for(lambda: sealed("t6"), timeout=3, what="the sealer process chaining the entry")
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
    assert process.returncode == 0, output
    assert "ledger sealer stopped" in output
    assert sealer_lock_holders() == 0
