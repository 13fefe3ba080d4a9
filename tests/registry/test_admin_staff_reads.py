"""What staff see of owners and cameras in the admin (issue 12): nothing of a registration until it is confirmed,
nothing of a paused camera, contact details one owner at a time with a reason, and every page or list in the
ledger, where the owner reads it. Deletions from the admin are the portal's deletions."""

import pytest
from auditlog.models import LogEntry as ChangeHistoryEntry
from django.contrib.admin.models import LogEntry as AdminLogEntry
from django.test import Client

from audit.models import AccessEntry
from registry.models import Camera, DeletionRecord, Owner
from tests.conftest import make_staff, sign_in_owner
from tests.registry.factories import CameraFactory, OwnerFactory

pytestmark = pytest.mark.django_db
REASON = "Case 26-000123: asking for footage of the porch"


def signed_in(role: str) -> Client:
    client = Client()
    client.force_login(make_staff(role))
    return client


def owner_page(owner, **params):
    return f"/admin/registry/owner/{owner.pk}/change/", params


def history_of(owner) -> str:
    client = Client()
    sign_in_owner(client, owner)
    return client.get("/owner/history/").content.decode()


@pytest.fixture
def unconfirmed(db):
    owner = OwnerFactory(name="Una Unconfirmed", email="una@example.org", phone="919-555-0999",
                         address="99 Pending Place", confirmed_at=None)
    CameraFactory(owner=owner, label="Una porch", status=Camera.Status.PENDING)
    return owner


# --- unconfirmed registrations and paused cameras are nobody's business ---------------------------------------

@pytest.mark.parametrize("role", ["investigator", "supervisor", "administrator"])
def test_an_unconfirmed_registration_shows_nothing_in_the_admin(unconfirmed, owner_a, role):
    client = signed_in(role)
    camera = unconfirmed.cameras.get()
    pages = [client.get(path, params, follow=True) for path, params in (
        ("/admin/registry/owner/", {}), owner_page(unconfirmed, reason=REASON), ("/admin/registry/camera/", {}),
        ("/admin/registry/camera/", {"q": "Pending"}), (f"/admin/registry/camera/{camera.pk}/change/", {}))]
    for page in pages:
        text = page.content.decode()
        assert [word for word in ("Una", "una@example.org", "919-555-0999", "99 Pending Place") if word in text] == []
    assert not AccessEntry.objects.filter(owner_code=str(unconfirmed.code)).exists()


@pytest.mark.parametrize("role", ["investigator", "supervisor", "administrator", "analyst"])
def test_a_paused_camera_is_hidden_from_every_admin_page(owner_a, role):
    paused = CameraFactory(owner=owner_a, label="Alice garden", status=Camera.Status.PAUSED)
    client = signed_in(role)
    listing = client.get("/admin/registry/camera/").content.decode()
    page = client.get(f"/admin/registry/camera/{paused.pk}/change/", follow=True).content.decode()
    owner = client.get(*owner_page(owner_a, reason=REASON)).content.decode()
    assert "Alice porch" in listing and "Alice garden" not in listing
    assert "Alice garden" not in page and "Alice garden" not in owner
    assert not AccessEntry.objects.filter(camera_code=str(paused.code)).exists()


def test_the_admin_adds_only_agency_owners_which_are_confirmed_by_definition(owner_a):
    client = signed_in("administrator")
    form = client.get("/admin/registry/owner/add/").content.decode()
    assert 'value="agency"' in form and 'value="resident"' not in form
    response = client.post("/admin/registry/owner/add/", {
        "kind": "resident", "name": "Sneaky Resident", "email": "sneaky@example.org",
        "cameras-TOTAL_FORMS": "0", "cameras-INITIAL_FORMS": "0"})
    assert response.status_code == 200 and not Owner.objects.filter(name="Sneaky Resident").exists()
    client.post("/admin/registry/owner/add/", {
        "kind": "agency", "name": "City Transportation", "email": "traffic@example.gov",
        "cameras-TOTAL_FORMS": "0", "cameras-INITIAL_FORMS": "0"})
    agency = Owner.objects.get(name="City Transportation")
    CameraFactory(owner=agency, label="Pole 12")
    assert "Pole 12" in signed_in("analyst").get("/admin/registry/camera/").content.decode()


