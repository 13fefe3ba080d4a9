"""Two-person override of the incident-nearby rule (issue 17, item 3): an analyst asks with a reason, supervisors
are emailed, another person approves or refuses with a reason in time; an approval opens views of one camera for
one case for a limited time; every step is in the ledger and the owner's history."""

import json
from datetime import timedelta

import pytest
from django.contrib.gis.geos import Point
from django.core import mail
from django.utils import timezone

from audit.models import AccessEntry
from integration import override_notices, overrides
from integration.models import LiveSession, OverrideRequest
from registry.owner_history import history_rows
from tests.conftest import make_staff, make_staff_named
from tests.integration.conftest import share_camera, trained
from tests.registry.factories import CameraFactory, OwnerFactory
from tests.requests_app.factories import IncidentFactory

pytestmark = pytest.mark.django_db
WHY = "Shots fired two blocks east, suspect fled this way"


@pytest.fixture
def far_case():
    return IncidentFactory(case_number="26-004512", location=Point(-78.6382, 35.7900, srid=4326))  # 1.2 km away


@pytest.fixture
def supervisor():
    user = make_staff("supervisor")
    user.email = "sergeant@police.example.org"
    user.save()
    return user


def ask(client, analyst, camera, case, reason=WHY):
    client.force_login(analyst)
    return client.post("/live/overrides/ask/", json.dumps({"camera": str(camera.code), "incident": str(case.code),
                                                           "reason": reason}), content_type="application/json")


def decide(client, supervisor, override_code, decision="approve", reason="Active shooting, the route matters"):
    client.force_login(supervisor)
    return client.post(f"/live/overrides/{override_code}/decide/", {"decision": decision, "reason": reason},
                       follow=True)


def open_view(client, analyst, camera, case, override_code):
    client.force_login(analyst)
    return client.post("/live/sessions/", json.dumps({
        "camera": str(camera.code), "incident": str(case.code), "reason": "Watching the escape route north",
        "override": override_code}), content_type="application/json")


def test_an_approved_request_opens_one_camera_for_one_case_and_everyone_can_read_how(
        client, live_camera, analyst, supervisor, far_case, django_capture_on_commit_callbacks):
    other = make_staff_named("supervisor", "lieutenant", email="lt@police.example.org")
    with django_capture_on_commit_callbacks() as queued:
        asked = ask(client, analyst, live_camera, far_case)
    assert asked.status_code == 201 and asked.json()["state"] == "pending"
    assert len(queued) == 1, "the supervisors' notice is queued once the request commits"
    code = asked.json()["override"]
    assert override_notices.override_request_notice_send(override_id=OverrideRequest.objects.get(code=code).pk) \
        == "told 2 supervisors"  # what the queued task does
    told = sorted(address for message in mail.outbox for address in message.to)
    assert told == [other.email, supervisor.email], "every supervisor, never the analyst"
    assert "26-004512" in mail.outbox[0].subject and WHY in mail.outbox[0].body

    refused_now = open_view(client, analyst, live_camera, far_case, code)
    assert refused_now.status_code == 403 and "not approved" in refused_now.json()["detail"]

    page = decide(client, supervisor, code)
    assert "Approved: case 26-004512, asked by analyst" in page.content.decode()
    client.force_login(analyst)
    status = client.get(f"/live/overrides/{code}.json").json()
    assert status["state"] == "approved" and status["decided_by"] == "supervisor"

    opened = open_view(client, analyst, live_camera, far_case, code)
    assert opened.status_code == 201, opened.content
    session = LiveSession.objects.get(code=opened.json()["session"])
    approval = OverrideRequest.objects.get(code=code)
    assert session.override == approval and session.ends_by <= approval.valid_until
    assert WHY in session.override_reason and "approved by supervisor" in session.override_reason

    other_camera = CameraFactory(owner=OwnerFactory(kind="business"), label="Across the street")
    share_camera(other_camera)
    assert open_view(client, analyst, other_camera, far_case, code).status_code == 403, "one camera"
    another_case = IncidentFactory(location=far_case.location)
    assert open_view(client, analyst, live_camera, another_case, code).status_code == 403, "one case"

    approved = AccessEntry.objects.get(action="live.override_approved")
    assert approved.actor_label == "supervisor" and approved.reason == "Active shooting, the route matters"
    assert approved.detail["requested_by"] == "analyst" and approved.detail["request_reason"] == WHY
    assert AccessEntry.objects.get(action="live.override").detail["approved_by"] == "supervisor"
    assert AccessEntry.objects.filter(action="live.override_requested", actor_label="analyst").count() == 1
    # The owner reads both people and both reasons: the analyst's ask and the supervisor's approval.
    owner_sees = {row["what"]: row for row in history_rows(owner=live_camera.owner)}
    assert owner_sees["a supervisor approved a live view without an incident nearby, for one case"]["why"] == \
        "Active shooting, the route matters"
    assert owner_sees["an analyst asked a supervisor for a live view without an incident nearby"]["why"] == WHY


