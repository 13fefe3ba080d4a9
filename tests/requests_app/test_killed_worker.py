"""A real worker process killed in the middle of a batch: nothing is lost and nobody is mailed twice.

The batch goes over one SMTP connection; the worker dies while the server holds its third message. The two
accepted before were noted as they were accepted: the sweep records them (SENT, in the ledger) and mails only
the rest."""

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from requests_app import services
from requests_app.models import FootageRequest
from requests_app.tasks import footage_requests_sweep_task
from tests.conftest import make_staff, parsed_mail, wait_for
from tests.registry.factories import CameraFactory, OwnerFactory
from tests.requests_app.factories import IncidentFactory

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def start_worker(smtp_port: int) -> subprocess.Popen:
    db = connection.settings_dict
    env = {**os.environ, "CONNECT_CELERY_EAGER": "false", "CONNECT_EMAIL_PORT": str(smtp_port),
           "CONNECT_DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}
    return subprocess.Popen([sys.executable, "-m", "celery", "-A", "connect", "worker", "--pool", "solo",
                             "--without-gossip", "--without-mingle", "--loglevel", "WARNING"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch(smtp_sink, settings, django_capture_on_commit_callbacks):
    from audit.actions import Action
    from audit.models import AccessEntry, PendingEntry
    from connect.celery import app as celery_app

    celery_app.conf.task_always_eager = False
    stall = asyncio.Event()
    delivered = smtp_sink.handle_DATA

    async def stall_the_third(server, session, envelope):
        if len(smtp_sink.messages) == 2 and not stall.is_set():
            stall.set()
            await asyncio.sleep(60)  # the worker is killed while it waits here: it never gets the 250
            return "451 4.3.0 Too late"
        return await delivered(server, session, envelope)

    smtp_sink.handle_DATA = stall_the_third
    incident = IncidentFactory()
    cameras = [CameraFactory(owner=OwnerFactory(email=f"k{i}@example.org")) for i in range(5)]
    worker = start_worker(smtp_sink.port)
    try:
        services.footage_requests_send(incident=incident, camera_codes=[c.code for c in cameras],
                                       user=make_staff("investigator"))
        wait_for(stall.is_set, timeout=60)
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        assert set(FootageRequest.objects.values_list("state", flat=True)) == {"sending"}  # the batch was its
        assert FootageRequest.objects.filter(sent_at__isnull=False).count() == 2  # what the server accepted

        # The beat sweep finds what the dead worker held once its claim is old.
        FootageRequest.objects.update(claimed_at=timezone.now() - timedelta(minutes=11),
                                      created_at=timezone.now() - timedelta(minutes=30))
        celery_app.conf.task_always_eager = True
        footage_requests_sweep_task.apply()
        wait_for(lambda: FootageRequest.objects.filter(state="sent").count() == 5, timeout=20)
    finally:
        worker.kill()
        celery_app.conf.task_always_eager = True
    assert Counter(m["To"] for m in parsed_mail(smtp_sink)) == {f"k{i}@example.org": 1 for i in range(5)}
    mailed = [code for model in (AccessEntry, PendingEntry)
              for code in model.objects.filter(action=Action.REQUEST_MAILED).values_list("target_code", flat=True)]
    assert sorted(mailed) == sorted(str(code) for code in FootageRequest.objects.values_list("code", flat=True))
