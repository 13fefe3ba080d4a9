"""Celery beat that runs once however many machines start it: the scheduler first takes a PostgreSQL advisory lock
(BEAT_LOCK) on a connection of its own and holds it while beat runs; another beat waits, standing by, until that
lock is free, then takes over with its own schedule file.

PostgreSQL ends a session, and so frees its locks, when the process holding it dies (its socket closes) or, for a
machine that vanished without closing it, when the keepalives set below go unanswered (about half a minute). If
beat loses its lock connection, it stops at its next tick (the process exits, its service manager starts it again,
and it stands by). Every scheduled task is idempotent, so a run repeated at a takeover does no harm.

`CELERY_BEAT_SCHEDULER` in settings names this class, so a plain `celery -A connect beat` uses it.
"""

import logging
import time

import psycopg
from celery.beat import PersistentScheduler
from django.db import connection

log = logging.getLogger(__name__)

BEAT_LOCK = 0x62656174  # "beat"
STANDBY_WAIT_S = 1.0  # between tries for the lock while another beat holds it
CHECK_EVERY_S = 5.0  # how often a running beat makes sure it still holds its lock connection
# Server-side keepalives for the lock's session: a machine that vanished frees the lock in about
# IDLE + INTERVAL * COUNT seconds instead of the operating system's default of two hours.
KEEPALIVE_IDLE_S, KEEPALIVE_INTERVAL_S, KEEPALIVE_COUNT = 10, 5, 3


class BeatLockLost(SystemExit):
    """Beat stops (exit status 1): its lock's session is gone, so another beat may be running now."""


def lock_session() -> psycopg.Connection:
    """A connection of its own, outside Django's pool (a pooled one would go back to the pool still holding it)."""
    session = psycopg.connect(**connection.get_connection_params(), autocommit=True)
    session.execute(f"SET tcp_keepalives_idle = {KEEPALIVE_IDLE_S}")
    session.execute(f"SET tcp_keepalives_interval = {KEEPALIVE_INTERVAL_S}")
    session.execute(f"SET tcp_keepalives_count = {KEEPALIVE_COUNT}")
    return session


def lock_take(session: psycopg.Connection) -> None:
    """Returns once this session holds BEAT_LOCK, waiting as long as another beat holds it."""
    standing_by = False
    while not session.execute("SELECT pg_try_advisory_lock(%s)", [BEAT_LOCK]).fetchone()[0]:
        if not standing_by:
            log.warning("another beat is running; standing by until it stops")
            standing_by = True
        time.sleep(STANDBY_WAIT_S)
    log.warning("beat holds its lock and runs the schedule")


class SingleBeatScheduler(PersistentScheduler):
    """PersistentScheduler (the shelve file named by --schedule) that runs only while it holds BEAT_LOCK."""

    _lock_session = None
    _checked_at = 0.0

    def setup_schedule(self):
        # Not in __init__: beat builds lazy instances for introspection, which must not take the lock.
        self._lock_session = lock_session()
        lock_take(self._lock_session)
        self._checked_at = time.monotonic()
        super().setup_schedule()

    def tick(self, *args, **kwargs):
        if self._lock_session is not None and time.monotonic() - self._checked_at >= CHECK_EVERY_S:
            try:
                self._lock_session.execute("SELECT 1")
            except psycopg.Error as exc:
                log.error("beat lost its lock's database session (%s); stopping", exc)
                raise BeatLockLost(1) from exc
            self._checked_at = time.monotonic()
        return super().tick(*args, **kwargs)

    def close(self):
        try:
            super().close()
        finally:
            if self._lock_session is not None:
                self._lock_session.close()  # frees the lock for the stand-by at once
                self._lock_session = None