def test_an_approval_runs_out(client, live_camera, analyst, supervisor, far_case):
    code = ask(client, analyst, live_camera, far_case).json()["override"]
    decide(client, supervisor, code)
    OverrideRequest.objects.filter(code=code).update(valid_until=timezone.now() - timedelta(seconds=1))
    assert "run out" in open_view(client, analyst, live_camera, far_case, code).json()["detail"]


def test_a_refusal_and_a_late_decision_open_nothing(client, live_camera, analyst, supervisor, far_case):
    code = ask(client, analyst, live_camera, far_case).json()["override"]
    page = decide(client, supervisor, code, "refuse", "Not enough to justify a residential view")
    assert "Refused: case 26-004512" in page.content.decode()
    assert open_view(client, analyst, live_camera, far_case, code).status_code == 403
    assert AccessEntry.objects.get(action="live.override_refused").reason == "Not enough to justify a residential view"

    late = ask(client, analyst, live_camera, far_case).json()["override"]
    OverrideRequest.objects.filter(code=late).update(decide_by=timezone.now() - timedelta(seconds=1))
    assert "has expired" in decide(client, supervisor, late).content.decode()
    assert OverrideRequest.objects.get(code=late).state == "expired"
    assert AccessEntry.objects.filter(action="live.refused", detail__refusal__icontains="expired").count() == 1


def test_nobody_decides_their_own_request_and_analysts_decide_none(client, live_camera, supervisor, analyst, far_case):
    trained(supervisor)
    own = ask(client, supervisor, live_camera, far_case).json()["override"]
    assert "needs a second person" in decide(client, supervisor, own).content.decode()
    assert OverrideRequest.objects.get(code=own).state == "pending"
    client.force_login(analyst)
    assert client.post(f"/live/overrides/{own}/decide/", {"decision": "approve", "reason": "x" * 20}).status_code == 403
    assert client.get("/live/overrides/").status_code == 403
    assert OverrideRequest.objects.get(code=own).state == "pending"


def test_an_analyst_sees_only_their_own_requests(client, live_camera, analyst, far_case):
    code = ask(client, analyst, live_camera, far_case).json()["override"]
    someone = trained(make_staff_named("analyst", "analyst2"))
    client.force_login(someone)
    assert client.get(f"/live/overrides/{code}.json").status_code == 404


def test_asking_needs_a_case_and_a_reason(client, live_camera, analyst, far_case):
    assert "at least 10" in ask(client, analyst, live_camera, far_case, reason="hurry").json()["detail"]
    client.force_login(analyst)
    nothing = client.post("/live/overrides/ask/", json.dumps({"camera": str(live_camera.code), "reason": WHY}),
                          content_type="application/json")
    assert nothing.status_code == 403 and "one case" in nothing.json()["detail"]
    far_case.status = "closed"
    far_case.save()
    assert "is closed" in ask(client, analyst, live_camera, far_case).json()["detail"]


def test_the_supervisors_dashboard_lists_what_waits(client, live_camera, analyst, supervisor, far_case):
    ask(client, analyst, live_camera, far_case)
    client.force_login(supervisor)
    page = client.get("/admin/").content.decode()
    assert "Override requests waiting for you" in page and "Case 26-004512: analyst asks" in page
    assert overrides.overrides_for_supervisor(supervisor).pending
