import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from audit.models import AccessEntry
from requests_app import services
from requests_app.models import Clip, FootageRequest
from tests.conftest import make_staff
from tests.requests_app.conftest import clip_uploaded
from tests.requests_app.media import tiny_mp4

pytestmark = pytest.mark.django_db
VIDEO = tiny_mp4()


@pytest.fixture
def clip(client, incident, street_cameras):
    return clip_uploaded(client, incident, street_cameras["near"][0], name="door.mp4", video=VIDEO)


def download(client, user, clip, inline=False):
    client.force_login(user)
    response = client.get(f"/evidence/{clip.code}/download/" + ("?inline=1" if inline else ""))
    body = b"".join(response.streaming_content) if response.status_code == 200 else response.content
    return response, body


def test_the_assigned_investigator_downloads_the_exact_bytes(client, clip, investigator):
    response, body = download(client, investigator, clip)

    assert response.status_code == 200 and body == VIDEO
    assert response["X-Content-SHA256"] == hashlib.sha256(VIDEO).hexdigest()
    actions = list(AccessEntry.objects.filter(target_code=str(clip.code)).values_list("actor_label", "action"))
    assert actions == [("investigator", "clip.downloaded"), ("owner", "clip.uploaded")]


@pytest.mark.parametrize(("role", "allowed"), [("supervisor", True), ("auditor", True), ("analyst", False),
                                               ("administrator", False)])
def test_who_else_may_open_evidence(client, clip, role, allowed):
    response, body = download(client, make_staff(role), clip)
    assert (response.status_code == 200 and body == VIDEO) == allowed
    if not allowed:
        assert response.status_code == 404


def test_an_investigator_on_another_case_sees_nothing(client, clip, django_user_model):
    from django.contrib.auth.models import Group

    other = django_user_model.objects.create_user("other-detective", is_staff=True)
    other.groups.add(Group.objects.get(name="Investigator"))
    response, _ = download(client, other, clip)
    assert response.status_code == 404
    client.force_login(other)
    assert client.get(f"/admin/requests_app/incident/{clip.incident.pk}/change/").status_code in (302, 403, 404)
    assert clip.incident.case_number not in client.get("/admin/requests_app/incident/").content.decode()


def test_anonymous_and_owners_are_sent_to_sign_in(client, clip):
    response = client.get(f"/evidence/{clip.code}/download/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_a_flipped_byte_is_refused_and_flagged(client, clip, investigator, evidence_dir):
    path = evidence_dir / clip.stored_name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))

    response, body = download(client, investigator, clip)

    assert response.status_code == 409 and b"failed its integrity check" in body
    clip.refresh_from_db()
    assert clip.integrity_failed_at is not None
    assert AccessEntry.objects.filter(action="clip.integrity_failed", target_code=str(clip.code)).exists()


def test_a_truncated_file_is_refused(client, clip, investigator, evidence_dir):
    path = evidence_dir / clip.stored_name
    path.write_bytes(path.read_bytes()[:-5])
    response, _ = download(client, investigator, clip)
    assert response.status_code == 409


def test_rotating_the_master_key_keeps_every_clip_readable(client, clip, investigator, settings):
    import os

    old = settings.EVIDENCE_KEY
    settings.EVIDENCE_KEY = os.urandom(32)
    settings.EVIDENCE_PREVIOUS_KEYS = [old]
    call_command("evidence_rotate_key")
    settings.EVIDENCE_PREVIOUS_KEYS = []  # the old key is gone now

    response, body = download(client, investigator, clip)
    assert response.status_code == 200 and body == VIDEO


def test_playing_inline_sends_a_playable_type(client, clip, investigator):
    response, body = download(client, investigator, clip, inline=True)
    assert response["Content-Type"] == "video/mp4" and response["Content-Disposition"].startswith("inline")
    assert response["X-Content-Type-Options"] == "nosniff" and body == VIDEO


def test_custody_report_lists_every_access(client, clip, investigator):
    download(client, investigator, clip)
    download(client, investigator, clip, inline=True)
    page = client.get(f"/admin/requests_app/incident/clip/{clip.pk}/custody/").content.decode()

    assert clip.sha256 in page and "door.mp4" in page
    for action in ("clip.uploaded", "clip.downloaded", "clip.viewed"):
        assert action in page


def test_custody_report_says_when_the_stores_copy_was_last_hashed(client, clip, investigator):
    """Downloads check each record, not the whole hash: the report says when the whole hash was last checked at
    rest, and that a copy's SHA-256 must equal the one at upload."""
    client.force_login(investigator)
    url = f"/admin/requests_app/incident/clip/{clip.pk}/custody/"
    page = client.get(url).content.decode()
    assert "not yet re-checked at rest" in page and "sha256sum" in page

    assert services.clip_verify(clip=clip, user=investigator)
    page = client.get(url).content.decode()
    assert "last checked against the store at" in page and "not yet re-checked" not in page


