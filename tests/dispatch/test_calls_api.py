"""Dispatch pushes calls for service; staff read them with the nearest cameras and promote one to an incident."""

from datetime import timedelta

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from audit.models import AccessEntry
from dispatch.models import CallForService
from requests_app.models import Incident
from tests.registry.factories import CameraFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/calls/"


def call_body(**overrides):
    body = {"dispatch_id": "C26-0001", "call_type": "Burglary in progress", "priority": 1, "lat": 35.7796,
            "lng": -78.6382, "address": "200 Fayetteville St", "received_at": timezone.now().isoformat(),
            "status": "pending"}
    return {**body, **overrides}


@pytest.fixture
def dispatch(token_client):
    return token_client("dispatch:write", "dispatch:read")


def test_a_pushed_call_is_stored_with_the_nearest_cameras(dispatch):
    CameraFactory(label="Near, integrated", level="integrated", location=Point(-78.6383, 35.7797, srid=4326))
    CameraFactory(label="Further", location=Point(-78.6395, 35.7800, srid=4326))
    CameraFactory(label="Across town", location=Point(-78.70, 35.85, srid=4326))
    response = dispatch.post(URL, call_body(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert [c["label"] for c in body["cameras"]] == ["Near, integrated", "Further"]
    assert body["cameras"][0]["level"] == "integrated"
    assert CallForService.objects.get().priority == 1


def test_sending_the_same_dispatch_id_again_updates_the_call(dispatch):
    assert dispatch.post(URL, call_body(), format="json").status_code == 201
    response = dispatch.post(URL, call_body(status="on_scene", priority=2), format="json")
    assert response.status_code == 200
    call = CallForService.objects.get()
    assert (call.status, call.priority) == ("on_scene", 2)


@pytest.mark.parametrize("body, field", [
    (call_body(lat=36.5, lng=-79.5), "location"),
    (call_body(priority="urgent"), "priority"),
    (call_body(priority=0), "priority"),
    (call_body(lat="north"), "lat"),
    (call_body(received_at="yesterday"), "received_at"),
    (call_body(received_at=(timezone.now() + timedelta(hours=1)).isoformat()), "received_at"),
    (call_body(status="resolved"), "status"),
    (call_body(dispatch_id="a b\x00c"), "dispatch_id"),
    ({"dispatch_id": "C1"}, "call_type"),
])
def test_bad_calls_get_a_400_naming_the_field(dispatch, body, field):
    response = dispatch.post(URL, body, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_malformed_json_and_non_objects_get_a_400(dispatch):
    response = dispatch.post(URL, "{not json", content_type="application/json")
    assert response.status_code == 400 and "JSON parse error" in response.json()["detail"]
    assert dispatch.post(URL, [1, 2], format="json").status_code == 400
    assert dispatch.post(URL, "x=1", content_type="application/x-www-form-urlencoded").status_code == 415


def test_a_token_without_the_scope_cannot_push(token_client):
    response = token_client("dispatch:read").post(URL, call_body(), format="json")
    assert response.status_code == 403 and "dispatch:write" in response.json()["detail"]


def test_staff_read_calls_and_the_read_is_recorded(dispatch, staff_client):
    dispatch.post(URL, call_body(), format="json")
    analyst = staff_client("analyst")
    listed = analyst.get(URL)
    assert listed.status_code == 200 and listed.json()["count"] == 1
    code = listed.json()["results"][0]["code"]
    assert analyst.get(f"{URL}{code}/").json()["dispatch_id"] == "C26-0001"
    assert AccessEntry.objects.filter(action="calls.viewed", actor_label="analyst").count() == 2
    assert analyst.get(f"{URL}00000000-0000-0000-0000-000000000000/").status_code == 404
    assert analyst.get(f"{URL}not-a-uuid/").status_code == 404


def test_staff_cannot_push_calls(staff_client):
    assert staff_client("supervisor").post(URL, call_body(), format="json").status_code == 403


def test_an_investigator_promotes_a_call_to_an_incident(dispatch, staff_client):
    code = dispatch.post(URL, call_body(), format="json").json()["code"]
    investigator = staff_client("investigator")
    response = investigator.post(f"{URL}{code}/promote/", {
        "case_number": "26-004999", "offense_type": "Burglary", "owner_summary": "A break-in on this block."},
        format="json")
    assert response.status_code == 201, response.json()
    incident = Incident.objects.get(case_number="26-004999")
    assert investigator.user.has_perm("requests_app.view_incident", incident)
    assert CallForService.objects.get().incident == incident
    assert AccessEntry.objects.filter(action="call.promoted", case_number="26-004999").exists()
    again = investigator.post(f"{URL}{code}/promote/", {
        "case_number": "26-005000", "offense_type": "Burglary", "owner_summary": "x"}, format="json")
    assert again.status_code == 400 and "promoted already" in again.json()["detail"]


def test_promotion_checks_the_case_number_and_the_role(dispatch, staff_client):
    code = dispatch.post(URL, call_body(), format="json").json()["code"]
    body = {"case_number": "nonsense", "offense_type": "Burglary", "owner_summary": "x"}
    response = staff_client("investigator").post(f"{URL}{code}/promote/", body, format="json")
    assert response.status_code == 400 and "case_number" in response.json()
    body["case_number"] = "26-000001"
    assert staff_client("analyst").post(f"{URL}{code}/promote/", body, format="json").status_code == 403
    assert staff_client("auditor").post(f"{URL}{code}/promote/", body, format="json").status_code == 403


def test_a_time_filter_with_any_valid_utc_offset_filters_instead_of_failing(dispatch, staff_client):
    """Found by the schema fuzz: an offset PostgreSQL refuses (-18:51) gave a 500."""
    dispatch.post(URL, call_body(), format="json")
    analyst = staff_client("analyst")
    old = analyst.get(URL, {"received_after": "1759-03-10T10:32:29-18:51"})
    assert old.status_code == 200 and old.json()["count"] == 1
    assert analyst.get(URL, {"received_after": "2999-01-01T00:00:00+23:59"}).json()["count"] == 0
