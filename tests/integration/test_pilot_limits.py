"""Pilot limits: the most integrated cameras per owner kind, a queue instead of a refusal, admission when a place
frees, and the program's end (live shares stop; registrations kept or purged)."""

from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from audit.models import AccessEntry
from integration import queue
from integration.models import LiveShare, LiveShareWaiting
from registry.models import Camera, Owner
from tests.conftest import make_staff, parsed_mail, sign_in_owner
from tests.integration.test_portal_live import sign_form
from tests.registry.factories import CameraFactory, OwnerFactory

pytestmark = pytest.mark.django_db


def business_owner_signing_in(name: str):
    owner = OwnerFactory(kind="business", name=name)
    camera = CameraFactory(owner=owner, label=f"{name} front")
    client = Client()
    sign_in_owner(client, owner)
    return client, owner, camera


def sign(client, camera):
    return client.post(f"/owner/cameras/{camera.code}/live/", sign_form(), follow=True).content.decode()


@pytest.fixture
def two_business_places(settings):
    settings.LIVE_MAX_PER_KIND = {"resident": 0, "business": 2, "agency": 0}


def test_the_third_business_waits_in_the_queue_and_is_admitted_when_a_place_frees(
        two_business_places, smtp_sink, django_capture_on_commit_callbacks):
    first, second, third = (business_owner_signing_in(name) for name in ("Acme", "Bodega", "Cafe"))
    sign(*first[::2])
    sign(*second[::2])
    assert Camera.objects.filter(level="integrated").count() == 2

    client, owner, camera = third
    before = client.get(f"/owner/cameras/{camera.code}/live/").content.decode()
    assert "reached its limit of 2 cameras shared live" in before and "You can still sign" in before
    page = sign(client, camera)
    assert "waits in the queue" in page and "number 1" in page
    camera.refresh_from_db()
    assert camera.level == "registered" and not LiveShare.objects.filter(camera=camera).exists()
    assert AccessEntry.objects.filter(action="live.share_queued", owner_code=str(owner.code)).exists()

    # A resident is not in the businesses' queue.
    resident = OwnerFactory(kind="resident")
    resident_camera = CameraFactory(owner=resident)
    resident_client = Client()
    sign_in_owner(resident_client, resident)
    sign(resident_client, resident_camera)
    assert LiveShare.objects.filter(camera=resident_camera).exists()

    first_client, _, first_camera = first
    with django_capture_on_commit_callbacks(execute=True):
        first_client.post(f"/owner/cameras/{first_camera.code}/live/stop/")

    camera.refresh_from_db()
    assert camera.level == "integrated"
    share = LiveShare.objects.get(camera=camera, revoked_at__isnull=True)
    assert share.signed_name == "Casey Grocer" and share.incident_radius_m == 250  # the limits they set
    assert not LiveShareWaiting.objects.exists()
    assert "Stop sharing now" in client.get(f"/owner/cameras/{camera.code}/live/").content.decode()
    assert "started sharing your camera live" in client.get("/owner/history/").content.decode()
    [news] = [m for m in parsed_mail(smtp_sink) if m["To"] == owner.email]
    assert "“Cafe front” is now shared live" in news["Subject"]


def test_a_newcomer_never_jumps_the_queue(two_business_places):
    owners = [business_owner_signing_in(name) for name in ("Acme", "Bodega", "Cafe", "Deli")]
    for client, _, camera in owners:
        sign(client, camera)
    waiting = list(LiveShareWaiting.objects.order_by("signed_at").values_list("camera__label", flat=True))
    assert waiting == ["Cafe front", "Deli front"]

    # A place frees without the owner's page (the camera is deleted): beat admits the oldest only.
    Camera.objects.get(label="Acme front").delete()
    assert queue.queue_admit() == 1
    assert Camera.objects.get(label="Cafe front").level == "integrated"
    assert Camera.objects.get(label="Deli front").level == "registered"
    client, _, camera = owners[3]
    assert "number 1" in client.get(f"/owner/cameras/{camera.code}/live/").content.decode()
    assert queue.queue_admit() == 0  # running again changes nothing

    client.post(f"/owner/cameras/{camera.code}/live/queue/leave/")
    assert not LiveShareWaiting.objects.exists()


def test_staff_see_the_limit_reached_and_the_queue(two_business_places):
    for name in ("Acme", "Bodega", "Cafe"):
        sign(*business_owner_signing_in(name)[::2])
    staff = Client()
    staff.force_login(make_staff("administrator"))
    page = staff.get("/admin/integration/liveshare/").content.decode()
    assert "Business: 2 of 2 cameras shared live (limit reached); 1 waiting in the queue." in page


@pytest.mark.parametrize("registrations", ["keep", "purge"])
def test_at_the_end_of_the_pilot_live_shares_stop(settings, registrations, smtp_sink,
                                                  django_capture_on_commit_callbacks):
    settings.PILOT_ENDS = date.today() + timedelta(days=30)
    settings.PILOT_END_REGISTRATIONS = registrations
    client, owner, camera = business_owner_signing_in("Acme")
    sign(client, camera)
    assert queue.pilot_limits_apply() == {"admitted": 0}
    assert Camera.objects.get(pk=camera.pk).level == "integrated"

    after = timezone.now() + timedelta(days=32)  # the clock moved past the last day
    with django_capture_on_commit_callbacks(execute=True):
        result = queue.pilot_limits_apply(now=after)
    assert result["stopped"] == 1
    [notice] = [m for m in parsed_mail(smtp_sink) if m["To"] == owner.email]
    assert "has ended" in notice["Subject"]
    assert not LiveShare.objects.filter(revoked_at__isnull=True).exists()
    if registrations == "keep":
        assert Camera.objects.get(pk=camera.pk).level == "registered"
        settings.PILOT_ENDS = date.today() - timedelta(days=1)  # the owner's page, now that it is over
        page = client.get(f"/owner/cameras/{camera.code}/live/").content.decode()
        assert "The pilot program has ended" in page and "Sign and share live" not in page
    else:
        assert not Owner.objects.exists()
        assert "your registration is deleted" in notice["Subject"]
    assert AccessEntry.objects.filter(action="pilot.ended").count() == 1
    assert queue.pilot_limits_apply(now=after) == {"stopped": 0, "dropped": 0, "purged": 0}
