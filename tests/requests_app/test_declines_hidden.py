"""Police are never told who declined (the terms, the email and the consent page promise it): a declined request
and an unanswered one look the same to every police role, in the admin, the API, the ledger and the change
history, while the request runs ("waiting") and after it lapses ("no clip")."""

import re
from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.contrib.gis.geos import Point
from django.utils import timezone
from rest_framework.test import APIClient

from audit import transparency
from audit.actions import Action
from audit.models import AccessEntry
from requests_app import services
from requests_app.models import FootageRequest
from tests.conftest import make_staff
from tests.registry.factories import CameraFactory, OwnerFactory

pytestmark = pytest.mark.django_db


LABELS = {"declined": "Porch cam alpha", "silent": "Porch cam bravo"}


@pytest.fixture
def two_requests(incident):
    """Two requests of the same case, both opened by their owners: 'declined' is declined, 'silent' is not
    answered."""
    made = {}
    now = timezone.now()
    for i, name in enumerate(("declined", "silent")):
        camera = CameraFactory(label=LABELS[name], owner=OwnerFactory(email=f"{name}@example.org"),
                               location=Point(-78.6382 + i * 0.0002, 35.7797, srid=4326))
        request = FootageRequest.objects.create(
            incident=incident, camera=camera, camera_label=camera.label, nonce=f"nonce-{name}",
            state=FootageRequest.State.SENT, sent_at=now - timedelta(hours=1), expires_at=now + timedelta(days=9))
        services.consent_opened(request=request)
        FootageRequest.objects.filter(pk=request.pk).update(opened_at=now)  # the same times: only the answer differs
        made[name] = FootageRequest.objects.select_related("incident", "camera").get(pk=request.pk)
    services.consent_decline(request=made["declined"], reason="I do not trust this")
    return made


def lapse(requests):
    FootageRequest.objects.filter(pk__in=[r.pk for r in requests.values()]).update(
        expires_at=timezone.now() - timedelta(minutes=1))


def request_rows(html: str) -> list[str]:
    """The inline's rows with the camera label taken out: what tells one request from another otherwise."""
    rows = re.findall(r'<tr class="form-row[^"]*"[^>]*>(.*?)</tr>', html, flags=re.S)
    rows = [re.sub(r'request [0-9a-f]{8} for|<input type="hidden"[^>]*>', "", row) for row in rows]  # its own id
    return [re.sub(r"Porch cam (alpha|bravo)", "CAMERA", row) for row in rows if "Porch cam" in row]


def test_the_incident_page_shows_a_decline_as_no_answer_then_no_clip(client, investigator, incident, two_requests):
    client.force_login(investigator)
    page = client.get(f"/admin/requests_app/incident/{incident.pk}/change/").content.decode()
    assert "Declined" not in page and "declined" not in page and "I do not trust" not in page
    rows = request_rows(page)
    assert len(rows) == 2 and rows[0] == rows[1]
    assert "Opened, waiting for an answer: 2" in page

    lapse(two_requests)
    page = client.get(f"/admin/requests_app/incident/{incident.pk}/change/").content.decode()
    rows = request_rows(page)
    assert len(rows) == 2 and rows[0] == rows[1] and "No clip" in rows[0]
    assert "No clip: 2" in page and "eclined" not in page

    listing = client.get("/admin/requests_app/incident/").content.decode()
    assert "0 / 2" in listing  # a decline is not counted as an answer


@pytest.mark.parametrize("role", ["investigator", "supervisor", "auditor"])
def test_the_api_shows_a_decline_as_no_answer_then_no_clip(incident, two_requests, investigator, role):
    api = APIClient()
    api.force_login(investigator if role == "investigator" else make_staff(role))
    url = "/api/v1/footage-requests/"

    def shown():
        body = api.get(url, {"incident": str(incident.code)}).json()["results"]
        return {r["camera_label"]: {k: v for k, v in r.items() if k not in ("code", "camera", "camera_label",
                                                                             "created_at")} for r in body}

    before = shown()
    assert before[LABELS["declined"]] == before[LABELS["silent"]]
    assert before[LABELS["silent"]]["state"] == "opened" and before[LABELS["silent"]]["answered_at"] is None
    assert api.get(url, {"state": "declined"}).status_code == 400
    assert api.get(url, {"state": "opened"}).json()["count"] == 2

    lapse(two_requests)
    after = shown()
    assert after[LABELS["declined"]] == after[LABELS["silent"]] and after[LABELS["silent"]]["state"] == "no_clip"
    assert api.get(url, {"state": "no_clip"}).json()["count"] == 2
    # Ordering by state puts nothing apart: both sort as "no_clip", and a detail read says the same.
    assert api.get(url, {"ordering": "state"}).status_code == 200
    detail = api.get(f"{url}{two_requests['declined'].code}/").json()
    assert detail["state"] == "no_clip" and detail["answered_at"] is None


def test_the_ledger_and_change_history_show_a_decline_as_a_lapse(client, incident, two_requests):
    declined, silent = two_requests["declined"], two_requests["silent"]
    # Nothing at all at the moment of the decline: an entry's time alone would point at the request just opened.
    assert not AccessEntry.objects.filter(action=Action.REQUEST_ANSWERED).exists()
    assert not LogEntry.objects.filter(changes__icontains="declin").exists()

    lapse(two_requests)
    assert services.footage_requests_lapse() == 2
    entries = {e.target_code: e for e in AccessEntry.objects.filter(action=Action.REQUEST_LAPSED)}
    assert set(entries) == {str(declined.code), str(silent.code)}
    a, b = entries[str(declined.code)], entries[str(silent.code)]
    assert a.detail == b.detail and a.reason == b.reason and a.owner_code == b.owner_code == ""
    history = {str(e.object_pk): e.changes for e in LogEntry.objects.filter(
        content_type__model="footagerequest", changes__icontains="lapsed")}
    assert history[str(declined.pk)] == history[str(silent.pk)]
    assert not LogEntry.objects.filter(changes__icontains="declin").exists()

    auditor = make_staff("auditor")
    client.force_login(auditor)
    search = client.get("/audit/", {"case": incident.case_number}).content.decode()
    export = b"".join(client.get("/audit/", {"case": incident.case_number, "format": "csv"}).streaming_content)
    assert "declin" not in search and b"declin" not in export
    assert services.footage_requests_lapse() == 0  # once


def test_the_transparency_report_still_counts_the_decline(incident, two_requests):
    lapse(two_requests)
    services.footage_requests_lapse()
    month = transparency.monthly(months=1)[-1]
    assert month["declined"] == 1 and month["unanswered"] == 1
    assert sum(group["declined"] for group in month["by_offense"].values()) == 1
    assert sum(group["unanswered"] for group in month["by_district"].values()) == 1
