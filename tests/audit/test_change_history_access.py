"""The change history (/admin/auditlog/logentry/) shows each viewer only what they may open, and every read of it
is in the ledger, where owners see the reads that showed their registration (issue 12, items 3 and 4)."""

from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from audit.models import AccessEntry
from requests_app.models import Incident
from tests.conftest import make_staff, sign_in_owner
from tests.requests_app.factories import IncidentFactory

pytestmark = pytest.mark.django_db

LIST = "/admin/auditlog/logentry/"


@pytest.fixture
def noted_incident():
    incident = IncidentFactory(case_number="26-004242", internal_notes="first note")
    incident.internal_notes = "Witness WHISPERING-PINE saw a red hoodie"
    incident.save()
    return incident


def incident_entry(incident) -> LogEntry:
    return LogEntry.objects.get_for_object(incident).filter(action=LogEntry.Action.UPDATE).get()


def test_an_administrator_never_sees_a_case_in_the_change_history(client, noted_incident):
    client.force_login(make_staff("administrator"))
    listing = client.get(LIST).content.decode()
    assert "26-004242" not in listing and "internal_notes" not in listing

    found = client.get(LIST, {"q": "WHISPERING-PINE"}).content.decode()
    assert "26-004242" not in found and "0 log entries" in found  # the search does not say which entry has it

    incident_type = ContentType.objects.get_for_model(Incident)
    filtered = client.get(LIST, {"resource_type": incident_type.pk}).content.decode()
    assert "26-004242" not in filtered and "WHISPERING" not in filtered
    assert f"resource_type={incident_type.pk}" not in listing  # the filter does not offer incidents either

    detail = client.get(f"{LIST}{incident_entry(noted_incident).pk}/change/", follow=True).content.decode()
    assert "WHISPERING-PINE" not in detail and "26-004242" not in detail


def test_an_auditor_sees_the_cases_history(client, noted_incident):
    client.force_login(make_staff("auditor"))
    assert "26-004242" in client.get(LIST, {"q": "WHISPERING-PINE"}).content.decode()
    detail = client.get(f"{LIST}{incident_entry(noted_incident).pk}/change/").content.decode()
    assert "WHISPERING-PINE" in detail


def test_a_live_sessions_incident_and_reason_are_masked_for_those_who_cannot_open_the_case(client, owner_a):
    from integration.models import LiveSession

    incident = IncidentFactory(case_number="26-005151")
    analyst = make_staff("analyst")
    session = LiveSession.objects.create(analyst=analyst, camera=owner_a.cameras.get(), incident=incident,
                                         reason="Following the CRIMSON-VAN from the shooting",
                                         ends_by=timezone.now() + timedelta(minutes=10))
    created = LogEntry.objects.get_for_object(session).filter(action=LogEntry.Action.CREATE).get()

    client.force_login(make_staff("administrator"))
    detail = client.get(f"{LIST}{created.pk}/change/")
    assert detail.status_code == 200
    page = detail.content.decode()
    assert "live session" in page and "CRIMSON-VAN" not in page and "hidden: you may not view this" in page

    client.force_login(make_staff("auditor"))
    assert "CRIMSON-VAN" in client.get(f"{LIST}{created.pk}/change/").content.decode()


def test_staff_without_the_change_history_permission_are_refused(client, noted_incident):
    client.force_login(make_staff("investigator"))
    assert client.get(LIST).status_code == 403
    assert client.get(f"{LIST}{incident_entry(noted_incident).pk}/change/").status_code in (302, 403)


def test_reading_the_change_history_is_recorded_and_the_owner_sees_it(client, owner_a, owner_b):
    camera = owner_a.cameras.get()
    camera.label = "Alice porch, renamed"
    camera.save()
    administrator = make_staff("administrator")
    client.force_login(administrator)

    client.get(LIST, {"q": "renamed"})
    read = AccessEntry.objects.filter(action="changes.viewed", owner_code="").get()
    assert read.actor_label == "administrator" and "renamed" in read.detail["query"] and read.detail["shown"] >= 1
    shown = AccessEntry.objects.filter(action="changes.viewed").exclude(owner_code="")
    assert {(e.owner_code, e.camera_code) for e in shown} == {(str(owner_a.code), str(camera.code))}

    update = LogEntry.objects.get_for_object(camera).filter(action=LogEntry.Action.UPDATE).get()
    client.get(f"{LIST}{update.pk}/change/")
    assert AccessEntry.objects.filter(action="changes.viewed", owner_code=owner_a.code,
                                      detail__page="detail").count() == 1

    owner_client = client.__class__()
    sign_in_owner(owner_client, owner_a)
    page = owner_client.get("/owner/history/").content.decode()
    assert page.count("looked at the change history of your registration") == 2 and "Alice porch" in page
    sign_in_owner(owner_client, owner_b)
    assert "change history" not in owner_client.get("/owner/history/").content.decode()
