"""The ledger's sealer: one long-running process (`manage.py seal_ledger --follow`, the Procfile's `ledger`)
that chains pending entries a few tens of milliseconds after they are recorded, so writers need not.

While it runs it holds the advisory lock SEALER_LOCK for its database session. After its commit a writer looks
for that lock (`sealer_running()`, at most every PRESENCE_TTL_S per process) and, if it is held, does not seal:
`record()` costs the pending INSERT alone, one round trip and one commit, as a plain INSERT would, where sealing
itself costs two more round trips and a commit.
The sealer then chains entries in batches of whatever arrived meanwhile, which is far cheaper per entry than the
writers' batches of a few.

Nothing depends on it for correctness. If it stops, its lock goes with its connection and writers seal their own
entries again within PRESENCE_TTL_S; what was pending in between is taken by the next seal (a writer's, the
beat task's every minute, audit_verify's). A second sealer stands by until the first's lock is free.
"""

import logging
import threading
import time

import psycopg
from django.db import DatabaseError, connection

from audit.ledger.locks import SEALER_LOCK
from audit.ledger.sealing import seal

log = logging.getLogger(__name__)

PRESENCE_TTL_S = 2.0  # how long a process trusts its last look for the sealer
BUSY_WAIT_S = 0.02  # between seals while entries keep coming: long enough to gather a batch
IDLE_WAIT_S = 0.1  # between looks when nothing was pending
STANDBY_WAIT_S = 1.0  # between tries for the sealer's lock while another sealer holds it
RETRY_WAIT_S = (0.5, 10.0)  # first and longest wait after losing the database

_presence = {"checked_at": float("-inf"), "running": False}


def sealer_running() -> bool:
    """Whether a sealer holds its lock now (looked up at most every PRESENCE_TTL_S in this process)."""
    now = time.monotonic()
    if now - _presence["checked_at"] < PRESENCE_TTL_S:
        return _presence["running"]
    with connection.cursor() as cursor:
        # A shared lock, for the transaction: looks never exclude one another, and in autocommit it is released
        # with the statement. Only the sealer's exclusive hold makes it fail.
        cursor.execute("SELECT pg_try_advisory_xact_lock_shared(%s)", [SEALER_LOCK])
        running = not cursor.fetchone()[0]
    _presence.update(checked_at=now, running=running)
    return running


def sealer_running_known() -> bool | None:
    """sealer_running()'s answer while this process's last look is fresh, else None (a caller on an event loop then
    asks sealer_running() on a database thread)."""
    if time.monotonic() - _presence["checked_at"] < PRESENCE_TTL_S:
        return _presence["running"]
    return None


def sealer_holds_lock() -> bool:
    """Whether some sealer process holds SEALER_LOCK now, read from pg_locks (for monitoring: no lock is taken, and
    unlike sealer_running() nothing is cached)."""
    with connection.cursor() as cursor:
        # A bigint advisory key is stored as two 32-bit halves (classid, objid) with objsubid 1.
        cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
                       "AND mode = 'ExclusiveLock' AND objsubid = 1 AND classid::bigint = %s AND objid::bigint = %s "
                       "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))",
                       [SEALER_LOCK >> 32, SEALER_LOCK & 0xFFFFFFFF])
        return cursor.fetchone()[0]


def forget_presence() -> None:
    """Look for the sealer again at the next record() (tests, benchmarks)."""
    _presence["checked_at"] = float("-inf")


def follow(stop: threading.Event) -> None:
    """Seals until `stop` is set: holds SEALER_LOCK, then seals whatever is pending, waiting BUSY_WAIT_S after a
    batch and IDLE_WAIT_S after finding nothing. Survives the database going away (waits and reconnects)."""
    wait = RETRY_WAIT_S[0]
    try:
        while not stop.is_set():
            try:
                with _presence_session() as presence:
                    if _take_sealer_lock(presence, stop):
                        wait = RETRY_WAIT_S[0]
                        _seal_until(presence, stop)
                        # Closing alone frees the lock a moment later, once the server has ended the session: a
                        # writer looking in between would think a sealer still runs. (Writers that looked earlier
                        # trust it up to PRESENCE_TTL_S anyway; their entries wait for the next seal.)
                        presence.execute("SELECT pg_advisory_unlock(%s)", [SEALER_LOCK])
            except (DatabaseError, psycopg.Error) as exc:
                log.warning("ledger sealer lost the database (%s); trying again in %.1f s", exc, wait)
                connection.close()
                stop.wait(wait)
                wait = min(wait * 2, RETRY_WAIT_S[1])
    finally:
        connection.close()


def _presence_session() -> psycopg.Connection:
    """A connection of its own, outside Django's pool, that holds SEALER_LOCK: a pooled one would go back to the
    pool still holding it when the sealer stops. Closing it, or the process dying, releases the lock."""
    return psycopg.connect(**connection.get_connection_params(), autocommit=True)


def _take_sealer_lock(presence: psycopg.Connection, stop: threading.Event) -> bool:
    standing_by = False
    while not stop.is_set():
        if presence.execute("SELECT pg_try_advisory_lock(%s)", [SEALER_LOCK]).fetchone()[0]:
            log.info("ledger sealer running")
            return True
        if not standing_by:
            log.info("another ledger sealer is running; standing by")
            standing_by = True
        stop.wait(STANDBY_WAIT_S)
    return False


def _seal_until(presence: psycopg.Connection, stop: threading.Event) -> None:
    checked = time.monotonic()
    while not stop.is_set():
        sealed = seal()
        if time.monotonic() - checked > PRESENCE_TTL_S:
            presence.execute("SELECT 1")  # still holding the lock? A lost connection raises here
            checked = time.monotonic()
        stop.wait(BUSY_WAIT_S if sealed else IDLE_WAIT_S)
