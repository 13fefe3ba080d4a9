"""Only the records officer reaches the records pages; every other role, owners and strangers do not, and an
objection link serves only its own owner's notice."""

from datetime import timedelta

import pytest
from django.utils import timezone

from records.models import OwnerNotice, Redaction, Release
from tests.conftest import STAFF_ROLES, make_staff_named, sign_in_owner
from tests.records.conftest import close

pytestmark = pytest.mark.django_db
OTHER_ROLES = [role for role in STAFF_ROLES if role != "records_officer"]


@pytest.fixture
def released(releasable, case_with_clip, django_capture_on_commit_callbacks, client):
    """A release prepared, approved and released: every page of it exists."""
    from records import services

    officer = make_staff_named("records_officer", "officer-who-prepared")
    close(case_with_clip["incident"])
    with django_capture_on_commit_callbacks(execute=True):
        release = services.release_prepare(incident=case_with_clip["incident"], user=officer,
                                           request_reference="PRR-1")
    item = Redaction.objects.get()
    services.redaction_approve(item=item, user=officer)
    Release.objects.filter(pk=release.pk).update(objection_until=timezone.now() - timedelta(seconds=1))
    release.refresh_from_db()
    services.release_decide(release=release, user=officer, decision="release", note="")
    return {"release": release, "item": item, **case_with_clip}


def _urls(released) -> list[tuple[str, str]]:
    release, item, incident = released["release"], released["item"], released["incident"]
    return [("get", "/records/"), ("get", "/records/registry.csv"),
            ("get", "/records/refusal-letter/"), ("post", "/records/refusal-letter/"),
            ("post", f"/records/cases/{incident.code}/release/"),
            ("get", f"/records/releases/{release.code}/"), ("post", f"/records/releases/{release.code}/decide/"),
            ("get", f"/records/redactions/{item.code}/keyframes/0.jpg"),
            ("post", f"/records/redactions/{item.code}/adjust/"),
            ("post", f"/records/redactions/{item.code}/approve/"),
            ("get", f"/records/redactions/{item.code}/download/")]


@pytest.mark.parametrize("role", OTHER_ROLES)
def test_other_staff_roles_are_refused_everywhere(released, client, role):
    client.force_login(make_staff_named(role, f"other-{role}"))
    for method, url in _urls(released):
        assert getattr(client, method)(url).status_code == 403, (role, url)


def test_strangers_and_owners_are_sent_to_sign_in(released, client):
    for method, url in _urls(released):
        response = getattr(client, method)(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url
    sign_in_owner(client, released["owner"])
    for method, url in _urls(released):
        assert getattr(client, method)(url).status_code == 302, url


def test_the_officer_reaches_them(released, officer_client):
    assert officer_client.get(f"/records/releases/{released['release'].code}/").status_code == 200
    download = officer_client.get(f"/records/redactions/{released['item'].code}/download/")
    assert download.status_code == 200


def test_an_objection_link_guessed_or_altered_is_refused(released, client):
    assert client.get("/records/object/not-a-token/").status_code == 410
    notice = OwnerNotice.objects.get()
    from records.services import objection_link

    url = objection_link(notice).replace("http://testserver", "")
    assert client.get(url[:-3] + "abc/").status_code == 410
    # This release is decided: its window is over, and the link says so.
    response = client.get(url)
    assert response.status_code == 410 and "has ended" in response.content.decode()


def test_unknown_codes_are_not_found(releasable, officer_client):
    import uuid

    assert officer_client.get(f"/records/releases/{uuid.uuid4()}/").status_code == 404
    assert officer_client.get(f"/records/redactions/{uuid.uuid4()}/download/").status_code == 404


def test_the_officers_admin_page_opens_on_the_records_work(released, officer_client):
    page = officer_client.get("/admin/").content.decode()
    assert "Public records" in page and "Records policy in force" in page and "releasable" in page
