"""Beat runs once: a second scheduler waits while the first holds the beat lock, and a scheduler whose lock session
is gone stops instead of running beside the one that takes over. (Two real beat processes, one killed, are in
tests/scaleout/.)"""

import threading

import pytest
from django.db import connection

from connect import beat
from connect.celery import app


def lock_holders() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = %s",
                       [beat.BEAT_LOCK])
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.django_db(transaction=True)
def test_a_second_beat_waits_and_a_beat_that_lost_its_lock_stops(tmp_path, monkeypatch):
    monkeypatch.setattr(beat, "STANDBY_WAIT_S", 0.05)
    first = beat.SingleBeatScheduler(app, schedule_filename=str(tmp_path / "first"))
    holder = lock_holders()
    assert len(holder) == 1

    second: list = []
    standing_by = threading.Thread(target=lambda: second.append(
        beat.SingleBeatScheduler(app, schedule_filename=str(tmp_path / "second"))), daemon=True)
    standing_by.start()
    standing_by.join(timeout=1)
    assert standing_by.is_alive() and not second  # waiting: no schedule of its own while the first runs

    with connection.cursor() as cursor:  # the first's database session is gone (a restart, a network cut)
        cursor.execute("SELECT pg_terminate_backend(%s)", holder)
    standing_by.join(timeout=30)
    assert second and lock_holders() not in ([], holder)  # the stand-by holds the lock now

    first._checked_at = float("-inf")  # its next tick looks at its lock session
    with pytest.raises(beat.BeatLockLost):
        first.tick()
    first.close()
    second[0].close()
    assert lock_holders() == []
