"""Who may open what: every page and data endpoint against anonymous, owners A and B, and each staff role."""

import pytest
from django.contrib.auth.models import User

from registry.models import Camera
from tests.conftest import STAFF_ROLES, make_staff, sign_in_owner
from tests.registry.factories import CameraFactory, OwnerFactory
from tests.registry.test_admin_staff_reads import footage_request_for

pytestmark = pytest.mark.django_db

BBOX = "/map/cameras.geojson?bbox=-78.82,35.70,-78.47,35.97"
NEARBY = "/map/nearby.json?lat=35.7796&lng=-78.6382&radius=500"
ALL = ["anonymous", "owner_a", "owner_b", *STAFF_ROLES]
# Every role that works with cameras works from the map; the records officer releases only anonymised records, and
# a patrol officer receives bulletins on /patrol/, no map.
MAP_ROLES = set(STAFF_ROLES) - {"records_officer", "patrol"}


def as_who(client, who, owner_a, owner_b):
    if who in ("owner_a", "owner_b"):
        sign_in_owner(client, owner_a if who == "owner_a" else owner_b)
    elif who != "anonymous":
        client.force_login(make_staff(who))
    return client


@pytest.mark.parametrize("who", ALL)
@pytest.mark.parametrize("path", ["/map/", BBOX, NEARBY])
def test_the_staff_map_is_for_staff_with_registry_access(client, owner_a, owner_b, who, path):
    response = as_who(client, who, owner_a, owner_b).get(path)

    if who in MAP_ROLES:
        assert response.status_code == 200
    elif who in STAFF_ROLES:
        assert response.status_code == 403
    elif path == "/map/":
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    else:
        assert response.status_code == 401
    if response.status_code != 200:
        assert b"Alice" not in response.content


def test_staff_without_a_role_is_refused(client, django_user_model):
    user = django_user_model.objects.create_user("norole", password="correct-horse-battery-9", is_staff=True)
    client.force_login(user)
    assert client.get("/map/").status_code == 403
    assert client.get(BBOX).status_code == 403


@pytest.mark.parametrize("who", ALL)
@pytest.mark.parametrize("model", ["owner", "camera", "deletionrecord"])
def test_admin_registry_lists(client, owner_a, owner_b, who, model):
    response = as_who(client, who, owner_a, owner_b).get(f"/admin/registry/{model}/")
    expected = {
        "owner": {"administrator"},  # the contact book is browsed for program work only
        "camera": MAP_ROLES,
        "deletionrecord": {"auditor", "administrator"},
    }[model]
    if who in expected:
        assert response.status_code == 200
    elif who in STAFF_ROLES:
        assert response.status_code == 403
    else:
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.parametrize("who", ALL)
def test_owner_contact_details_only_for_roles_that_contact_owners(client, owner_a, owner_b, who):
    client = as_who(client, who, owner_a, owner_b)
    if who in STAFF_ROLES:  # on a case that asked owner A's camera for footage: the one way to an owner's page
        footage_request_for(owner_a, investigators=[User.objects.get(username=who)])
    response = client.get(f"/admin/registry/owner/{owner_a.pk}/change/",
                          {"reason": "Case 26-000123: asking for footage"})
    sees = response.status_code == 200 and "alice@example.org" in response.content.decode()
    assert sees == (who in {"investigator", "supervisor", "administrator"})  # auditors read the ledger instead


@pytest.mark.parametrize("who", ALL)
def test_only_administrators_change_owners_and_import(client, owner_a, owner_b, who):
    client = as_who(client, who, owner_a, owner_b)
    camera = owner_a.cameras.get()
    response = client.post(f"/admin/registry/owner/{owner_a.pk}/change/", {
        "kind": "resident", "name": "Hacked", "email": "x@example.org",
        "cameras-TOTAL_FORMS": "1", "cameras-INITIAL_FORMS": "1", "cameras-0-id": camera.pk,
        "cameras-0-owner": owner_a.pk})
    owner_a.refresh_from_db()
    assert (owner_a.name == "Hacked") == (who == "administrator"), response.status_code
    assert (client.get("/admin/registry/camera/import/").status_code == 200) == (who == "administrator")


@pytest.mark.parametrize("who", ALL)
def test_demo_inbox_is_the_residents_and_closed_to_every_staff_account(client, owner_a, owner_b, who, settings,
                                                                       tmp_path):
    """Police staff reading it could see owners' consent links, tell a decline from no answer, or answer for
    owners; a person trying the demo reads it for a sign-in link before being staff."""
    settings.DEMO, settings.DEMO_MAILDIR = True, tmp_path
    (tmp_path / "0001.eml").write_text("Subject: Can you help with footage?\nTo: alice@example.org\n\n"
                                       "http://testserver/r/consent-link-token/\n")
    response = as_who(client, who, owner_a, owner_b).get("/demo/mail/")
    page = response.content.decode()
    if who in STAFF_ROLES:
        assert response.status_code == 403 and "consent-link-token" not in page and "private window" in page
    else:
        assert response.status_code == 200 and "consent-link-token" in page


def test_demo_inbox_is_refused_to_a_superuser_too(admin_client, settings):
    settings.DEMO = True
    assert admin_client.get("/demo/mail/").status_code == 403


@pytest.mark.parametrize("signed_in", [False, True])
def test_demo_inbox_does_not_exist_in_production(client, admin_client, settings, signed_in):
    settings.DEMO = False
    assert (admin_client if signed_in else client).get("/demo/mail/").status_code == 404


@pytest.mark.parametrize("path", ["/", "/register/", "/owner/", "/healthz"])
def test_public_pages_are_public(client, path, monkeypatch):
    monkeypatch.setattr("connect.health._celery", lambda: "ok")
    assert client.get(path).status_code == 200


def test_an_analyst_cannot_find_an_owner_by_email_or_see_paused_cameras(client):
    owner = OwnerFactory(email="zed@secret.example", name="Zed Secret")
    CameraFactory(owner=owner, label="Zed porch")
    CameraFactory(owner=OwnerFactory(), label="Paused one", status=Camera.Status.PAUSED)
    client.force_login(make_staff("analyst"))
    assert "Zed porch" not in client.get("/admin/registry/camera/?q=zed@secret.example").content.decode()
    assert "Paused one" not in client.get("/admin/registry/camera/").content.decode()
    # Investigators neither (one owner at a time, with a reason); administrators, who list owners, do.
    client.force_login(make_staff("investigator"))
    assert "Zed porch" not in client.get("/admin/registry/camera/?q=zed@secret.example").content.decode()
    client.force_login(make_staff("administrator"))
    assert "Zed porch" in client.get("/admin/registry/camera/?q=zed@secret.example").content.decode()
