"""Queueing after commit (common/queue.py): mail through a real Celery worker and real Redis, and what happens
when either is missing."""

import subprocess
import time

import pytest
from django.utils import timezone

from connect.celery import app as celery_app
from registry import services
from registry.models import Owner
from tests.conftest import free_port, link_in, parsed_mail, wait_for
from tests.registry.test_registration import registration


def test_a_real_worker_delivers_the_confirmation_mail(client, celery_worker, smtp_sink):
    assert client.post("/register/", registration()).status_code == 302

    wait_for(lambda: smtp_sink.messages)
    [message] = parsed_mail(smtp_sink)
    assert "/register/confirm/" in link_in(message)
    wait_for(lambda: Owner.objects.get().confirmation_sent_at is not None)


@pytest.fixture
def doomed_broker():
    """A private Redis the test can kill, standing in for the broker going away."""
    port = free_port()
    process = subprocess.Popen(["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"],
                               stdout=subprocess.DEVNULL)
    time.sleep(0.3)
    original = celery_app.conf.broker_url
    celery_app.conf.task_always_eager = False
    _point_broker_at(f"redis://127.0.0.1:{port}/0")
    yield process
    process.kill()
    _point_broker_at(original)
    celery_app.conf.task_always_eager = True


def _point_broker_at(url: str) -> None:
    # Celery caches connection and producer pools for the configured broker; drop them with the URL.
    celery_app.conf.broker_url = url
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.mark.django_db(transaction=True)
def test_registration_survives_the_broker_being_down(client, doomed_broker):
    doomed_broker.kill()
    doomed_broker.wait()

    started = time.monotonic()
    response = client.post("/register/", registration())

    assert response.status_code == 302
    assert time.monotonic() - started < 3  # the person is not kept waiting on a dead broker
    owner = Owner.objects.get()
    assert owner.confirmation_sent_at is None


@pytest.mark.django_db(transaction=True)
def test_sign_in_link_is_sent_inline_when_the_broker_is_down(client, doomed_broker, smtp_sink):
    from tests.registry.factories import OwnerFactory

    OwnerFactory(email="carol@example.org")
    doomed_broker.kill()
    doomed_broker.wait()

    client.post("/owner/", {"email": "carol@example.org"})

    [message] = parsed_mail(smtp_sink)
    assert "/owner/sign-in/" in link_in(message)


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
