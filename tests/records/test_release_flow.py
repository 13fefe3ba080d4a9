"""A release in each records mode, end to end through the officer's pages, the owner's email and objection page
(a real SMTP sink), the redaction job, the decision and the download."""

import hashlib
from datetime import timedelta

import numpy as np
import pytest
from django.utils import timezone

from audit.actions import Action
from audit.models import AccessEntry
from records.models import OwnerNotice, Redaction, Release
from tests.conftest import link_in, parsed_mail
from tests.records import media
from tests.records.conftest import close

pytestmark = pytest.mark.django_db


def _prepare(client, incident, capture, reference="PRR-2026-0042"):
    with capture(execute=True):
        return client.post(f"/records/cases/{incident.code}/release/", {"reference": reference})


def test_confidential_mode_refuses_every_release_and_prints_the_refusal_letter(officer_client, case_with_clip,
                                                                            django_capture_on_commit_callbacks):
    incident = case_with_clip["incident"]
    close(incident)
    response = _prepare(officer_client, incident, django_capture_on_commit_callbacks)
    assert response.status_code == 409
    assert "confidential" in response.content.decode()
    assert not Release.objects.exists()
    response = officer_client.get("/records/registry.csv")
    assert response.status_code == 409 and "never released" in response.content.decode()

    page = officer_client.get("/records/")
    assert "Policy in force: confidential" in page.content.decode()
    # Opening the form with the fields filled in (a reload, a prefetch) prints and records nothing.
    form = officer_client.get("/records/refusal-letter/", {"requester": "J. Doe, 1 Main St", "reference": "PRR-7"})
    assert form.status_code == 200 and "CONNECT_RECORDS_POLICY=confidential" not in form.content.decode()
    assert not AccessEntry.objects.filter(action=Action.RECORDS_REFUSAL_LETTER).exists()
    letter = officer_client.post("/records/refusal-letter/", {"requester": "J. Doe, 1 Main St", "reference": "PRR-7"})
    text = letter.content.decode()
    assert letter.status_code == 200
    assert "CONNECT_RECORDS_POLICY=confidential" in text and "PRR-7" in text and "J. Doe" in text
    pdf = officer_client.post("/records/refusal-letter/", {"requester": "J. Doe", "reference": "PRR-7",
                                                          "format": "pdf"})
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    actions = list(AccessEntry.objects.values_list("action", flat=True))
    assert actions.count(Action.RECORDS_REFUSED) == 2
    assert actions.count(Action.RECORDS_REFUSAL_LETTER) == 2


def test_an_open_case_is_refused_before_it_closes(releasable, officer_client, case_with_clip,
                                                  django_capture_on_commit_callbacks):
    response = _prepare(officer_client, case_with_clip["incident"], django_capture_on_commit_callbacks)
    assert response.status_code == 409
    assert "Case 26-004999 is still open" in response.content.decode()
    assert not Release.objects.exists()
    entry = AccessEntry.objects.get(action=Action.RECORDS_REFUSED)
    assert entry.case_number == "26-004999" and "still open" in entry.reason


