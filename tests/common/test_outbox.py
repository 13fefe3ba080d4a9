"""The transactional outbox (common/outbox.py): mail through a real Celery worker and real Redis, and what happens
when Redis is down or a process dies between the commit and the queueing."""

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

import pytest
import redis
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from common import outbox
from common.models import OutboxMessage
from common.tasks import outbox_sweep_task
from connect.celery import app as celery_app
from registry import services
from registry.models import Owner
from tests.conftest import link_in, parsed_mail, wait_for
from tests.registry.factories import OwnerFactory
from tests.registry.test_registration import registration
from tests.requests_app.test_killed_worker import start_worker

ROOT = Path(__file__).resolve().parents[2]


def test_a_real_worker_delivers_the_confirmation_mail(client, celery_worker, smtp_sink):
    assert client.post("/register/", registration()).status_code == 302

    wait_for(lambda: smtp_sink.messages)
    [message] = parsed_mail(smtp_sink)
    assert "/register/confirm/" in link_in(message)
    wait_for(lambda: Owner.objects.get().confirmation_sent_at is not None)


def _private_redis(action: str) -> None:
    """Stops or starts the test run's own Redis (scripts/services.sh's, under this checkout's var/redis), as
    test_worker_recovers.py does PostgreSQL; never a server this checkout did not start."""
    url = urlparse(settings.REDIS_URL)
    pid_file = ROOT / "var" / "redis" / "redis.pid"
    if action == "stop":
        info = redis.Redis(host=url.hostname, port=url.port).info("server")
        if not pid_file.exists() or str(info["process_id"]) != pid_file.read_text().strip():
            pytest.skip(f"the Redis at port {url.port} is not this checkout's own; tests do not stop it")
    env = {key: value for key, value in os.environ.items() if key not in ("CONNECT_REDIS_URL", "CONNECT_DATABASE_URL")}
    subprocess.run([str(ROOT / "scripts" / "services.sh"), action, "redis"], check=True, cwd=ROOT,
                   env={**env, "REDIS_PORT": str(url.port)}, stdout=subprocess.DEVNULL, timeout=60)


@pytest.fixture
def redis_restored():
    """Whatever the test does to Redis, it runs again afterwards, for the tests that follow, and this process
    forgets its connections to the server that stopped (the next use opens fresh ones)."""
    yield
    _private_redis("start")
    from common import cache

    for client in cache._clients.values():
        for pool in client._pools.values():
            pool.disconnect()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


def _outbox_waiting() -> list[str]:
    return list(OutboxMessage.objects.filter(dispatched_at__isnull=True).values_list("task", flat=True))


@pytest.mark.django_db(transaction=True)
def test_a_registration_made_while_redis_is_down_is_mailed_once_it_is_back(client, smtp_sink, redis_restored):
    OwnerFactory(email="carol@example.org")
    celery_app.conf.task_always_eager = False
    worker = start_worker(smtp_sink.port)
    try:
        wait_for(lambda: celery_app.control.inspect(timeout=1).ping(), timeout=60, what="the worker answers")
        _private_redis("stop")

        started = time.monotonic()
        response = client.post("/register/", registration(), follow=True)
        assert time.monotonic() - started < 30  # the person is not kept waiting on the missing broker for long
        page = response.content.decode()
        assert "We will send your link to" in page and "in a few minutes" in page
        assert "We sent a confirmation link" not in page
        assert _outbox_waiting() == ["registry.tasks.registration_confirmation_send_task"]

        signing_in = client.post("/owner/", {"email": "carol@example.org"}).content.decode()
        assert "we will send your link in a few" in signing_in and "on its way" not in signing_in
        assert smtp_sink.messages == []

        _private_redis("start")
        # The worker reconnects and sweeps the outbox at once; beat's sweep every minute would too.
        wait_for(lambda: len(smtp_sink.messages) == 2, timeout=120, what="the confirmation and sign-in mail")
    finally:
        worker.kill()
        worker.wait(timeout=10)
        celery_app.conf.task_always_eager = True
    mail = {message["To"]: link_in(message) for message in parsed_mail(smtp_sink)}
    assert "/register/confirm/" in mail["rita@example.org"] and "/owner/sign-in/" in mail["carol@example.org"]
    assert _outbox_waiting() == []
    assert Owner.objects.get(email="rita@example.org").confirmation_sent_at is not None


@pytest.mark.django_db(transaction=True)
def test_the_page_says_the_link_was_sent_when_it_was_queued(client, smtp_sink):
    response = client.post("/register/", registration(), follow=True)
    page = response.content.decode()
    assert "We sent a confirmation link to" in page and "in a few minutes" not in page.split("No email?")[0]
    assert len(smtp_sink.messages) == 1


