import json
import re

import pytest
from django.contrib.gis.geos import Point

from audit.actions import Action
from requests_app.models import FootageRequest, Incident
from tests.audit.ledger_reads import recorded_details
from tests.conftest import make_staff

pytestmark = pytest.mark.django_db


def incident_form(**overrides):
    data = {
        "case_number": "26-000123", "offense_type": "Robbery", "address": "300 Fayetteville St",
        "location": Point(-78.6382, 35.7796, srid=4326).geojson, "radius_m": "300",
        "starts_at_0": "2026-11-20", "starts_at_1": "20:00", "ends_at_0": "2026-11-20", "ends_at_1": "23:00",
        "owner_summary": "A store was robbed on this block.", "internal_notes": "",
        "requests-TOTAL_FORMS": "0", "requests-INITIAL_FORMS": "0",
        "clips-TOTAL_FORMS": "0", "clips-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


def test_an_investigator_opens_an_incident_and_is_assigned_to_it(client, investigator):
    client.force_login(investigator)
    response = client.post("/admin/requests_app/incident/add/", incident_form())

    assert response.status_code == 302, response.content.decode()[:3000]
    incident = Incident.objects.get()
    assert list(incident.investigators.all()) == [investigator] and incident.created_by == investigator
    assert investigator.has_perm("requests_app.view_incident", incident)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"case_number": "ABC"}, "Case numbers look like 26-004512"),
        ({"ends_at_0": "2026-11-21", "ends_at_1": "12:00"}, "at most 12 hours"),
        ({"ends_at_1": "19:00"}, "must end after it starts"),
        ({"radius_m": "5000"}, "at most 800 m"),
    ],
)
def test_incident_limits(client, investigator, overrides, message):
    client.force_login(investigator)
    response = client.post("/admin/requests_app/incident/add/", incident_form(**overrides))
    assert message in response.content.decode()
    assert Incident.objects.count() == 0


def test_choosing_cameras_and_sending_shows_progress(client, investigator, incident, street_cameras, smtp_sink,
                                                     django_capture_on_commit_callbacks):
    client.force_login(investigator)
    page = client.get(f"/admin/requests_app/incident/{incident.pk}/cameras/").content.decode()
    for camera in street_cameras["near"]:
        assert camera.label in page
    assert "Paused one" not in page and "Far" not in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/requests_app/incident/{incident.pk}/cameras/",
                               {"camera": [str(c.code) for c in street_cameras["near"]]})
    assert response.status_code == 302
    change = client.get(f"/admin/requests_app/incident/{incident.pk}/change/").content.decode()
    assert "3 of 3 sent" in change
    assert len(smtp_sink.messages) == 3

    page = client.get(f"/admin/requests_app/incident/{incident.pk}/cameras/").content.decode()
    assert page.count(">asked<") == 3  # already asked cameras cannot be ticked again


def test_the_cameras_map_gets_the_listed_cameras_only_and_nothing_of_their_owners(client, investigator, incident,
                                                                                  street_cameras, footage_request):
    client.force_login(investigator)
    page = client.get(f"/admin/requests_app/incident/{incident.pk}/cameras/").content.decode()
    sent = re.search(r'<script id="cameras-map-data" type="application/json">(.*?)</script>', page, re.S).group(1)
    cameras = json.loads(sent)["cameras"]

    near = street_cameras["near"]
    assert [c["code"] for c in cameras] == [str(c.code) for c in near]  # nearest first; not the paused or far ones
    assert {key for c in cameras for key in c} == {"code", "label", "lat", "lng", "direction", "fov", "range",
                                                   "covers", "requested", "overwritten"}
    assert [c["requested"] for c in cameras] == [True, False, False]  # footage_request asked the first
    assert (cameras[1]["direction"], cameras[1]["fov"], cameras[1]["range"]) == (90, 90, 30)
    assert cameras[1]["lat"] == pytest.approx(35.78) and cameras[1]["lng"] == pytest.approx(-78.6377)
    for camera in near:
        assert camera.owner.email not in sent and str(camera.owner.code) not in sent
        assert camera.owner.address not in sent and camera.owner.name not in sent
    # The map shows what the one recorded search found: each owner sees it in their history, and nothing more.
    searches = recorded_details(Action.MAP_SEARCH)
    assert len(searches) == 1
    assert {code for codes in searches[0]["cameras"].values() for code in codes} == {c["code"] for c in cameras}


def test_close_action(client, investigator, incident):
    client.force_login(investigator)
    client.post("/admin/requests_app/incident/", {"action": "close_incidents", "_selected_action": [incident.pk]})
    incident.refresh_from_db()
    assert incident.status == "closed" and incident.closed_at


