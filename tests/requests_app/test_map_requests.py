import json

import pytest

from requests_app.models import FootageRequest
from tests.conftest import make_staff

pytestmark = pytest.mark.django_db


def post(client, incident, cameras):
    return client.post(f"/requests/incidents/{incident.code}/send/", json.dumps({"cameras": cameras}),
                       content_type="application/json")


def test_the_map_lists_the_cases_an_investigator_works(client, investigator, incident):
    from tests.requests_app.factories import IncidentFactory

    IncidentFactory(case_number="26-999999")  # someone else's case
    client.force_login(investigator)
    body = client.get("/requests/incidents.json").json()
    assert [i["case_number"] for i in body["incidents"]] == [incident.case_number]
    assert body["incidents"][0]["radius"] == incident.radius_m


def test_sending_from_the_map(client, investigator, incident, street_cameras, django_capture_on_commit_callbacks):
    client.force_login(investigator)
    codes = [str(c.code) for c in street_cameras["near"][:2]] + [str(street_cameras["paused"].code)]
    with django_capture_on_commit_callbacks(execute=True):
        body = post(client, incident, codes).json()
    assert body == {"queued": 2, "skipped": 1, "case_number": incident.case_number}
    assert FootageRequest.objects.count() == 2


@pytest.mark.parametrize("payload", [None, "nope", [], [1, 2], ["not-a-uuid"]])
def test_bad_payloads_get_a_400(client, investigator, incident, payload):
    client.force_login(investigator)
    response = post(client, incident, payload)
    assert response.status_code == 400 and response.json()["detail"]


@pytest.mark.parametrize("role", ["analyst", "auditor", "administrator"])
def test_roles_that_do_not_send_requests(client, incident, street_cameras, role):
    client.force_login(make_staff(role))
    response = post(client, incident, [str(street_cameras["near"][0].code)])
    assert response.status_code in (403, 404)
    assert FootageRequest.objects.count() == 0


def test_another_investigator_cannot_send_for_my_case(client, incident, street_cameras, django_user_model):
    from django.contrib.auth.models import Group

    other = django_user_model.objects.create_user("other", is_staff=True)
    other.groups.add(Group.objects.get(name="Investigator"))
    client.force_login(other)
    assert post(client, incident, [str(street_cameras["near"][0].code)]).status_code == 404
    assert client.get("/requests/incidents.json").json() == {"incidents": []}


def test_csrf_is_required(incident, investigator, street_cameras):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(investigator)
    assert post(client, incident, [str(street_cameras["near"][0].code)]).status_code == 403


@pytest.mark.parametrize("role", ["analyst", "administrator"])
def test_map_users_who_work_no_case_get_an_empty_list(client, incident, role):
    client.force_login(make_staff(role))
    assert client.get("/requests/incidents.json").json() == {"incidents": []}
