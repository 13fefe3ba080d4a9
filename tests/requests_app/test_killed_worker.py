"""A real worker process killed (SIGKILL) at random points of a 240-owner batch, five runs, against a real SMTP
server (aiosmtpd): every owner is mailed, and the only duplicate a run can have is the message the server had
accepted when the worker died (accepted, not yet noted), recognisable by its Message-ID, which is the same on
both copies.

Each run kills the worker while the server holds one message (chosen at random): either before the server
answers (the message was never accepted: no duplicate may follow) or just after it answered 250, a random few
milliseconds later (the worker may or may not have noted it). A fresh worker, as a supervisor would start, takes
over, and the sweep beat runs every minute finds the dead worker's claim at once: no waiting for a grace period.
"""

import asyncio
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest
from django.db import connection

from audit.actions import Action
from common.mime import derived_message_id
from connect.mailsink import MemoryHandler
from requests_app import mailing, services
from requests_app.models import FootageRequest
from requests_app.tasks import footage_requests_sweep_task
from tests.audit.ledger_reads import recorded_targets
from tests.conftest import make_staff, parsed_mail, wait_for
from tests.registry.factories import CameraFactory, OwnerFactory
from tests.requests_app.factories import IncidentFactory

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OWNERS, RUNS = 240, 5


def start_worker(smtp_port: int) -> subprocess.Popen:
    db = connection.settings_dict
    env = {**os.environ, "CONNECT_CELERY_EAGER": "false", "CONNECT_EMAIL_PORT": str(smtp_port),
           "CONNECT_DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}
    return subprocess.Popen([sys.executable, "-m", "celery", "-A", "connect", "worker", "--pool", "solo",
                             "--without-gossip", "--without-mingle", "--loglevel", "WARNING"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class KillSwitch(MemoryHandler):
    """The SMTP server. Armed with a message number, it stops at that message of the run and waits for the test
    (which kills the worker meanwhile, or lets it go); `accept` says whether it then answers 250 and keeps it."""

    def __init__(self):
        super().__init__()
        self.stop_at: int | None = None
        self.accept = False
        self.held = threading.Event()
        self.go = threading.Event()
        self._counted = 0

    def arm(self, stop_at: int, *, accept: bool) -> None:
        self.stop_at, self.accept, self._counted = stop_at, accept, 0
        self.held.clear()
        self.go.clear()

    async def handle_DATA(self, server, session, envelope):
        if self.stop_at is not None and self._counted == self.stop_at:
            self.stop_at = None
            self.held.set()
            while not self.go.is_set():
                await asyncio.sleep(0.002)
            if not self.accept:
                return "451 4.3.0 Not accepted"  # to a worker that is dead by now: never delivered
        self._counted += 1
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def kill_switch(settings):
    from aiosmtpd.controller import Controller

    from tests.conftest import free_port

    handler = KillSwitch()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    handler.port = controller.port
    yield handler
    handler.go.set()
    controller.stop()


def _mailed_entries(request_codes: set[str]) -> Counter:
    return Counter(code for code in recorded_targets(Action.REQUEST_MAILED) if code in request_codes)


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_at_random_points_of_a_batch(kill_switch):
    from connect.celery import app as celery_app

    seed = int(os.environ.get("KILLED_WORKER_SEED", time.time_ns() % 10**6))  # named in every failure
    rng = random.Random(seed)
    investigator = make_staff("investigator")
    cameras = [CameraFactory(owner=OwnerFactory(email=f"k{i}@example.org")) for i in range(OWNERS)]
    codes = [camera.code for camera in cameras]
    celery_app.conf.task_always_eager = False
    celery_app.control.purge()
    worker = start_worker(kill_switch.port)
    duplicates = []
    try:
        for run in range(RUNS):
            what = f"run {run} (seed {seed})"
            stop_at, accept = rng.randrange(OWNERS), rng.random() < 0.7
            kill_switch.arm(stop_at, accept=accept)
            first = len(kill_switch.messages)
            incident = IncidentFactory()
            services.footage_requests_send(incident=incident, camera_codes=codes, user=investigator)
            wait_for(kill_switch.held.is_set, timeout=120, what=f"{what}: message {stop_at} reaches the server")

            # The worker is alive, waiting for the server's answer: the sweep leaves its claim alone.
            this_run = FootageRequest.objects.filter(incident=incident)
            sending = set(this_run.filter(state="sending").values_list("pk", flat=True))
            assert sending and not set(mailing.footage_requests_stuck()) & sending, what
            assert set(FootageRequest.objects.filter(pk__in=sending).values_list("state", flat=True)) == {"sending"}

            if accept:  # the server answers 250; the worker dies a moment later, before or after noting it
                kill_switch.go.set()
                time.sleep(rng.uniform(0, 0.02))
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=10)
            kill_switch.go.set()
            before_kill = [m["Message-ID"] for m in parsed_mail(kill_switch)[first:]]

            worker = start_worker(kill_switch.port)  # what a supervisor does
            footage_requests_sweep_task.delay()  # what beat does every minute
            wait_for(lambda run=this_run: not run.exclude(state="sent").exists(),
                     timeout=120, what=f"{what}: every request sent")

            mail = parsed_mail(kill_switch)[first:]
            requests = {str(r.code): r for r in FootageRequest.objects.filter(incident=incident)
                        .select_related("camera__owner")}
            expected = {derived_message_id("footage-request", code, recipient=r.camera.owner.email):
                        r.camera.owner.email for code, r in requests.items()}
            ids = Counter(m["Message-ID"] for m in mail)
            assert set(ids) == set(expected), what  # every owner, each message with its derived Message-ID
            assert all(expected[m["Message-ID"]] == m["To"] for m in mail), what
            twice = {message_id for message_id, n in ids.items() if n > 1}
            # A duplicate only of the message the server accepted as the worker died: the last one before it.
            assert twice <= set(before_kill[-1:]) and max(ids.values()) <= 2, (what, twice, stop_at, accept)
            if not accept:
                assert not twice, what
            assert _mailed_entries(set(requests)) == Counter(set(requests)), what  # each recorded once
            duplicates.extend(twice)
    finally:
        worker.kill()
        worker.wait(timeout=10)
        celery_app.conf.task_always_eager = True
    print(f"seed {seed}: {len(duplicates)} duplicate(s) in {RUNS} runs of {OWNERS}")
