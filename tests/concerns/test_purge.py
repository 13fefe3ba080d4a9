"""Neighbours' concerns are not kept: never confirmed, deleted after a week; closed, their email and text erased
CONNECT_CONCERN_KEEP_DAYS later. Each run that purges leaves a ledger entry."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from audit.actions import Action
from audit.models import AccessEntry
from concerns import services
from concerns.models import Concern
from concerns.tasks import concerns_purge_task
from tests.concerns.helpers import HOME, HOME_ADDRESS, confirmed_concern

pytestmark = pytest.mark.django_db


def _unconfirmed(*, days_old: float) -> Concern:
    concern = services.concern_submit(email="nina@example.org", address=HOME_ADDRESS, latitude=HOME[0],
                                      longitude=HOME[1], text="Is a camera watching my home?", language="en")
    Concern.objects.filter(pk=concern.pk).update(created_at=timezone.now() - timedelta(days=days_old))
    return concern


def _closed(*, days_ago: float) -> Concern:
    concern = confirmed_concern()
    Concern.objects.filter(pk=concern.pk).update(state=Concern.State.CLOSED,
                                                 closed_at=timezone.now() - timedelta(days=days_ago))
    return concern


def test_unconfirmed_concerns_go_after_a_week_and_closed_ones_lose_email_and_text():
    old, fresh = _unconfirmed(days_old=7.1), _unconfirmed(days_old=6.9)
    stale, recent = _closed(days_ago=settings.CONCERN_KEEP_DAYS + 1), _closed(days_ago=settings.CONCERN_KEEP_DAYS - 1)
    open_one = confirmed_concern()
    Concern.objects.filter(pk=open_one.pk).update(created_at=timezone.now() - timedelta(days=400))

    assert concerns_purge_task() == "deleted 1, erased 1"

    assert not Concern.objects.filter(pk=old.pk).exists() and Concern.objects.filter(pk=fresh.pk).exists()
    stale.refresh_from_db()
    assert (stale.email, stale.text, stale.address) == ("", "", HOME_ADDRESS)
    for kept in (recent, open_one):
        kept.refresh_from_db()
        assert kept.email and kept.text
    entry = AccessEntry.objects.get(action=Action.CONCERNS_PURGED)
    assert (entry.detail["deleted"], entry.detail["erased"]) == (1, 1)

    assert concerns_purge_task() == "deleted 0, erased 0"  # again: nothing left to purge
    assert AccessEntry.objects.filter(action=Action.CONCERNS_PURGED).count() == 1


def test_beat_runs_the_purge_daily():
    entry = settings.CELERY_BEAT_SCHEDULE["concerns-purge"]
    assert entry["task"] == "concerns.tasks.concerns_purge_task"