def test_releasable_mode_releases_a_closed_cases_redacted_clip_after_the_owners_window(
        releasable, officer_client, case_with_clip, smtp_sink, django_capture_on_commit_callbacks, client):
    incident, clip, owner = case_with_clip["incident"], case_with_clip["clip"], case_with_clip["owner"]
    close(incident)
    response = _prepare(officer_client, incident, django_capture_on_commit_callbacks)
    release = Release.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/records/releases/{release.code}/"
    item = Redaction.objects.get()
    assert item.state == Redaction.State.DONE, item.failure_reason
    assert item.sha256 and item.sha256 != clip.sha256

    # The owner is told in Spanish, with a link to object.
    [message] = parsed_mail(smtp_sink)
    assert message["To"] == "rosa@example.org"
    assert "registros públicos" in message["Subject"]
    url = link_in(message).replace("http://testserver", "")
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="es")
    assert page.status_code == 200 and "Oponerse a la publicación" in page.content.decode()
    assert not OwnerNotice.objects.get().objected_at, "opening the link (a mail scanner) objects to nothing"
    assert client.post(url, {"objection": "My neighbour's children are in it."}).status_code == 200
    assert client.post(url, {"objection": "again"}).status_code == 410  # single use
    notice = OwnerNotice.objects.get()
    assert notice.objection == "My neighbour's children are in it."

    # The review page shows the keyframes of the redacted copy.
    detail = officer_client.get(f"/records/releases/{release.code}/").content.decode()
    assert "My neighbour&#x27;s children" in detail and f"/records/redactions/{item.code}/keyframes/0.jpg" in detail
    keyframe = officer_client.get(f"/records/redactions/{item.code}/keyframes/0.jpg")
    assert keyframe["Content-Type"] == "image/jpeg" and keyframe.content[:2] == b"\xff\xd8"
    viewed = AccessEntry.objects.get(action=Action.REDACTION_KEYFRAME_VIEWED)  # a look at the owner's footage
    assert viewed.owner_code == str(owner.code) and viewed.detail["redaction"] == str(item.code)

    # Before the window ends nothing is released.
    response = officer_client.post(f"/records/releases/{release.code}/decide/", {"decision": "release"})
    assert response.status_code == 409 and "Owners may object until" in response.content.decode()
    Release.objects.filter(pk=release.pk).update(objection_until=timezone.now() - timedelta(seconds=1))
    response = officer_client.post(f"/records/releases/{release.code}/decide/", {"decision": "release"})
    assert "no approved redaction" in response.content.decode()
    assert officer_client.post(f"/records/redactions/{item.code}/approve/").status_code == 302
    response = officer_client.post(f"/records/releases/{release.code}/decide/", {"decision": "release"})
    assert "Owners objected" in response.content.decode()
    response = officer_client.post(f"/records/releases/{release.code}/decide/",
                                   {"decision": "release", "note": "Faces and plates blurred; no child visible."})
    assert response.status_code == 302
    release.refresh_from_db()
    assert release.released_at is not None

    download = officer_client.get(f"/records/redactions/{item.code}/download/")
    data = b"".join(download.streaming_content)
    assert hashlib.sha256(data).hexdigest() == item.sha256 == download["X-Content-SHA256"]
    frame = media.frames_of(data)[0].astype(int)
    original = media.scene().astype(int)
    x, y, w, h = media.plate_box()
    assert np.abs(frame[y:y + h, x:x + w] - original[y:y + h, x:x + w]).mean() > 25

    # The original's custody report links the redacted copy by its own hash.
    client.force_login(case_with_clip["investigator"])
    report = client.get(f"/admin/requests_app/incident/clip/{clip.pk}/custody/")
    assert report.status_code == 200
    assert item.sha256 in report.content.decode() and clip.sha256 in report.content.decode()
    client.logout()

    owner_sees = set(AccessEntry.objects.filter(owner_code=str(owner.code)).values_list("action", flat=True))
    assert {Action.RELEASE_OWNER_NOTIFIED, Action.RELEASE_OBJECTED, Action.REDACTION_STORED,
            Action.RELEASE_PUBLISHED, Action.REDACTED_CLIP_DOWNLOADED} <= owner_sees