# --- contact details: one owner at a time, with a reason; only administrators browse -------------------------

@pytest.mark.parametrize("role", ["investigator", "supervisor", "auditor", "analyst"])
def test_only_administrators_browse_or_search_the_contact_book(owner_a, role):
    client = signed_in(role)
    response = client.get("/admin/registry/owner/", {"q": "919-555-0101"})
    assert response.status_code == 403 and "alice@example.org" not in response.content.decode()
    cameras = client.get("/admin/registry/camera/", {"q": "alice@example.org"}).content.decode()
    assert "Alice porch" not in cameras  # no "is this email an owner?" through the camera search either


def test_the_owner_autocomplete_answers_nobody(owner_a):
    for role in ("investigator", "supervisor", "administrator"):
        response = signed_in(role).get("/admin/autocomplete/", {
            "app_label": "registry", "model_name": "camera", "field_name": "owner", "term": "919-555-0101"})
        assert response.status_code in (403, 404) and str(owner_a.code)[:8] not in response.content.decode()


def test_an_owner_page_asks_why_first_and_the_owner_reads_the_reason(owner_a):
    client = signed_in("investigator")
    asked = client.get(*owner_page(owner_a))
    assert asked.status_code == 200 and "alice@example.org" not in asked.content.decode()
    assert "Why do you need" in asked.content.decode()
    assert not AccessEntry.objects.filter(action="owner.contact_viewed").exists()
    too_short = client.get(*owner_page(owner_a, reason="x"))
    assert "alice@example.org" not in too_short.content.decode()

    shown = client.get(*owner_page(owner_a, reason=REASON))

    assert "alice@example.org" in shown.content.decode() and "919-555-0101" in shown.content.decode()
    entry = AccessEntry.objects.get(action="owner.contact_viewed")
    assert entry.owner_code == str(owner_a.code) and entry.reason == REASON and entry.actor_label == "investigator"
    history = history_of(owner_a)
    assert "looked at your contact details" in history and REASON in history


def test_auditors_read_the_ledger_not_the_contact_book(owner_a):
    client = signed_in("auditor")
    assert client.get(*owner_page(owner_a, reason=REASON)).status_code == 403
    assert client.get("/audit/").status_code == 200


# --- every camera page and list is in the ledger, per camera, and the owner sees it -------------------------

def test_a_camera_page_is_recorded_and_the_owner_sees_which_camera(owner_a):
    camera = owner_a.cameras.get()
    response = signed_in("analyst").get(f"/admin/registry/camera/{camera.pk}/change/")
    assert response.status_code == 200
    entry = AccessEntry.objects.get(action="camera.viewed")
    assert (entry.camera_code, entry.owner_code, entry.detail["via"]) == (str(camera.code), str(owner_a.code), "admin")
    history = history_of(owner_a)
    assert "Alice porch" in history and "looked at your camera&#x27;s details" in history


def test_each_camera_on_a_list_page_is_recorded_for_its_owner(owner_a, owner_b):
    signed_in("investigator").get("/admin/registry/camera/", {"q": "porch"})
    listed = AccessEntry.objects.filter(action="camera.listed")
    assert list(listed.values_list("owner_code", flat=True)) == [str(owner_a.code)]  # only what was shown
    signed_in("analyst").get("/admin/registry/camera/")
    assert set(listed.values_list("owner_code", flat=True)) == {str(owner_a.code), str(owner_b.code)}
    history = history_of(owner_b)
    assert "Bob driveway" in history and "saw your camera in a staff list of cameras" in history


