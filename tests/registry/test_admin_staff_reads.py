"""What staff see of owners and cameras in the admin (issue 12): nothing of a registration until it is confirmed,
nothing of a paused camera, contact details one owner at a time with a reason, and every page or list in the
ledger, where the owner reads it. Deletions from the admin are the portal's deletions."""

import pytest
from auditlog.models import LogEntry as ChangeHistoryEntry
from django.contrib.admin.models import LogEntry as AdminLogEntry
from django.contrib.auth.models import User
from django.test import Client

from audit.models import AccessEntry
from registry.models import Camera, DeletionRecord, Owner
from requests_app import services as requests_services
from requests_app.models import FootageRequest
from tests.conftest import make_staff, make_staff_named, sign_in_owner
from tests.registry.factories import CameraFactory, OwnerFactory
from tests.requests_app.factories import IncidentFactory

pytestmark = pytest.mark.django_db
REASON = "Case 26-000123: asking for footage of the porch"


def signed_in(role: str, *, on_case_of=None) -> Client:
    """A staff member of that role; with on_case_of, assigned to a case that asked that owner's camera for footage."""
    user = make_staff(role)
    if on_case_of is not None:
        footage_request_for(on_case_of, investigators=[user])
    client = Client()
    client.force_login(user)
    return client


def footage_request_for(owner, *, investigators=()):
    incident = IncidentFactory()
    requests_services.incident_investigators_set(incident=incident, users=list(investigators))
    camera = owner.cameras.first()
    return FootageRequest.objects.create(incident=incident, camera=camera, camera_label=camera.label,
                                         nonce=f"n{camera.pk}-{incident.pk}", state="sent")


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
    client = signed_in("investigator", on_case_of=owner_a)
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


# --- an owner's page opens only where the staff member's work leads (issue 12, items 3 and 10) ---------------

def test_an_owner_page_opens_only_for_an_owner_a_case_of_theirs_asked_for_footage(owner_a, owner_b):
    outsider = signed_in("investigator")
    for owner in (owner_a, owner_b):
        refused = outsider.get(*owner_page(owner, reason=REASON))
        assert refused.status_code == 403 and owner.email not in refused.content.decode()
        assert "from your cases only" in refused.content.decode()
    # Enumerating pks tells nothing: a missing owner gets the very same answer.
    missing = outsider.get(f"/admin/registry/owner/{owner_b.pk + 1000}/change/", {"reason": REASON})
    assert missing.status_code == 403 and "from your cases only" in missing.content.decode()

    detective = make_staff_named("investigator", "on-the-case")
    footage_request_for(owner_a, investigators=[detective])
    on_case = Client()
    on_case.force_login(detective)
    assert owner_a.email in on_case.get(*owner_page(owner_a, reason=REASON)).content.decode()
    assert on_case.get(*owner_page(owner_b, reason=REASON)).status_code == 403
    assert list(AccessEntry.objects.filter(action="owner.contact_viewed").values_list("owner_code", flat=True)) == [
        str(owner_a.code)]


def test_a_supervisor_opens_owners_asked_in_any_case_and_no_others(owner_a, owner_b):
    footage_request_for(owner_a)
    client = signed_in("supervisor")
    assert owner_a.email in client.get(*owner_page(owner_a, reason=REASON)).content.decode()
    assert client.get(*owner_page(owner_b, reason=REASON)).status_code == 403


def test_an_administrator_opens_any_owner(owner_b):
    assert owner_b.email in signed_in("administrator").get(*owner_page(owner_b, reason=REASON)).content.decode()


def test_owner_pages_opened_by_one_staff_member_are_limited_per_hour(settings, owner_a):
    settings.OWNER_PAGE_OPENS_PER_HOUR = 2
    client = signed_in("investigator", on_case_of=owner_a)
    pages = [client.get(*owner_page(owner_a, reason=REASON)) for _ in range(3)]
    assert [page.status_code for page in pages] == [200, 200, 429]
    assert owner_a.email not in pages[2].content.decode() and "last hour" in pages[2].content.decode()
    assert AccessEntry.objects.filter(action="owner.contact_viewed").count() == 2
    # The reason prompt is not an open, and the limit is each person's own.
    assert "Why do you need" in client.get(*owner_page(owner_a)).content.decode()
    other = Client()
    other.force_login(make_staff_named("investigator", "second-detective"))
    footage_request_for(owner_a, investigators=[User.objects.get(username="second-detective")])
    assert owner_a.email in other.get(*owner_page(owner_a, reason=REASON)).content.decode()


@pytest.mark.parametrize("role, on_case, linked", [("investigator", False, False), ("investigator", True, True),
                                                    ("analyst", False, False), ("administrator", False, True)])
def test_a_camera_page_links_to_its_owner_only_where_the_owner_page_opens(owner_a, role, on_case, linked):
    camera = owner_a.cameras.get()
    client = signed_in(role, on_case_of=owner_a if on_case else None)
    page = client.get(f"/admin/registry/camera/{camera.pk}/change/").content.decode()
    assert (f"/admin/registry/owner/{owner_a.pk}/change/" in page) is linked
    assert str(owner_a) in page  # the owner is named all the same (kind and code: no personal data)


