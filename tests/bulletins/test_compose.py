"""The compose page: text alone to units near a map point, a held live-view frame, an update in the thread; bad
addressees are a clear message and the form keeps what was typed, nothing sent. The patrol app's manifest and
service worker, and the demo's patrol officers."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from bulletins.models import Bulletin, PatrolOfficer
from dispatch.selectors import positions_latest
from integration import frame_share
from tests.bulletins.conftest import jpeg
from tests.requests_app.factories import IncidentFactory

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


FORM = {"description": "White hat, grey backpack", "priority": "urgent", "lat": "35.7796", "lng": "-78.6382",
        "within_km": "2", "zone": "", "units": "", "users": "", "incident": ""}


def test_text_alone_to_units_near_the_point(officers, analyst):
    response = signed_in(analyst).post("/bulletins/new/", FORM, follow=True)
    bulletin = Bulletin.objects.get()
    assert response.redirect_chain[-1][0] == f"/bulletins/{bulletin.code}/"
    assert "Bulletin sent to 1 recipient" in response.content.decode()
    assert [r.user.username for r in bulletin.recipients.all()] == ["adams"]
    assert not bulletin.has_media and bulletin.location.y == pytest.approx(35.7796)


def test_a_unit_that_does_not_exist_is_named_and_nothing_is_sent(officers, analyst):
    response = signed_in(analyst).post("/bulletins/new/", {**FORM, "within_km": "", "units": "2B11, 7X70"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "Unit 7X70 does not exist or has no patrol officer assigned." in page
    assert "White hat, grey backpack" in page  # kept in the form
    assert not Bulletin.objects.exists()


def test_a_held_frame_goes_with_its_case_and_camera(officers, analyst, owner_a, monkeypatch):
    incident = IncidentFactory(case_number="26-004200")
    camera = owner_a.cameras.get()

    class Session:  # what frame_hold reads of a live session
        analyst_id, code, incident_id = analyst.pk, "0b3c0f5e-0000-4000-8000-000000000001", incident.pk
    Session.camera, Session.incident = camera, incident
    token = frame_share.frame_hold(session=Session, frame=jpeg())
    client = signed_in(analyst)
    page = client.get(f"/bulletins/new/?frame={token}").content.decode()
    assert "data:image/jpeg;base64," in page and "26-004200" in page
    response = client.post("/bulletins/new/", {**FORM, "frame": token, "incident": str(incident.pk)})
    assert response.status_code == 302
    bulletin = Bulletin.objects.get()
    assert bulletin.has_media and bulletin.case_number == "26-004200" and bulletin.camera_code == str(camera.code)
    assert frame_share.frame_held(token=token, user_id=analyst.pk) is None  # sent once


def test_a_held_frame_is_sealed_in_redis_and_an_altered_one_is_refused(analyst, owner_a):
    """Redis keeps the held frame for ten minutes: sealed there, as live frames are, and opened only if it
    authenticates."""
    from django.core.cache import cache

    class Session:
        analyst_id, code, incident_id, incident = analyst.pk, "0b3c0f5e-0000-4000-8000-000000000003", None, None
    Session.camera = owner_a.cameras.get()
    picture = jpeg()
    token = frame_share.frame_hold(session=Session, frame=picture)
    key = cache.make_and_validate_key(frame_share._key(token))
    raw = cache._cache.get_client(write=True).get(key)
    assert raw and picture[100:140] not in raw and owner_a.cameras.get().code.hex not in raw.hex()
    assert frame_share.frame_held(token=token, user_id=analyst.pk).jpeg == picture

    sealed = cache.get(frame_share._key(token))
    cache.set(frame_share._key(token), sealed[:-1] + bytes([sealed[-1] ^ 1]), 60)
    assert frame_share.frame_held(token=token, user_id=analyst.pk) is None


def test_another_analysts_frame_cannot_be_taken(officers, analyst, owner_a):
    from tests.conftest import make_staff_named

    other = make_staff_named("analyst", "analyst2")

    class Session:
        analyst_id, code, incident_id, incident = other.pk, "0b3c0f5e-0000-4000-8000-000000000002", None, None
    Session.camera = owner_a.cameras.get()
    token = frame_share.frame_hold(session=Session, frame=jpeg())
    page = signed_in(analyst).get(f"/bulletins/new/?frame={token}").content.decode()
    assert "data:image/jpeg" not in page and "The held frame has lapsed" in page


def test_an_update_from_the_page_threads_under_the_first(officers, analyst):
    client = signed_in(analyst)
    client.post("/bulletins/new/", FORM)
    first = Bulletin.objects.get()
    client.post(f"/bulletins/new/?thread={first.code}", {**FORM, "description": "Now on Hargett St",
                                                          "within_km": "", "thread": str(first.code)})
    update = Bulletin.objects.exclude(pk=first.pk).get()
    assert update.thread == first and [r.user.username for r in update.recipients.all()] == ["adams"]


def test_the_patrol_app_is_installable(client):
    manifest = client.get("/patrol/manifest.webmanifest")
    assert manifest["Content-Type"] == "application/manifest+json"
    assert manifest.json()["start_url"] == "/patrol/" and manifest.json()["display"] == "standalone"
    worker = client.get("/patrol/sw.js")
    assert worker["Content-Type"].startswith("text/javascript") and worker["Service-Worker-Allowed"] == "/patrol/"


def test_the_demo_has_patrol_officers_within_two_km_of_its_case(settings):
    settings.DEMO = True
    call_command("seed_demo_bulletins")
    call_command("seed_demo_bulletins")  # again at the next make run: no second account
    assert set(PatrolOfficer.objects.values_list("user__username", flat=True)) == {"patrol", "patrol2"}
    from django.contrib.gis.geos import Point

    from bulletins.services import units_within

    assert units_within(point=Point(-78.6612, 35.7982, srid=4326), km=2) == ["2B11"]
    assert {p["unit"] for p in positions_latest()} == {"2B11", "4C22"}
    assert all(timezone.now() - timedelta(minutes=1) < timezone.datetime.fromisoformat(p["at"])
               for p in positions_latest())


def test_a_saved_still_of_the_case_goes_with_its_case(officers, owner_a, settings, tmp_path):
    from guardian.shortcuts import assign_perm

    from requests_app.services import still_store
    from tests.conftest import make_staff

    incident = IncidentFactory(case_number="26-004300")
    camera = owner_a.cameras.get()
    investigator = make_staff("investigator")
    saved = still_store(incident=incident, camera=camera, jpeg=jpeg(), user=investigator, name="still.jpg",
                        session_code="00000000-0000-4000-8000-000000000000")
    client = signed_in(investigator)
    refused = client.post("/bulletins/new/", {**FORM, "evidence": str(saved.code)})
    assert "No saved still with that evidence code" in refused.content.decode()  # not on the case yet
    assert not Bulletin.objects.exists()
    assign_perm("requests_app.view_incident", investigator, incident)
    response = client.post("/bulletins/new/", {**FORM, "evidence": str(saved.code)})
    assert response.status_code == 302
    bulletin = Bulletin.objects.get()
    assert bulletin.has_media and bulletin.case_number == "26-004300"
