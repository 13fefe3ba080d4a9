"""A release waits for every owner notice and counts the owners' days from its sending; a redacted copy is no
longer served or worked on once the policy turned confidential or the case reopened; a clip no owner was told of is
blurred whole."""

from datetime import timedelta

import pytest
from django.utils import timezone

from records import services
from records.models import OwnerNotice, Redaction, Release
from requests_app.models import FootageRequest
from tests.conftest import make_staff_named
from tests.records.conftest import close

pytestmark = pytest.mark.django_db


def _prepared(case, capture, officer):
    close(case["incident"])
    with capture(execute=True):
        release = services.release_prepare(incident=case["incident"], user=officer, request_reference="PRR-9")
    return release


def test_nothing_is_released_before_every_owner_was_told_and_the_window_counts_from_the_sending(
        releasable, case_with_clip, django_capture_on_commit_callbacks):
    officer = make_staff_named("records_officer", "officer-guards")
    release = _prepared(case_with_clip, django_capture_on_commit_callbacks, officer)
    services.redaction_approve(item=Redaction.objects.get(), user=officer)
    OwnerNotice.objects.update(sent_at=None)  # the mail never went out (mail server down)
    Release.objects.filter(pk=release.pk).update(objection_until=timezone.now() - timedelta(seconds=1))
    release.refresh_from_db()
    with pytest.raises(services.policy.ReleaseRefused, match="have not been sent"):
        services.release_decide(release=release, user=officer, decision="release", note="")

    assert services.owner_notice_send(notice_id=OwnerNotice.objects.get().pk) == "sent"  # sent late, today
    release.refresh_from_db()
    assert release.objection_until > timezone.now() + timedelta(days=9)
    with pytest.raises(services.policy.ReleaseRefused, match="Owners may object until"):
        services.release_decide(release=release, user=officer, decision="release", note="")
    assert Release.objects.get().released_at is None


def test_the_objection_days_are_at_least_one_outside_the_demo():
    from tests.connect.presets_helper import settings_under
    from tests.connect.test_env import PRODUCTION, _import_settings

    result = _import_settings({**PRODUCTION, "CONNECT_RECORDS_OBJECTION_DAYS": "0"})
    assert result.returncode != 0 and "CONNECT_RECORDS_OBJECTION_DAYS must be at least 1" in result.stderr
    assert _import_settings({**PRODUCTION, "CONNECT_RECORDS_OBJECTION_DAYS": "1"}).returncode == 0
    # The demo (the tests' mode) may walk a release through in one sitting.
    assert settings_under(CONNECT_RECORDS_OBJECTION_DAYS="0")["RECORDS_OBJECTION_DAYS"] == 0


@pytest.mark.parametrize("change", ["confidential", "reopened"])
def test_a_released_copy_is_refused_once_the_policy_or_the_case_no_longer_allows_it(
        releasable, settings, case_with_clip, django_capture_on_commit_callbacks, client, change):
    officer = make_staff_named("records_officer", "officer-guards")
    release = _prepared(case_with_clip, django_capture_on_commit_callbacks, officer)
    item = Redaction.objects.get()
    services.redaction_approve(item=item, user=officer)
    Release.objects.filter(pk=release.pk).update(objection_until=timezone.now() - timedelta(seconds=1))
    release.refresh_from_db()
    services.release_decide(release=release, user=officer, decision="release", note="")
    client.force_login(officer)
    assert client.get(f"/records/redactions/{item.code}/download/").status_code == 200
    if change == "confidential":
        settings.RECORDS_POLICY = "confidential"
    else:
        incident = case_with_clip["incident"]
        incident.status = incident.Status.OPEN
        incident.save(update_fields=["status"])
    response = client.get(f"/records/redactions/{item.code}/download/")
    assert response.status_code == 409
    assert client.get(f"/records/redactions/{item.code}/keyframes/0.jpg").status_code == 409


@pytest.mark.parametrize("change", ["confidential", "reopened"])
def test_a_pending_redaction_is_not_worked_on_once_the_policy_or_the_case_no_longer_allows_it(
        releasable, settings, case_with_clip, django_capture_on_commit_callbacks, client, change):
    officer = make_staff_named("records_officer", "officer-guards")
    _prepared(case_with_clip, django_capture_on_commit_callbacks, officer)
    item = Redaction.objects.get()
    if change == "confidential":
        settings.RECORDS_POLICY = "confidential"
    else:
        incident = case_with_clip["incident"]
        incident.status = incident.Status.OPEN
        incident.save(update_fields=["status"])
    client.force_login(officer)
    assert client.get(f"/records/redactions/{item.code}/keyframes/0.jpg").status_code == 409
    response = client.post(f"/records/redactions/{item.code}/adjust/", {"whole_frame": "on"})
    assert response.status_code == 409
    Redaction.objects.filter(pk=item.pk).update(state=Redaction.State.FAILED)
    assert client.post(f"/records/redactions/{item.code}/adjust/", {"retry": "on"}).status_code == 409
    Redaction.objects.filter(pk=item.pk).update(state=Redaction.State.DONE)
    assert client.post(f"/records/redactions/{item.code}/approve/").status_code == 409
    assert Redaction.objects.get().state == Redaction.State.DONE


def test_a_clip_whose_camera_is_gone_is_blurred_whole_and_the_review_page_says_so(
        releasable, case_with_clip, django_capture_on_commit_callbacks, client):
    FootageRequest.objects.update(camera=None)  # the owner deleted the camera after sharing
    officer = make_staff_named("records_officer", "officer-guards")
    release = _prepared(case_with_clip, django_capture_on_commit_callbacks, officer)
    item = Redaction.objects.get()
    assert item.whole_frame and item.state == Redaction.State.DONE, item.failure_reason
    assert item.keyframes[0]["boxes"] == [[0.0, 0.0, 1.0, 1.0, "added"]]
    assert not OwnerNotice.objects.exists()
    client.force_login(officer)
    page = client.get(f"/records/releases/{release.code}/").content.decode()
    assert "every frame of it is blurred whole" in page
