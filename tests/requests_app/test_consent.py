import hashlib
from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from requests_app import services
from requests_app.models import Clip, FootageRequest
from tests.requests_app.media import tiny_jpeg, tiny_mp4

pytestmark = pytest.mark.django_db


@pytest.fixture
def url(footage_request):
    return services.consent_link(footage_request).replace("http://testserver", "")


def upload(client, url, *files, keep_days="30"):
    return client.post(url + "upload/", {"clips": list(files), "keep_days": keep_days})


def evidence_files(evidence_dir):
    return sorted(p.name for p in evidence_dir.glob("*")) if evidence_dir.exists() else []


def test_opening_the_link_shows_the_request_and_changes_no_answer(client, url, footage_request, incident):
    page = client.get(url).content.decode()

    assert incident.owner_summary in page and "Near 0" in page and incident.case_number in page
    assert "SECRET-NOTE" not in page
    footage_request.refresh_from_db()
    assert footage_request.state == "opened" and footage_request.answered_at is None


def test_no_footage_then_a_second_answer_is_refused(client, url, footage_request):
    assert "no footage" in client.post(url, {"answer": "no_footage"}).content.decode()
    response = client.post(url, {"answer": "decline"})

    assert response.status_code == 410 and "already answered" in response.content.decode()
    footage_request.refresh_from_db()
    assert footage_request.state == "no_footage"


def test_decline_keeps_the_reason_but_shows_it_to_no_police_role(client, url, footage_request):
    client.post(url, {"answer": "decline", "reason": "I do not share video."})
    footage_request.refresh_from_db()
    assert (footage_request.state, footage_request.decline_reason) == ("declined", "I do not share video.")


@pytest.mark.parametrize("mutate", [lambda t: t[:-3] + "abc", lambda t: "x" + t, lambda t: "garbage"])
def test_tampered_links_are_refused(client, url, footage_request, mutate):
    token = url.rstrip("/").rsplit("/", 1)[1]
    response = client.get(f"/footage/{mutate(token)}/")
    assert response.status_code == 410 and "not valid" in response.content.decode()


def test_expired_and_lapsed_requests_are_refused(client, url, footage_request):
    FootageRequest.objects.filter(pk=footage_request.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert "expired" in client.get(url).content.decode()


def test_closed_case_needs_no_answer(client, url, incident, investigator):
    services.incident_close(incident=incident, user=investigator)
    assert "case is closed" in client.get(url).content.decode()


def test_upload_stores_an_encrypted_clip_with_hash_and_metadata(client, url, footage_request, evidence_dir):
    video = tiny_mp4()
    response = upload(client, url, SimpleUploadedFile("porch.mp4", video), SimpleUploadedFile("still.jpg",
                                                                                              tiny_jpeg()))

    assert response.status_code == 200
    assert hashlib.sha256(video).hexdigest() in response.content.decode()
    footage_request.refresh_from_db()
    assert footage_request.state == "uploaded"
    clip = Clip.objects.get(original_name="porch.mp4")
    assert (clip.sha256, clip.size) == (hashlib.sha256(video).hexdigest(), len(video))
    assert (clip.width, clip.height, round(clip.duration_s)) == (64, 48, 1)
    assert clip.keep_days_after_close == 30
    assert Clip.objects.get(original_name="still.jpg").media_format == "jpeg_pipe"
    # On disk there is ciphertext only, and nothing else is left behind.
    assert evidence_files(evidence_dir) == sorted(f"{c.code}.cnev" for c in Clip.objects.all())
    stored = (evidence_dir / clip.stored_name).read_bytes()
    assert video[:64] not in stored and video[-64:] not in stored


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("fake.mp4", b"this is not a video at all " * 100, "is not a video or image"),
        ("empty.mp4", b"", "is empty"),
    ],
)
def test_bad_uploads_are_refused_and_leave_nothing(client, url, footage_request, evidence_dir, name, content,
                                                   message):
    response = upload(client, url, SimpleUploadedFile("good.mp4", tiny_mp4()), SimpleUploadedFile(name, content))

    assert response.status_code == 400 and message in response.content.decode()
    assert Clip.objects.count() == 0 and evidence_files(evidence_dir) == []
    footage_request.refresh_from_db()
    assert footage_request.state == "sent"  # the owner can try again


