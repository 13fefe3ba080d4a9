"""Incidents, footage requests and clips through the API, per role: the permission matrix with explicit leak
tests (an investigator sees the cases assigned to them and nothing of the others)."""

from datetime import timedelta

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone
from rest_framework.test import APIClient

from audit.models import AccessEntry
from requests_app import services
from requests_app.models import Clip, FootageRequest, Incident
from tests.conftest import make_staff
from tests.registry.factories import CameraFactory
from tests.requests_app.factories import IncidentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cases(db):
    """Two cases: 'mine' assigned to the investigator (user 'investigator'), 'theirs' to another one."""
    me = make_staff("investigator")
    from django.contrib.auth.models import Group, User

    other = User.objects.create_user("other-detective", password="x" * 16, is_staff=True)
    other.groups.add(Group.objects.get(name="Investigator"))
    mine, theirs = IncidentFactory(), IncidentFactory()
    services.incident_investigators_set(incident=mine, users=[me])
    services.incident_investigators_set(incident=theirs, users=[other])
    for incident in (mine, theirs):
        camera = CameraFactory(location=Point(-78.6383, 35.7797, srid=4326))
        request = FootageRequest.objects.create(incident=incident, camera=camera, camera_label=camera.label,
                                                nonce=f"n-{incident.pk}", state="uploaded")
        Clip.objects.create(request=request, incident=incident, original_name="door.mp4", media_format="mp4",
                            size=10, sha256="a" * 64, stored_name=f"s-{incident.pk}", master_key_id="k1",
                            keep_days_after_close=30, uploaded_by="owner")
    return {"me": me, "mine": mine, "theirs": theirs}


@pytest.fixture
def api():
    return APIClient()


def login(api, user):
    api.force_login(user)
    return api


# The matrix: who may list what (counts), by role. 'investigator' is the assigned one.
MATRIX = {
    # role: (incidents, footage requests, clips) visible, or None for 403
    "investigator": (1, 1, 1),
    "supervisor": (2, 2, 2),
    "auditor": (2, 2, 2),
    "analyst": (None, None, None),
    "administrator": (None, None, None),
}


@pytest.mark.parametrize("role", MATRIX)
def test_the_permission_matrix(api, cases, role):
    user = cases["me"] if role == "investigator" else make_staff(role)
    login(api, user)
    for path, expected in zip(("/api/v1/incidents/", "/api/v1/footage-requests/", "/api/v1/clips/"), MATRIX[role],
                              strict=True):
        response = api.get(path)
        if expected is None:
            assert response.status_code == 403, path
        else:
            assert response.status_code == 200 and response.json()["count"] == expected, path


def test_no_leak_of_another_investigators_case(api, cases):
    login(api, cases["me"])
    theirs = cases["theirs"]
    body = str(api.get("/api/v1/incidents/").json())
    assert theirs.case_number not in body and "SECRET-NOTE" in body  # own notes only
    assert api.get(f"/api/v1/incidents/{theirs.code}/").status_code == 404
    assert api.patch(f"/api/v1/incidents/{theirs.code}/", {"address": "x"}, format="json").status_code == 404
    assert api.post(f"/api/v1/incidents/{theirs.code}/close/").status_code == 404
    clip = Clip.objects.get(incident=theirs)
    assert api.get(f"/api/v1/clips/{clip.code}/").status_code == 404
    request = FootageRequest.objects.get(incident=theirs)
    assert api.get(f"/api/v1/footage-requests/{request.code}/").status_code == 404
    assert api.get("/api/v1/clips/", {"incident": str(theirs.code)}).json()["count"] == 0
    response = api.post("/api/v1/footage-requests/", {"incident": str(theirs.code),
                                                         "cameras": [str(request.camera.code)]}, format="json")
    assert response.status_code == 404


def test_an_investigator_opens_updates_and_closes_a_case(api, cases):
    login(api, cases["me"])
    now = timezone.now()
    body = {"case_number": "26-007777", "offense_type": "Robbery", "lat": 35.7796, "lng": -78.6382,
            "starts_at": (now - timedelta(hours=3)).isoformat(), "ends_at": (now - timedelta(hours=2)).isoformat(),
            "owner_summary": "A robbery at the corner."}
    created = api.post("/api/v1/incidents/", body, format="json")
    assert created.status_code == 201, created.json()
    code = created.json()["code"]
    assert api.post("/api/v1/incidents/", body, format="json").status_code == 400  # same number
    patched = api.patch(f"/api/v1/incidents/{code}/", {"radius_m": 200}, format="json")
    assert patched.status_code == 200 and patched.json()["radius_m"] == 200
    too_wide = api.patch(f"/api/v1/incidents/{code}/", {"radius_m": 5000}, format="json")
    assert too_wide.status_code == 400 and "radius_m" in too_wide.json()
    assert api.post(f"/api/v1/incidents/{code}/close/").json()["status"] == "closed"
    assert api.patch(f"/api/v1/incidents/{code}/", {"radius_m": 100}, format="json").status_code == 403
    assert AccessEntry.objects.filter(action__in=["incident.opened", "incident.closed"]).count() == 2


