"""/admin/ opens on each role's work (issue 16, item 4): each role sees its own panels and no other role's, an
investigator only their own cases, police never who declined, and no panel shows an owner's details."""

import re
from datetime import timedelta
from html import unescape

import pytest
from django.utils import timezone

from accounts.models import AccountLock
from integration.models import LiveSession, TrainingRecord
from requests_app.models import FootageRequest
from requests_app.services import incident_investigators_set
from tests.conftest import make_staff, make_staff_named
from tests.requests_app.factories import IncidentFactory

pytestmark = pytest.mark.django_db


def dashboard(client, user) -> dict[str, dict[str, list[str]]]:
    """{role: {panel title: [row texts]}} as the page shows them."""
    client.force_login(user)
    page = client.get("/admin/").content.decode()
    assert "Site administration" in page or "connect: staff" in page
    found = {}
    for role, body in re.findall(r'<section class="dashboard-role"[^>]*>\s*<h2[^>]*>(.*?)</h2>(.*?)</section>',
                                 page, re.S):
        found[role] = {unescape(title): [" ".join(unescape(re.sub(r"<[^>]+>", " ", row)).split())
                                         for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S)]
                       for title, table in re.findall(r"<caption>(.*?)</caption>(.*?)</table>", body, re.S)}
    return found


def request(incident, state, n=1, **fields):
    for i in range(n):
        FootageRequest.objects.create(incident=incident, camera_label=f"cam {state} {i}", state=state,
                                      nonce=f"{incident.pk}-{state}-{i}", sent_at=timezone.now(),
                                      expires_at=timezone.now() + timedelta(days=5), **fields)


def test_an_investigator_sees_their_own_cases_and_never_who_declined(client, owner_a):
    mine, theirs = make_staff("investigator"), make_staff_named("investigator", "other-investigator")
    case = IncidentFactory(case_number="26-004512")
    incident_investigators_set(incident=case, users=[mine])
    incident_investigators_set(incident=IncidentFactory(case_number="26-000777"), users=[theirs])
    request(case, FootageRequest.State.UPLOADED, 2)
    request(case, FootageRequest.State.DECLINED, 3)
    request(case, FootageRequest.State.SENT, 1)
    shown = dashboard(client, mine)
    assert list(shown) == ["Investigator"]
    (row,) = shown["Investigator"]["My open cases"]
    assert "26-004512" in row and "6 requests: 2 shared clips, 0 no footage, 4 waiting" in row
    assert "declin" not in str(shown).lower()
    assert "26-000777" not in str(dashboard(client, mine))
    assert "Alice" not in str(shown) and owner_a.email not in str(shown)


def test_an_analyst_sees_live_views_and_training_expiry_not_cases(client, owner_a):
    analyst = make_staff("analyst")
    TrainingRecord.objects.create(user=analyst, completed_on=timezone.localdate() - timedelta(days=350), hours=4)
    LiveSession.objects.create(analyst=analyst, camera=owner_a.cameras.get(), reason="robbery in progress",
                               ends_by=timezone.now() + timedelta(minutes=20))
    IncidentFactory(case_number="26-004512")
    shown = dashboard(client, analyst)
    assert list(shown) == ["Crime analyst"]
    (training,) = shown["Crime analyst"]["My training"]
    assert "valid until" in training and "(15 days)" in training
    (view,) = shown["Crime analyst"]["My live views"]
    assert view.startswith("Camera view for no case") and "open until" in view
    assert "26-004512" not in str(shown)


def test_a_supervisor_sees_overrides_and_quiet_cases(client, owner_a):
    supervisor, analyst = make_staff("supervisor"), make_staff("analyst")
    LiveSession.objects.create(analyst=analyst, camera=owner_a.cameras.get(), reason="shots fired",
                               override_reason="shots fired, no incident entered yet",
                               ends_by=timezone.now() + timedelta(minutes=20))
    quiet = IncidentFactory(case_number="26-000100")
    quiet.__class__.objects.filter(pk=quiet.pk).update(created_at=timezone.now() - timedelta(days=30))
    busy = IncidentFactory(case_number="26-000200")
    busy.__class__.objects.filter(pk=busy.pk).update(created_at=timezone.now() - timedelta(days=30))
    request(busy, FootageRequest.State.SENT)
    shown = dashboard(client, supervisor)["Supervisor"]
    assert ["analyst: shots fired, no incident entered yet" in row for row in shown["Overrides this week"]] == [True]
    quiet_rows = shown["Open cases without activity for 14 days"]
    assert any("26-000100" in row for row in quiet_rows) and not any("26-000200" in row for row in quiet_rows)


def test_an_auditor_sees_unusual_access_and_the_chain_head(client):
    from audit.ledger import record

    record(actor=None, action="account.locked", target_type="user", target_code="x")
    shown = dashboard(client, make_staff("auditor"))
    assert list(shown) == ["Auditor"]
    assert "Accounts locked 1" in shown["Auditor"]["This week's unusual access"]
    assert any(row.startswith("Newest entry #") for row in shown["Auditor"]["The ledger"])


def test_an_administrator_sees_locks_failed_sends_and_services(client):
    AccountLock.objects.create(username="investigator", reason="10 failed sign-ins")
    request(IncidentFactory(case_number="26-000300"), FootageRequest.State.FAILED, 2)
    shown = dashboard(client, make_staff("administrator"))
    assert list(shown) == ["Administrator"]
    panels = shown["Administrator"]
    assert panels["Locked accounts"] == ["investigator 10 failed sign-ins"]
    assert panels["Footage requests that failed to send this week"] == ["Case 26-000300 2 requests failed to send"]
    assert any(row.startswith("Evidence store") for row in panels["Services"])


def test_the_dashboard_is_for_staff_only(client):
    response = client.get("/admin/")
    assert response.status_code == 302 and "/login/" in response["Location"]