def test_an_oversized_upload_is_refused_and_leaves_nothing(client, url, footage_request, evidence_dir, settings):
    settings.UPLOAD_MAX_MB = 1
    response = upload(client, url, SimpleUploadedFile("big.mp4", b"\0" * (1024 * 1024 + 10)))

    assert response.status_code == 413 and "larger than 1 MB" in response.content.decode()
    assert Clip.objects.count() == 0 and evidence_files(evidence_dir) == []


def test_keep_days_outside_the_agency_range_is_refused(client, url, footage_request, evidence_dir):
    response = upload(client, url, SimpleUploadedFile("a.mp4", tiny_mp4()), keep_days="9999")
    assert response.status_code == 400 and "Choose between" in response.content.decode()
    assert evidence_files(evidence_dir) == []


def test_upload_without_csrf_token_is_refused(footage_request, url, evidence_dir):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = upload(client, url, SimpleUploadedFile("a.mp4", tiny_mp4()))
    assert response.status_code == 403
    assert Clip.objects.count() == 0 and evidence_files(evidence_dir) == []


def test_an_owner_answering_through_the_emailed_link_is_named(client, incident, street_cameras):
    request = FootageRequest.objects.create(
        incident=incident, camera=street_cameras["near"][0], camera_label="Near 0", nonce="nonce-actor",
        state="sent", sent_at=timezone.now(), expires_at=timezone.now() + timedelta(days=10))
    url = services.consent_link(request).replace("http://testserver", "")
    client.post(url, {"answer": "no_footage"})

    [change] = LogEntry.objects.get_for_object(request).filter(action=LogEntry.Action.UPDATE)
    assert change.actor_email == "owner (footage request link)"
    assert change.changes_dict["state"] == ["sent", "no_footage"]