def test_outside_the_service_area_and_bad_windows_are_refused(api, cases):
    login(api, cases["me"])
    now = timezone.now()
    body = {"case_number": "26-007778", "offense_type": "Robbery", "lat": 40.7, "lng": -74.0,
            "starts_at": now.isoformat(), "ends_at": (now - timedelta(hours=1)).isoformat(), "owner_summary": "x"}
    assert "lat" in api.post("/api/v1/incidents/", body, format="json").json()
    body.update(lat=35.78, lng=-78.64)
    assert "ends_at" in api.post("/api/v1/incidents/", body, format="json").json()


def test_the_auditor_reads_but_cannot_open_or_close(api, cases):
    login(api, make_staff("auditor"))
    assert api.get(f"/api/v1/incidents/{cases['mine'].code}/").status_code == 200
    assert api.post(f"/api/v1/incidents/{cases['mine'].code}/close/").status_code == 403
    assert api.post("/api/v1/incidents/", {}, format="json").status_code == 403


def test_footage_requests_are_sent_for_chosen_cameras(api, cases):
    login(api, cases["me"])
    mine = cases["mine"]
    near = CameraFactory(location=Point(-78.6384, 35.7798, srid=4326))
    far = CameraFactory(location=Point(-78.70, 35.85, srid=4326))
    response = api.post("/api/v1/footage-requests/", {"incident": str(mine.code),
                                                         "cameras": [str(near.code), str(far.code)]}, format="json")
    assert response.status_code == 201, response.json()
    assert (response.json()["queued"], response.json()["skipped"]) == (1, 1)
    code = response.json()["requests"][0]["code"]
    assert api.get(f"/api/v1/footage-requests/{code}/").json()["camera"] == str(near.code)
    read = AccessEntry.objects.get(action="requests.listed", target_code=code)
    assert (read.camera_code, read.owner_code) == (str(near.code), str(near.owner.code))  # the owner sees it
    bad = api.post("/api/v1/footage-requests/", {"incident": str(mine.code), "cameras": ["x"]}, format="json")
    assert bad.status_code == 400 and "cameras" in bad.json()


def test_clip_metadata_links_to_the_audited_download_and_reads_are_recorded(api, cases):
    login(api, cases["me"])
    clip = Clip.objects.get(incident=cases["mine"])
    body = api.get(f"/api/v1/clips/{clip.code}/").json()
    assert body["download_url"] == f"/evidence/{clip.code}/download/" and body["sha256"] == "a" * 64
    assert AccessEntry.objects.filter(action="clip.metadata_viewed", target_code=str(clip.code)).exists()
    api.get("/api/v1/clips/")
    assert AccessEntry.objects.filter(action="clips.listed", actor_label="investigator").exists()


def test_filtering_ordering_and_pages(api, cases):
    login(api, make_staff("supervisor"))
    IncidentFactory(status=Incident.Status.CLOSED)
    assert api.get("/api/v1/incidents/", {"status": "closed"}).json()["count"] == 1
    assert api.get("/api/v1/incidents/", {"status": "maybe"}).status_code == 400
    page = api.get("/api/v1/incidents/", {"ordering": "case_number", "page_size": 2}).json()
    numbers = [i["case_number"] for i in page["results"]]
    assert numbers == sorted(numbers) and page["count"] == 3 and page["next"]
    assert api.get("/api/v1/incidents/", {"page": 99}).status_code == 404


def test_the_transparency_figures_are_public(api):
    response = api.get("/api/v1/transparency/")
    assert response.status_code == 200
    body = response.json()
    assert body["suppressed_below"] == 5 and len(body["months"]) == 12
    assert body["months"][0]["sent"] == "fewer than 5"


def test_the_state_filter_and_fields_cannot_single_out_a_decline(api, cases):
    """Police are never told who declined: no filter value, state or answer time tells a decline from no answer."""
    now = timezone.now()
    made = []
    for name in ("declines", "silent"):
        camera = CameraFactory(location=Point(-78.6383, 35.7797, srid=4326))
        made.append(FootageRequest.objects.create(
            incident=cases["mine"], camera=camera, camera_label=camera.label, nonce=f"n-{name}", state="opened",
            sent_at=now - timedelta(hours=2), opened_at=now - timedelta(hours=1),
            expires_at=now + timedelta(days=3)))
    services.consent_decline(request=made[0], reason="no")
    login(api, cases["me"])

    assert api.get("/api/v1/footage-requests/", {"state": "declined"}).status_code == 400
    rows = {r["code"]: r for r in api.get("/api/v1/footage-requests/", {"state": "opened"}).json()["results"]}
    first, second = (rows[str(r.code)] for r in made)
    for field in ("state", "answered_at", "reminders_sent", "opened_at"):
        assert first[field] == second[field]
