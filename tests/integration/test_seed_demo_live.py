"""The demo's live data: every integrated demo camera has a signed share, the analyst and supervisor have current
training, and running it again changes nothing."""

import pytest
from django.core.management import call_command

from integration.models import LiveShare, TrainingRecord
from integration.selectors import training_valid_until
from registry.models import Camera

pytestmark = pytest.mark.django_db


def test_integrated_demo_cameras_are_shared_and_staff_trained(settings):
    call_command("seed_demo", residents=40, businesses=60, agency=20)
    call_command("seed_demo_live")
    integrated = Camera.objects.filter(level="integrated")
    assert integrated.exists()
    assert LiveShare.objects.filter(revoked_at__isnull=True).count() == integrated.count()
    from django.contrib.auth.models import User

    assert training_valid_until(User.objects.get(username="analyst")) is not None
    call_command("seed_demo_live")
    assert LiveShare.objects.count() == integrated.count() and TrainingRecord.objects.count() == 2


def test_the_transparency_report_counts_the_seeded_integrated_cameras(client):
    # Seeding wrote shares without the ledger entry the report counts: it said "fewer than 5" for hundreds.
    call_command("seed_demo", residents=40, businesses=60, agency=20)
    call_command("seed_demo_live")
    integrated = Camera.objects.filter(level="integrated", owner__kind="agency").count()
    assert integrated >= 5

    page = client.get("/transparency/").content.decode()

    assert f"agency {integrated}" in page
    assert LiveShare.objects.filter(revoked_at__isnull=True).count() == Camera.objects.filter(
        level="integrated").count()