def test_one_press_of_play_is_one_view(client, clip, investigator):
    import re

    client.force_login(investigator)
    page = client.get(f"/evidence/{clip.code}/play/").content.decode()
    src = re.search(r'<video[^>]* src="([^"]+)"', page).group(1).replace("&amp;", "&")
    # The browser's video element fetches the clip, then again in a range: neither is a second view.
    for headers, status, start in (({}, 200, 0), ({"HTTP_RANGE": "bytes=0-"}, 206, 0),
                                   ({"HTTP_RANGE": "bytes=100-"}, 206, 100)):
        response = client.get(src, **headers)
        assert response.status_code == status and b"".join(response.streaming_content) == VIDEO[start:]
    views = AccessEntry.objects.filter(target_code=str(clip.code), action="clip.viewed")
    assert views.count() == 1 and views.get().actor_label == "investigator"

    other = make_staff("supervisor")
    client.force_login(other)  # someone else's view token is no view of theirs: recorded as one
    b"".join(client.get(src).streaming_content)
    assert views.count() == 2 and views.filter(actor_label="supervisor").exists()
    page = client.get(f"/evidence/{clip.code}/play/")
    assert AccessEntry.objects.filter(target_code=str(clip.code), action="clip.viewed").count() == 3


def test_downloads_are_named_and_typed_by_the_container_not_the_owners_file_name(client, incident, street_cameras,
                                                                                 investigator):
    from datetime import timedelta

    from django.utils import timezone

    request = FootageRequest.objects.create(incident=incident, camera=street_cameras["near"][1], camera_label="Near",
                                            nonce="n2", state="sent", expires_at=timezone.now() + timedelta(days=5))
    url = services.consent_link(request).replace("http://testserver", "")
    client.post(url + "upload/", {"clips": [SimpleUploadedFile("evidence.html", VIDEO)], "keep_days": "90"})
    clip = Clip.objects.get()
    for inline in (False, True):
        response, body = download(client, investigator, clip, inline=inline)
        assert response.status_code == 200 and body == VIDEO
        assert response["Content-Type"] == "video/mp4"
        assert response["Content-Disposition"].endswith(f'filename="{clip.code}.mp4"')
        assert "html" not in response["Content-Disposition"]


def test_custody_report_times_are_in_the_program_zone_with_their_offset(client, clip, investigator, settings):
    """A court reads this page: it said UTC over local times."""
    from zoneinfo import ZoneInfo

    settings.TIME_ZONE = "Asia/Kolkata"  # no daylight saving time: one offset all year
    download(client, investigator, clip)
    page = client.get(f"/admin/requests_app/incident/clip/{clip.pk}/custody/").content.decode()

    assert "Asia/Kolkata" in page and "(UTC)" not in page
    for entry in AccessEntry.objects.filter(target_code=str(clip.code)):
        assert f"<td>{entry.at.astimezone(ZoneInfo('Asia/Kolkata')):%Y-%m-%d %H:%M:%S} IST (UTC+05:30)</td>" in page


def evidence_errors(operation: str, kind: str) -> float:
    """connect_evidence_store_errors_total for one operation and kind, as a scrape would read it in this process."""
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value("connect_evidence_store_errors_total",
                                     {"operation": operation, "kind": kind}) or 0.0


def test_a_missing_or_altered_clip_counts_as_a_failed_evidence_read(client, clip, investigator, evidence_dir):
    path = evidence_dir / clip.stored_name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    altered = evidence_errors("read", "EvidenceIntegrityError")
    assert download(client, investigator, clip)[0].status_code == 409
    assert evidence_errors("read", "EvidenceIntegrityError") == altered + 1

    path.unlink()
    missing = evidence_errors("read", "EvidenceMissing")  # the store's word for a file or object that is gone
    assert download(client, investigator, clip)[0].status_code == 409
    assert evidence_errors("read", "EvidenceMissing") == missing + 1


def test_a_store_that_refuses_a_write_counts_it_and_keeps_nothing(incident, street_cameras, investigator, settings,
                                                                 tmp_path):
    from tests.requests_app.media import tiny_jpeg

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the evidence folder should be")
    settings.EVIDENCE_DIR = blocker / "evidence"
    before = evidence_errors("write", "NotADirectoryError")
    with pytest.raises(NotADirectoryError):
        services.still_store(incident=incident, camera=street_cameras["near"][0], jpeg=tiny_jpeg(), user=investigator,
                             name="still.jpg", session_code="s")
    assert evidence_errors("write", "NotADirectoryError") == before + 1
    assert not Clip.objects.exists()