def test_an_api_camera_read_reaches_the_owners_history(owner_a):
    from tests.api.conftest import APIClient

    client = APIClient()
    client.force_login(make_staff("investigator"))
    camera = owner_a.cameras.get()
    assert client.get(f"/api/v1/cameras/{camera.code}/").status_code == 200
    history = history_of(owner_a)
    assert "Alice porch" in history and "looked at your camera&#x27;s details" in history


# --- deleting from the admin is the portal's deletion ---------------------------------------------------------

def test_an_owner_deleted_from_the_admin_leaves_only_a_deletion_record_and_a_ledger_entry(owner_a):
    code = owner_a.code
    client = signed_in("administrator")
    response = client.post(f"/admin/registry/owner/{owner_a.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Owner.objects.filter(code=code).exists() and not Camera.objects.filter(label="Alice porch").exists()
    record = DeletionRecord.objects.get()
    assert (record.scope, record.owner_kind, record.cameras) == ("owner", "resident", 1)
    entry = AccessEntry.objects.get(action="owner.deleted_by_staff")
    assert entry.actor_label == "administrator" and entry.owner_code == str(code)
    history_text = " ".join(str(e.changes) for e in ChangeHistoryEntry.objects.all())
    assert "Alice" not in history_text and "alice@example.org" not in history_text
    assert not AdminLogEntry.objects.filter(object_repr__icontains="Alice").exists()


def test_a_camera_deleted_from_the_admin_goes_the_portals_way(owner_a):
    second = CameraFactory(owner=owner_a, label="Alice garden")
    response = signed_in("administrator").post(f"/admin/registry/camera/{second.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not Camera.objects.filter(pk=second.pk).exists()
    assert DeletionRecord.objects.get().scope == "camera"
    assert AccessEntry.objects.get(action="camera.deleted_by_staff").camera_code == str(second.code)
    assert "Alice garden" not in " ".join(str(e.changes) for e in ChangeHistoryEntry.objects.all())


# --- a NUL in an admin search -----------------------------------------------------------------------------------

@pytest.mark.parametrize("path, role", [("/admin/registry/camera/", "investigator"),
                                        ("/admin/registry/owner/", "administrator")])
def test_a_nul_in_an_admin_search_gets_a_message_not_an_error(owner_a, path, role):
    response = signed_in(role).get(path, {"q": "Alice\x00porch"}, follow=True)
    assert response.status_code == 200 and "NUL character" in response.content.decode()


def test_each_owner_on_the_owner_list_reads_it_in_their_history(owner_a, owner_b):
    signed_in("administrator").get("/admin/registry/owner/", {"q": "Alice"})
    entries = AccessEntry.objects.filter(action="owner.contact_listed")
    assert [(e.owner_code, e.detail["query"]) for e in entries] == [(str(owner_a.code), "q=Alice")]
    assert "saw your contact details in the list of owners" in history_of(owner_a)
    assert "saw your contact details" not in history_of(owner_b)


def test_a_camera_added_in_the_admin_is_active_unless_staff_say_otherwise():
    form = signed_in("administrator").get("/admin/registry/camera/add/").content.decode()
    assert '<option value="active" selected>' in form


def test_deleting_all_of_an_owners_cameras_at_once_deletes_the_owner_once(owner_a):
    second = CameraFactory(owner=owner_a, label="Alice garden")
    first = owner_a.cameras.get(label="Alice porch")
    response = signed_in("administrator").post("/admin/registry/camera/", {
        "action": "delete_selected", "_selected_action": [first.pk, second.pk], "post": "yes"})
    assert response.status_code == 302 and not Owner.objects.filter(pk=owner_a.pk).exists()
    assert sorted(DeletionRecord.objects.values_list("scope", flat=True)) == ["camera", "owner"]
    assert AccessEntry.objects.filter(action="owner.deleted_by_staff").count() == 1