def test_other_roles_and_the_incident_admin(client, incident):
    for role, sees in (("supervisor", True), ("auditor", True), ("analyst", False), ("administrator", False)):
        client.force_login(make_staff(role))
        listing = client.get("/admin/requests_app/incident/")
        assert (listing.status_code == 200 and incident.case_number in listing.content.decode()) == sees, role
        client.logout()


def test_auditors_cannot_send_requests(client, incident, street_cameras):
    client.force_login(make_staff("auditor"))
    response = client.post(f"/admin/requests_app/incident/{incident.pk}/cameras/",
                           {"camera": [str(street_cameras["near"][0].code)]})
    assert response.status_code == 403
    assert FootageRequest.objects.count() == 0


def test_demo_incident_is_seeded_once(settings):
    from django.core.management import call_command

    make_staff("investigator")
    call_command("seed_demo_incidents")
    call_command("seed_demo_incidents")
    incident = Incident.objects.get()
    assert incident.investigators.get().username == "investigator"


def test_offense_types_come_from_the_fixed_list(client, investigator):
    client.force_login(investigator)
    response = client.post("/admin/requests_app/incident/add/", incident_form(offense_type="Assault at 12 Oak St"))
    assert "Choose one of" in response.content.decode() and Incident.objects.count() == 0


def test_the_offense_type_is_a_select_of_the_agency_list_and_a_legacy_value_is_kept(client, investigator, incident):
    client.force_login(investigator)
    page = client.get("/admin/requests_app/incident/add/").content.decode()
    assert '<select name="offense_type"' in page and '<option value="Hit and run">' in page
    response = client.post("/admin/requests_app/incident/add/", incident_form(offense_type="Jaywalking at 5 Elm"))
    assert "Select a valid choice" in response.content.decode() and not Incident.objects.filter(
        case_number="26-000123").exists()

    Incident.objects.filter(pk=incident.pk).update(offense_type="Larceny")  # taken off the list since
    page = client.get(f"/admin/requests_app/incident/{incident.pk}/change/").content.decode()
    assert '<option value="Larceny" selected>' in page
    from requests_app import services

    services.incident_update(incident=Incident.objects.get(pk=incident.pk), user=investigator, radius_m=200)
    with pytest.raises(Exception, match="Choose one of"):
        services.incident_update(incident=Incident.objects.get(pk=incident.pk), user=investigator,
                                 offense_type="Jaywalking")


def test_opening_an_incident_records_each_camera_listed_for_its_owner(client, investigator, incident, street_cameras):
    from audit.models import AccessEntry
    from audit.selectors import owner_history

    for i, camera in enumerate(street_cameras["near"][:2]):
        FootageRequest.objects.create(incident=incident, camera=camera, camera_label=camera.label, nonce=f"n{i}",
                                      state="sent")
    client.force_login(investigator)
    assert client.get(f"/admin/requests_app/incident/{incident.pk}/change/").status_code == 200
    listed = AccessEntry.objects.filter(action="requests.listed")
    assert sorted(listed.values_list("owner_code", flat=True)) == sorted(
        str(c.owner.code) for c in street_cameras["near"][:2])
    assert all(e.case_number == incident.case_number and e.actor_label == "investigator" for e in listed)
    owner = street_cameras["near"][0].owner
    assert owner_history(owner_code=owner.code).filter(action="requests.listed").count() == 1


def test_the_requests_answered_at_is_shown_in_local_time_like_the_other_times(client, investigator, incident,
                                                                              street_cameras):
    from datetime import UTC, datetime, timedelta

    from django.utils import formats, timezone

    answered = datetime(2026, 12, 5, 2, 15, 53, 1980, tzinfo=UTC)
    FootageRequest.objects.create(incident=incident, camera=street_cameras["near"][0], camera_label="Porch",
                                  nonce="n", state="no_footage", sent_at=answered - timedelta(hours=3),
                                  answered_at=answered, expires_at=answered + timedelta(days=9))
    client.force_login(investigator)

    page = client.get(f"/admin/requests_app/incident/{incident.pk}/change/").content.decode()

    assert "+00:00" not in page
    assert formats.localize(timezone.localtime(answered)) in page  # 9:15 p.m. the day before, in Raleigh


def test_only_investigators_and_supervisors_can_be_put_on_a_case(client, investigator, incident):
    make_staff("analyst")
    client.force_login(investigator)
    page = client.get(f"/admin/requests_app/incident/{incident.pk}/change/").content.decode()
    assert ">investigator</option>" in page and ">analyst</option>" not in page