def test_a_withheld_release_cannot_be_downloaded_and_its_copies_are_destroyed(
        releasable, officer_client, case_with_clip, django_capture_on_commit_callbacks, evidence_dir):
    close(case_with_clip["incident"])
    _prepare(officer_client, case_with_clip["incident"], django_capture_on_commit_callbacks)
    release, item = Release.objects.get(), Redaction.objects.get()
    assert len(list(evidence_dir.glob("*.cnrd"))) == 1
    Release.objects.filter(pk=release.pk).update(objection_until=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        officer_client.post(f"/records/releases/{release.code}/decide/", {"decision": "withhold", "note": "Objection"})
    release.refresh_from_db()
    assert release.decision == Release.Decision.WITHHOLD and release.released_at is None
    assert not list(evidence_dir.glob("*.cnrd")) and Redaction.objects.get().stored_name == ""
    response = officer_client.get(f"/records/redactions/{item.code}/download/")
    assert response.status_code == 409 and "has not been released" in response.content.decode()


def test_the_officer_adds_a_box_or_blurs_the_whole_frame_and_runs_it_again(
        releasable, officer_client, case_with_clip, django_capture_on_commit_callbacks):
    close(case_with_clip["incident"])
    _prepare(officer_client, case_with_clip["incident"], django_capture_on_commit_callbacks)
    item = Redaction.objects.get()
    first_output = item.stored_name
    response = officer_client.post(f"/records/redactions/{item.code}/adjust/", {"x": "50", "y": "50"})
    assert response.status_code == 409 and "left, top, width and height" in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = officer_client.post(f"/records/redactions/{item.code}/adjust/",
                                       {"x": "80", "y": "0", "width": "20", "height": "20"})
    item.refresh_from_db()
    assert item.state == Redaction.State.DONE, item.failure_reason
    assert item.runs == 2 and item.added_boxes == [[0.8, 0.0, 0.2, 0.2]]
    assert item.stored_name != first_output
    with django_capture_on_commit_callbacks(execute=True):
        officer_client.post(f"/records/redactions/{item.code}/adjust/", {"whole_frame": "on"})
    item.refresh_from_db()
    assert item.whole_frame and item.keyframes[0]["boxes"] == [[0.0, 0.0, 1.0, 1.0, "added"]]
    assert AccessEntry.objects.filter(action=Action.REDACTION_ADJUSTED).count() == 2


def test_a_redaction_that_fails_half_way_releases_nothing_and_says_why(
        releasable, officer_client, case_with_clip, django_capture_on_commit_callbacks, evidence_dir):
    clip = case_with_clip["clip"]
    close(case_with_clip["incident"])
    stored = evidence_dir / clip.stored_name
    data = bytearray(stored.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one byte flipped in the middle of the sealed original
    stored.write_bytes(bytes(data))
    _prepare(officer_client, case_with_clip["incident"], django_capture_on_commit_callbacks)
    item = Redaction.objects.get()
    assert item.state == Redaction.State.FAILED
    assert "failed its integrity check" in item.failure_reason
    assert not item.stored_name and not list(evidence_dir.glob("*.cnrd"))
    assert not list(evidence_dir.glob("incoming-*"))
    release = Release.objects.get()
    assert item.failure_reason in officer_client.get(f"/records/releases/{release.code}/").content.decode()
    Release.objects.filter(pk=release.pk).update(objection_until=timezone.now() - timedelta(seconds=1))
    response = officer_client.post(f"/records/releases/{release.code}/decide/", {"decision": "release"})
    assert "no approved redaction" in response.content.decode() and "nothing was released" in response.content.decode()
    assert AccessEntry.objects.filter(action=Action.REDACTION_FAILED).exists()


def test_the_sweep_fails_a_job_whose_worker_died(releasable, officer, case_with_clip):
    from records import services

    close(case_with_clip["incident"])
    services.release_prepare(incident=case_with_clip["incident"], user=officer, request_reference="R")  # not run
    Redaction.objects.update(state=Redaction.State.RUNNING, started_at=timezone.now() - timedelta(hours=2))
    assert services.redactions_sweep() == (1, 0)
    item = Redaction.objects.get()
    assert item.state == Redaction.State.FAILED and "worker was lost" in item.failure_reason
    assert AccessEntry.objects.filter(action=Action.REDACTION_FAILED, reason=item.failure_reason).exists()


def test_the_sweep_destroys_unreleased_copies_of_purged_clips(releasable, officer_client, case_with_clip,
                                                               django_capture_on_commit_callbacks, evidence_dir):
    from records import services
    from requests_app.models import Clip

    close(case_with_clip["incident"])
    _prepare(officer_client, case_with_clip["incident"], django_capture_on_commit_callbacks)
    assert services.redactions_sweep() == (0, 0)
    Clip.objects.update(purged_at=timezone.now())
    assert services.redactions_sweep() == (0, 1)
    assert not list(evidence_dir.glob("*.cnrd"))
