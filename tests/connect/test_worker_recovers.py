"""PostgreSQL restarted under a running worker: the next tasks succeed without restarting the worker (issue 15).

Before, the worker kept its dead connection from task to task and failed every task with "the connection is
closed" until someone restarted it."""

import os
import shlex
import subprocess
import time
from pathlib import Path

import pytest
from django.db import connection, connections

from requests_app import services
from requests_app.models import FootageRequest
from tests.conftest import make_staff, parsed_mail, wait_for
from tests.registry.factories import CameraFactory, OwnerFactory
from tests.requests_app.factories import IncidentFactory
from tests.requests_app.test_killed_worker import start_worker

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.django_db(transaction=True)


def _private_postgres(action: str) -> None:
    """Restarts, stops or starts the test run's own PostgreSQL (fast: sessions end, connections are refused while
    it is down); never a server this checkout did not start (CONNECT_DATABASE_URL naming another)."""
    global _DATA
    if _DATA is None:
        with connection.cursor() as cursor:
            cursor.execute("SHOW data_directory")
            _DATA = Path(cursor.fetchone()[0]).resolve()
    if _DATA != (ROOT / "var" / "postgres").resolve():
        pytest.skip(f"the database is not this checkout's own ({_DATA}); tests do not restart it")
    for conn in connections.all(initialized_only=True):
        conn.close()
    if hasattr(connections["default"], "close_pool"):
        connections["default"].close_pool()  # every pooled session of this process ends with the server
    global _OPTIONS
    if _OPTIONS is None:  # the port, socket folder and address it was started with (scripts/services.sh)
        started = shlex.split((_DATA / "postmaster.opts").read_text())[1:]
        _OPTIONS = shlex.join(arg for i, arg in enumerate(started) if "-D" not in (arg, started[i - 1]))
    pg_ctl = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))[-1]
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    # Its log file, not a pipe: a started server would hold a pipe open and this call would never return.
    subprocess.run([*as_postgres, str(pg_ctl), "-D", str(_DATA), "-l", str(_DATA / "server.log"), "-o", _OPTIONS,
                    "-m", "fast", "-w", action], check=True, cwd="/", stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)


_DATA = _OPTIONS = None


def _mail_one(incident, investigator, n: int) -> FootageRequest:
    camera = CameraFactory(owner=OwnerFactory(email=f"r{n}@example.org"))
    services.footage_requests_send(incident=incident, camera_codes=[camera.code], user=investigator)
    return FootageRequest.objects.get(camera=camera)


def test_the_next_task_after_a_database_restart_succeeds(smtp_sink):
    from connect.celery import app as celery_app

    celery_app.conf.task_always_eager = False
    incident, investigator = IncidentFactory(), make_staff("investigator")
    worker = start_worker(smtp_sink.port)
    try:
        before = _mail_one(incident, investigator, 1)
        wait_for(lambda: FootageRequest.objects.get(pk=before.pk).state == "sent", timeout=60)

        _private_postgres("restart")

        after = _mail_one(incident, investigator, 2)
        wait_for(lambda: FootageRequest.objects.get(pk=after.pk).state == "sent", timeout=60)
        assert worker.poll() is None  # the same worker, never restarted
    finally:
        worker.kill()
        worker.wait(timeout=10)
        celery_app.conf.task_always_eager = True
    assert sorted(m["To"] for m in parsed_mail(smtp_sink)) == ["r1@example.org", "r2@example.org"]


def test_a_task_that_meets_the_database_down_is_retried_until_it_is_back(smtp_sink):
    from connect.celery import app as celery_app

    celery_app.conf.task_always_eager = False
    request = _mail_one(IncidentFactory(), make_staff("investigator"), 1)  # queued; no worker has taken it yet
    worker = None
    try:
        _private_postgres("stop")
        try:
            worker = start_worker(smtp_sink.port)
            time.sleep(5)  # the worker takes the task and meets the database down
        finally:
            _private_postgres("start")
        wait_for(lambda: FootageRequest.objects.get(pk=request.pk).state == "sent", timeout=60)
    finally:
        if worker is not None:
            worker.kill()
            worker.wait(timeout=10)
        celery_app.conf.task_always_eager = True
    assert [m["To"] for m in parsed_mail(smtp_sink)] == ["r1@example.org"]