@pytest.mark.django_db(transaction=True)
def test_a_process_that_dies_between_the_commit_and_the_queueing_loses_nothing(smtp_sink):
    """A web process killed right after its commit, before it could queue the mail: the row is in the outbox,
    and the sweep queues it."""
    db = connection.settings_dict
    env = {**os.environ, "CONNECT_DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}
    script = (
        "import os, django; django.setup()\n"
        "from common import outbox\n"
        "from registry import services\n"
        "outbox.dispatch = lambda message: os._exit(9)  # dies at the first thing after the commit\n"
        "services.owner_register(kind='resident', name='Dana', email='dana@example.org', phone='', address='x',\n"
        "                        cameras=[])\n"
    )
    died = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert died.returncode == 9, died.stderr
    assert Owner.objects.get().email == "dana@example.org"  # committed
    assert _outbox_waiting() == ["registry.tasks.registration_confirmation_send_task"]

    outbox_sweep_task.apply()

    [message] = parsed_mail(smtp_sink)
    assert message["To"] == "dana@example.org"
    assert _outbox_waiting() == []


@pytest.mark.django_db(transaction=True)
def test_a_message_queued_twice_mails_once(smtp_sink):
    """At least once: a dispatcher that died after the broker took the message but before marking the row lets
    its lease lapse, and the sweep queues it again. The task then finds the mail sent and sends nothing."""
    with transaction.atomic():
        owner = OwnerFactory(confirmed_at=None, email="twice@example.org")
        message = outbox.enqueue("registry.tasks.registration_confirmation_send_task", {"owner_id": owner.pk})
    assert message.queued and len(smtp_sink.messages) == 1
    OutboxMessage.objects.filter(pk=message.pk).update(dispatched_at=None, leased_until=timezone.now())

    outbox_sweep_task.apply()

    assert _outbox_waiting() == []
    assert [m["To"] for m in parsed_mail(smtp_sink)] == ["twice@example.org"]


@pytest.mark.django_db(transaction=True)
def test_a_leased_message_waits_for_its_lease(smtp_sink):
    """Another dispatcher holds the row (it is queueing it right now): the sweep leaves it alone until the lease
    lapses (that dispatcher died)."""
    owner = OwnerFactory(confirmed_at=None)
    message = OutboxMessage.objects.create(task="registry.tasks.registration_confirmation_send_task",
                                           kwargs={"owner_id": owner.pk},
                                           leased_until=timezone.now() + timedelta(seconds=30))
    assert outbox.sweep() == (0, 1)
    OutboxMessage.objects.filter(pk=message.pk).update(leased_until=timezone.now() - timedelta(seconds=1))
    assert outbox.sweep() == (1, 0)
    assert len(smtp_sink.messages) == 1


@pytest.mark.django_db
def test_a_wrong_task_name_fails_in_the_caller(db):
    with pytest.raises(LookupError):
        outbox.enqueue("registry.tasks.no_such_task", {})
    with pytest.raises(TypeError):
        outbox.enqueue("registry.tasks.sign_in_links_send_task", {"email": object()})
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_dispatched_messages_are_purged_after_an_hour():
    old = OutboxMessage.objects.create(task="x", dispatched_at=timezone.now() - timedelta(hours=2))
    recent = OutboxMessage.objects.create(task="x", dispatched_at=timezone.now())
    waiting = OutboxMessage.objects.create(task="x", created_at=timezone.now() - timedelta(days=3))
    assert outbox.purge() == 1
    assert set(OutboxMessage.objects.values_list("pk", flat=True)) == {recent.pk, waiting.pk}
    assert old.pk not in set(OutboxMessage.objects.values_list("pk", flat=True))


@pytest.mark.django_db
def test_the_sweeper_resends_confirmations_that_never_went_out(smtp_sink):
    from datetime import timedelta

    from tests.registry.factories import OwnerFactory

    stuck = OwnerFactory(confirmed_at=None, email="stuck@example.org")
    fresh = OwnerFactory(confirmed_at=None, email="fresh@example.org")
    Owner.objects.filter(pk=stuck.pk).update(created_at=timezone.now() - timedelta(hours=1))

    assert services.registration_confirmations_pending() == [stuck.pk]
    from registry.tasks import registration_confirmations_resend_task

    registration_confirmations_resend_task.apply()
    assert [m["To"] for m in parsed_mail(smtp_sink)] == ["stuck@example.org"]
    assert services.registration_confirmations_pending() == []
    assert fresh.pk not in services.registration_confirmations_pending()


@pytest.mark.django_db
def test_unconfirmed_registrations_are_purged_after_their_period(settings):
    from datetime import timedelta

    from registry.models import DeletionRecord
    from tests.registry.factories import CameraFactory, OwnerFactory

    old = OwnerFactory(confirmed_at=None)
    CameraFactory(owner=old, status="pending")
    recent = OwnerFactory(confirmed_at=None)
    confirmed = OwnerFactory()
    Owner.objects.filter(pk__in=[old.pk, confirmed.pk]).update(
        created_at=timezone.now() - timedelta(days=settings.UNCONFIRMED_PURGE_DAYS + 1))

    assert services.registrations_unconfirmed_purge() == 1
    assert services.registrations_unconfirmed_purge() == 0  # idempotent
    assert set(Owner.objects.values_list("pk", flat=True)) == {recent.pk, confirmed.pk}
    assert DeletionRecord.objects.get().scope == "unconfirmed"
    from audit.models import AccessEntry

    assert AccessEntry.objects.get(action="registrations.purged").detail["count"] == 1
