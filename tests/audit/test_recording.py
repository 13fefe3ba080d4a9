"""Each ledger-writing feature writes its entry, and owners see their part of the ledger."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from audit.models import AccessEntry
from requests_app import services
from requests_app.models import FootageRequest
from tests.conftest import make_staff, sign_in_owner
from tests.requests_app.factories import IncidentFactory
from tests.requests_app.media import tiny_mp4

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def evidence_dir(settings, tmp_path):
    settings.EVIDENCE_DIR = tmp_path / "evidence"


def actions(**filters):
    return list(AccessEntry.objects.filter(**filters).order_by("seq").values_list("action", flat=True))


def test_a_map_search_is_recorded(client):
    user = make_staff("analyst")
    client.force_login(user)
    client.get("/map/nearby.json?lat=35.7796&lng=-78.6382&radius=250&case=26-000001")
    entry = AccessEntry.objects.get(action="map.search")
    assert (entry.actor_label, entry.case_number, entry.detail["radius_m"]) == ("analyst", "26-000001", 250)
    assert entry.detail["unit"] == "Crime analyst"


def test_viewing_an_owners_contact_details_is_recorded(client, owner_a):
    client.force_login(make_staff("administrator"))  # the one role that lists owners (common/roles.py)
    client.get(f"/admin/registry/owner/{owner_a.pk}/change/", {"reason": "Correcting a phone number"})
    client.get("/admin/registry/owner/")
    assert actions(actor_label="administrator", action__startswith="owner.") == ["owner.contact_viewed",
                                                                                 "owner.contact_listed"]
    assert AccessEntry.objects.get(action="owner.contact_viewed").owner_code == str(owner_a.code)


def test_role_changes_are_recorded():
    user = make_staff("analyst")
    from django.contrib.auth.models import Group

    user.groups.add(Group.objects.get(name="Investigator"))
    latest = AccessEntry.objects.filter(action="user.roles_changed").order_by("seq").last()
    assert latest.reason == "add: Investigator" and latest.target_code == str(user.pk)


def test_the_owner_sees_requests_and_every_access_to_their_clip(client, owner_a, owner_b,
                                                              django_capture_on_commit_callbacks, smtp_sink):
    investigator = make_staff("investigator")
    incident = IncidentFactory()
    services.incident_investigators_set(incident=incident, users=[investigator])
    camera_a, camera_b = owner_a.cameras.get(), owner_b.cameras.get()
    with django_capture_on_commit_callbacks(execute=True):
        services.footage_requests_send(incident=incident, camera_codes=[camera_a.code, camera_b.code],
                                       user=investigator)
    request = FootageRequest.objects.get(camera=camera_a)
    FootageRequest.objects.filter(pk=request.pk).update(expires_at=timezone.now() + timedelta(days=3))
    url = services.consent_link(request).replace("http://testserver", "")
    client.post(url + "upload/", {"clips": [SimpleUploadedFile("a.mp4", tiny_mp4())], "keep_days": "30"})
    staff = client.__class__()
    staff.force_login(investigator)
    clip = request.clips.get()
    b"".join(staff.get(f"/evidence/{clip.code}/download/").streaming_content)

    sign_in_owner(client, owner_a)
    page = client.get("/owner/history/").content.decode()
    assert page.count("<tr>") == 4  # header + mailed + uploaded + downloaded
    assert "asked you for footage" in page and "you shared a clip" in page and "downloaded your clip" in page
    assert "Investigator" in page and incident.case_number in page and "Alice porch" in page
    assert "investigator</td>" not in page  # the unit is shown, not the user name

    sign_in_owner(client, owner_b)
    page = client.get("/owner/history/").content.decode()
    assert page.count("<tr>") == 2 and "Alice" not in page  # Bob sees only his own request


def test_owners_who_asked_get_a_daily_digest_of_their_cameras_only(client, owner_a, owner_b, smtp_sink):
    from registry.services import owner_digests_send

    sign_in_owner(client, owner_a)
    client.post("/owner/details/", {"name": owner_a.name, "phone": "", "address": "", "daily_digest": "on"})
    from audit.ledger import record

    camera_a, camera_b = owner_a.cameras.get(), owner_b.cameras.get()
    record(actor=None, action="request.mailed", camera_code=camera_a.code, owner_code=owner_a.code,
           case_number="26-000077")
    record(actor=None, action="request.mailed", camera_code=camera_b.code, owner_code=owner_b.code,
           case_number="26-000088")

    assert owner_digests_send() == 1  # Bob did not ask for one
    from tests.conftest import parsed_mail

    [message] = parsed_mail(smtp_sink)
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert message["To"] == "alice@example.org" and "26-000077" in text and "26-000088" not in text


def test_an_entry_quoting_a_nul_character_is_kept_with_a_replacement(db):
    from audit.ledger import record
    from audit.ledger import verify as ledger_verify
    from audit.models import AccessEntry

    record(actor=None, action="map.search", reason="a\x00b", query="x\x00y", filters={"k\x00": ["v\x00"]})
    entry = AccessEntry.objects.get(action="map.search")
    assert entry.reason == "a\ufffdb" and entry.detail["query"] == "x\ufffdy"
    assert entry.detail["filters"] == {"k\ufffd": ["v\ufffd"]}
    assert ledger_verify().ok