# --- only GET (with a reason) shows an owner; POST only for those who change owners ---------------------------

@pytest.mark.parametrize("method", ["options", "put", "patch", "delete", "trace"])
def test_no_other_method_shows_an_owner_page(owner_a, method):
    client = signed_in("investigator", on_case_of=owner_a)
    path, _ = owner_page(owner_a)
    response = getattr(client, method)(path)
    assert response.status_code == 405 and owner_a.email not in response.content.decode()
    assert not AccessEntry.objects.filter(action="owner.contact_viewed").exists()


def test_a_post_to_an_owner_page_is_refused_to_those_who_cannot_change_owners(owner_a):
    client = signed_in("investigator", on_case_of=owner_a)
    path, _ = owner_page(owner_a)
    for target in (path, f"{path}?reason=Case+26-000123+calling"):
        response = client.post(target, {"name": "Changed"})
        assert response.status_code == 403 and owner_a.email not in response.content.decode()
    assert not AccessEntry.objects.filter(action="owner.contact_viewed").exists()


def test_an_administrators_post_shows_the_details_only_with_a_reason(owner_a):
    client = signed_in("administrator")
    path, _ = owner_page(owner_a)
    form = {"name": "Alice Renamed", "email": "not-an-email", "phone": owner_a.phone, "address": owner_a.address,
            "cameras-TOTAL_FORMS": "1", "cameras-INITIAL_FORMS": "1", "cameras-0-id": str(owner_a.cameras.get().pk),
            "cameras-0-owner": str(owner_a.pk)}
    asked = client.post(path, form)  # a form with errors would show the page again: the reason comes first
    assert "Why do you need" in asked.content.decode() and owner_a.phone not in asked.content.decode()
    assert not AccessEntry.objects.filter(action="owner.contact_viewed").exists()
    shown = client.post(f"{path}?reason=Correcting+the+name+she+asked+for", form)
    assert shown.status_code == 200 and owner_a.phone in shown.content.decode()
    assert AccessEntry.objects.get(action="owner.contact_viewed").reason == "Correcting the name she asked for"
    saved = client.post(path, {**form, "email": owner_a.email})  # a change saved shows nothing: no reason asked
    owner_a.refresh_from_db()
    assert saved.status_code == 302 and owner_a.name == "Alice Renamed"


# --- the camera autocomplete ------------------------------------------------------------------------------------

@pytest.mark.parametrize("source", ["integration.liveshare", "integration.connectortoken", "integration.livesession",
                                    "requests_app.footagerequest"])
@pytest.mark.parametrize("role", ["investigator", "supervisor", "analyst", "administrator"])
def test_the_camera_autocomplete_answers_nobody(owner_a, role, source):
    app_label, model_name = source.split(".")
    response = signed_in(role).get("/admin/autocomplete/", {
        "app_label": app_label, "model_name": model_name, "field_name": "camera", "term": "1 Alpha Street"})
    assert response.status_code in (403, 404)
    text = response.content.decode()
    assert "Alice porch" not in text and f'"id": "{owner_a.cameras.get().pk}"' not in text


# --- Django's per-object history pages send to the audited change history ---------------------------------------

def test_an_owners_history_page_opens_only_where_the_owner_page_does(owner_a):
    path = f"/admin/registry/owner/{owner_a.pk}/history/"
    refused = signed_in("investigator").get(path)
    assert refused.status_code == 403 and "from your cases only" in refused.content.decode()

    client = signed_in("administrator")
    sent = client.get(path)
    assert sent.status_code == 302 and sent["Location"].startswith("/admin/auditlog/logentry/?")
    assert f"object_pk={owner_a.pk}" in sent["Location"]
    shown = client.get(sent["Location"])
    assert shown.status_code == 200
    viewed = AccessEntry.objects.filter(action="changes.viewed", owner_code=str(owner_a.code))
    assert viewed.exists() and "looked at the change history of your registration" in history_of(owner_a)


def test_a_cameras_history_page_is_the_recorded_change_history_of_that_camera(owner_a, owner_b):
    camera = owner_a.cameras.get()
    client = signed_in("auditor")
    shown = client.get(f"/admin/registry/camera/{camera.pk}/history/", follow=True)
    assert shown.status_code == 200 and shown.redirect_chain
    entries = AccessEntry.objects.filter(action="changes.viewed")
    assert set(entries.exclude(owner_code="").values_list("owner_code", flat=True)) == {str(owner_a.code)}


def test_an_incidents_history_page_is_only_for_those_who_may_view_the_incident(owner_a):
    theirs = footage_request_for(owner_a).incident
    response = signed_in("investigator").get(f"/admin/requests_app/incident/{theirs.pk}/history/")
    assert response.status_code == 403 and theirs.case_number not in response.content.decode()
    sent = signed_in("supervisor").get(f"/admin/requests_app/incident/{theirs.pk}/history/")
    assert sent.status_code == 302 and "/admin/auditlog/logentry/" in sent["Location"]