def test_an_owner_who_shared_clips_adds_more_until_the_request_lapses(client, url, footage_request):
    from audit.models import AccessEntry

    assert upload(client, url, SimpleUploadedFile("door.mp4", tiny_mp4())).status_code == 200
    page = client.get(url).content.decode()
    assert "You have shared 1 file" in page and "Decline this request" not in page

    response = upload(client, url, SimpleUploadedFile("yard.jpg", tiny_jpeg()))
    assert response.status_code == 200 and "We received 1 file" in response.content.decode()
    assert sorted(Clip.objects.values_list("original_name", flat=True)) == ["door.mp4", "yard.jpg"]
    footage_request.refresh_from_db()
    assert footage_request.state == "uploaded"
    uploads = AccessEntry.objects.filter(action="clip.uploaded").order_by("seq")
    assert [e.detail["addition"] for e in uploads] == [False, True]  # each addition recorded as one
    assert client.post(url, {"answer": "decline"}).status_code == 410  # shared clips are not taken back this way

    FootageRequest.objects.filter(pk=footage_request.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    response = upload(client, url, SimpleUploadedFile("late.mp4", tiny_mp4()))
    assert response.status_code == 410 and Clip.objects.count() == 2


def test_the_thank_you_page_wraps_the_fingerprint_on_a_phone(client, url):
    from django.contrib.staticfiles import finders

    page = upload(client, url, SimpleUploadedFile("door.mp4", tiny_mp4())).content.decode()
    # The 64-character SHA-256 has no space to wrap at: the page marks it, and the site's CSS wraps it anywhere.
    assert '<code class="hash">' in page
    css = open(finders.find("connect/css/site.css")).read()
    assert "code.hash" in css and "overflow-wrap: anywhere" in css


@pytest.mark.parametrize("answer", ["no_footage", "decline"])
def test_an_owner_who_answered_can_still_add_a_clip_until_the_request_lapses(client, url, footage_request, answer):
    from audit.models import AccessEntry

    done = client.post(url, {"answer": answer}).content.decode()
    assert "you can still add a clip through the same link" in done
    page = client.get(url)
    assert page.status_code == 200
    assert "Add a clip" in page.content.decode() and "Decline this request" not in page.content.decode()
    assert client.post(url, {"answer": "no_footage"}).status_code == 410  # a second answer is still refused

    response = upload(client, url, SimpleUploadedFile("door.mp4", tiny_mp4()))

    assert response.status_code == 200 and "We received 1 file" in response.content.decode()
    footage_request.refresh_from_db()
    assert footage_request.state == "uploaded" and footage_request.decline_reason == ""
    assert AccessEntry.objects.filter(action="clip.uploaded", target_code=str(Clip.objects.get().code)).exists()
    FootageRequest.objects.filter(pk=footage_request.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    assert upload(client, url, SimpleUploadedFile("late.mp4", tiny_mp4())).status_code == 410
    assert Clip.objects.count() == 1


def test_clips_after_a_decline_read_to_police_like_a_first_answer(client, incident, street_cameras):
    """The change history and the ledger of a request declined, then given clips, are those of a request given
    clips at once: police never learn of the decline."""
    from audit.models import AccessEntry

    seen = {}
    for name, first in (("declined", "decline"), ("direct", None)):
        request = FootageRequest.objects.create(
            incident=incident, camera=street_cameras["near"][0 if first else 1], camera_label=name,
            nonce=f"nonce-{name}", state="sent", sent_at=timezone.now(), expires_at=timezone.now() + timedelta(days=9))
        url = services.consent_link(request).replace("http://testserver", "")
        client.get(url)
        if first:
            client.post(url, {"answer": first, "reason": "Not my business"})
        assert upload(client, url, SimpleUploadedFile("door.mp4", tiny_mp4())).status_code == 200
        request.refresh_from_db()
        history = [change.changes_dict for change in LogEntry.objects.get_for_object(request)
                   .filter(action=LogEntry.Action.UPDATE).order_by("pk")]
        ledger = [(entry.action, sorted(entry.detail)) for entry in AccessEntry.objects.filter(
            target_code=str(request.code)).order_by("seq")]
        seen[name] = ([{field: values if field == "state" else values[0] for field, values in changes.items()}
                       for changes in history], ledger,
                      request.reminders_sent, request.state)

    assert seen["declined"] == seen["direct"]
    assert "declined" not in str(seen["declined"]) and "Not my business" not in str(seen["declined"])


def test_a_failed_csrf_check_leaves_no_file(footage_request, url, evidence_dir):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.cookies["csrftoken"] = "a" * 32
    response = client.post(url + "upload/", {"clips": [SimpleUploadedFile("a.mp4", tiny_mp4())], "keep_days": "30",
                                             "csrfmiddlewaretoken": "b" * 32})
    assert response.status_code == 403
    assert evidence_files(evidence_dir) == []


def test_files_under_another_field_are_not_kept(client, url, footage_request, evidence_dir):
    response = client.post(url + "upload/", {"clips": [SimpleUploadedFile("a.mp4", tiny_mp4())], "keep_days": "30",
                                             "other": [SimpleUploadedFile("b.mp4", tiny_mp4())]})
    assert response.status_code == 200
    assert evidence_files(evidence_dir) == [Clip.objects.get().stored_name]


def test_an_invalid_link_reads_no_body(client, evidence_dir):
    response = client.post("/footage/not-a-token/upload/", {"clips": [SimpleUploadedFile("a.mp4", tiny_mp4())]})
    assert response.status_code == 410 and evidence_files(evidence_dir) == []
