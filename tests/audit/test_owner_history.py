"""End to end, as an owner: "Who accessed my cameras" shows, with the camera and the right words, each action
audit/actions.py declares owners see; map searches are summarised per camera and day (issue 12)."""

import re
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from audit.actions import Action
from audit.ledger import record
from requests_app import services as requests_services
from requests_app.models import FootageRequest
from tests.conftest import make_staff, sign_in_owner
from tests.requests_app.factories import IncidentFactory
from tests.requests_app.media import tiny_mp4

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def evidence_dir(settings, tmp_path):
    settings.EVIDENCE_DIR = tmp_path / "evidence"


def history_rows(client, owner) -> list[list[str]]:
    """The owner's history table as the owner reads it: one list of cell texts per row."""
    sign_in_owner(client, owner)
    page = client.get("/owner/history/").content.decode()
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in page else ""
    return [[unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in re.findall(r"<td>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def shown(rows, *, camera, what) -> list[list[str]]:
    return [row for row in rows if row[1] == camera and row[3].startswith(what)]


def test_every_owner_visible_action_is_shown_with_the_camera_and_its_words(client, owner_a):
    """A new action declared with owner words shows up without further work, and never as a bare code."""
    camera = owner_a.cameras.get()
    staff = make_staff("investigator")
    declared = [action for action in Action if action.owner_sees is not None]
    for action in declared:
        record(actor=staff, action=action, camera_code=camera.code, owner_code=owner_a.code, case_number="26-000901")
    rows = history_rows(client, owner_a)
    for action in declared:
        assert shown(rows, camera="Alice porch", what=str(action.owner_sees)), action
    assert not any(row[3] in {action.value for action in Action} for row in rows)


def test_through_the_real_views_the_owner_sees_each_access_with_its_words(client, owner_a, owner_b,
                                                                          django_capture_on_commit_callbacks,
                                                                          smtp_sink):
    investigator = make_staff("investigator")
    incident = IncidentFactory(case_number="26-000777")
    requests_services.incident_investigators_set(incident=incident, users=[investigator])
    camera = owner_a.cameras.get()
    staff = Client()
    staff.force_login(investigator)
    api = APIClient()
    api.force_login(investigator)

    # Asked for footage from the staff map; the owner answers on the consent page.
    with django_capture_on_commit_callbacks(execute=True):
        sent = staff.post(f"/requests/incidents/{incident.code}/send/", {"cameras": [str(camera.code)]},
                          content_type="application/json")
    assert sent.status_code == 200 and sent.json()["queued"] == 1
    request = FootageRequest.objects.get(camera=camera)
    url = requests_services.consent_link(request).replace("http://testserver", "")
    Client().post(url + "upload/", {"clips": [SimpleUploadedFile("porch.mp4", tiny_mp4())], "keep_days": "30"})
    clip = request.clips.get()

    # The investigator downloads and plays the clip, reads its details, the camera and the owner's contact.
    b"".join(staff.get(f"/evidence/{clip.code}/download/").streaming_content)
    b"".join(staff.get(f"/evidence/{clip.code}/download/", {"inline": "1"}).streaming_content)
    assert api.get(f"/api/v1/clips/{clip.code}/").status_code == 200
    assert api.get(f"/api/v1/cameras/{camera.code}/").status_code == 200
    assert staff.get(f"/admin/registry/owner/{owner_a.pk}/change/",
                     {"reason": "Calling about case 26-000777"}).status_code == 200
    # Two map searches that find the porch, one through the API.
    assert staff.get("/map/nearby.json", {"lat": 35.7796, "lng": -78.6382, "radius": 250,
                                          "case": "26-000777"}).status_code == 200
    assert api.get("/api/v1/cameras/nearby/", {"lat": 35.7796, "lng": -78.6382, "radius": 250,
                                               "case": "26-000778"}).status_code == 200
    # An administrator reads the change history of the camera.
    administrator = Client()
    administrator.force_login(make_staff("administrator"))
    assert administrator.get("/admin/auditlog/logentry/", {"q": "Alice porch"}).status_code == 200

    rows = history_rows(client, owner_a)
    for words in ("asked you for footage", "you shared a clip", "downloaded your clip", "played your clip",
                  "looked at the details of your clip", "looked at your camera's details",
                  "looked at your contact details", "looked at the change history of your registration"):
        assert shown(rows, camera="your registration" if "contact" in words else "Alice porch", what=words), words
    [searches] = shown(rows, camera="Alice porch", what="was in 2 map searches")
    assert searches[2] == "Investigator" and searches[4] == "26-000777, 26-000778"
    assert len([row for row in rows if "map search" in row[3]]) == 1  # summarised, not one line each
    assert all("investigator" not in row[2] for row in rows)  # the unit, not the user name

    # Bob's driveway was in the same two searches, and nothing else of Alice's case concerns him.
    bob = history_rows(client, owner_b)
    assert [row[1:4] for row in bob] == [["Bob driveway", "Investigator", "was in 2 map searches"]]
