import csv
import io

import pytest

from audit.actions import Action
from audit.ledger import record
from audit.models import AccessEntry
from tests.conftest import make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def auditor_client(client):
    client.force_login(make_staff("auditor"))
    return client


def test_auditors_search_by_user_case_and_action_and_export_csv(auditor_client):
    detective = make_staff("investigator")
    record(actor=detective, action="clip.downloaded", case_number="26-000001", target_type="clip", target_code="c1")
    record(actor=detective, action="map.search", case_number="26-000002")
    record(actor=None, action="request.mailed", case_number="26-000001")

    page = auditor_client.get("/audit/?user=investigator&case=26-000001").content.decode()
    assert "<td>clip.downloaded</td>" in page and "<td>map.search</td>" not in page and "1 entry" in page

    response = auditor_client.get("/audit/?case=26-000001&format=csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:4] == ["seq", "at", "actor_label", "action"]
    assert sorted(r[3] for r in rows[1:]) == ["clip.downloaded", "request.mailed"]
    assert AccessEntry.objects.filter(action="ledger.exported", actor_label="auditor").exists()


@pytest.mark.parametrize(("query", "message"), [
    ("date_from=2026-05-01&date_to=2026-01-01", "“To” is before “From”"),
    ("date_from=2001-01-01&date_to=2026-01-01", "at most three years"),
    ("camera=not-a-uuid", "Enter a valid UUID"),
    ("date_from=yesterday", "Enter a valid date"),
])
def test_absurd_filters_get_a_clear_message(auditor_client, query, message):
    response = auditor_client.get(f"/audit/?{query}")
    assert response.status_code == 200 and message in response.content.decode()


@pytest.mark.parametrize("role", ["investigator", "analyst", "supervisor", "administrator"])
def test_only_auditors_search_the_ledger(client, role):
    client.force_login(make_staff(role))
    assert client.get("/audit/").status_code == 403


def test_anonymous_is_sent_to_sign_in(client):
    assert client.get("/audit/").status_code == 302


def test_the_transparency_report_is_public_and_suppresses_small_counts(client):
    for _ in range(7):
        record(actor=None, action="request.mailed", offense_type="Burglary", district="Downtown")
    for _ in range(3):
        record(actor=None, action="request.mailed", offense_type="Robbery", district="Northeast")
    for seconds in (3600, 7200, 10800, 14400, 18000):
        record(actor=None, action="request.answered", answer="uploaded", offense_type="Burglary",
               answer_seconds=seconds)
    record(actor=None, action="request.answered", answer="declined", offense_type="Robbery", answer_seconds=60)
    for kind in ["resident"] * 6 + ["business"]:
        record(actor="owner", action="camera.registered", kind=kind, level="registered")

    page = client.get("/transparency/").content.decode()
    assert "Footage requests sent</th><td>10" in page
    assert "Answered with clips</th><td>5" in page
    assert "Declined</th><td>fewer than 5" in page
    assert "residents 6, businesses fewer than 5, agency fewer than 5" in page
    assert "Robbery" not in page and "Northeast" not in page  # 3 requests: pooled, never named
    # 10 sent, 7 of them Downtown, would give the pooled 3 away: both are withheld
    assert "<td>other (groups with fewer than 5 requests and fewer than 5 live views)</td><td>withheld</td>" in page
    assert "<td>Downtown</td><td>withheld</td>" in page and "<td>Burglary</td><td>withheld</td>" in page
    assert "<td>7</td>" not in page
    assert "Median time to answer</th><td>2.5 hours" in page  # of all six answers
    assert "<svg" in page and "<rect" in page

    rows = list(csv.reader(io.StringIO(b"".join(client.get("/transparency/?format=csv").streaming_content)
                                        .decode())))
    assert [r for r in rows if r[1] == "requests_sent" and r[2] == ""][-1][4] == "10"
    assert not [r for r in rows if r[3] in ("Robbery", "Northeast")]
    assert [r for r in rows if r[1] == "requests_sent" and r[3] == "Downtown"][-1][4] == "withheld"


def test_no_footage_then_clips_counts_once_as_clips(client):
    """An owner who said "no footage" and shared clips later answered one request, with clips."""
    fields = {"offense_type": "Burglary", "district": "Downtown"}
    for n in range(8):
        record(actor=None, action="request.mailed", target_code=f"r{n}", **fields)
        record(actor=None, action="request.answered", target_code=f"r{n}", answer="no_footage", answer_seconds=60,
               **fields)
    for n in range(2):  # two of them found footage after all (the ledger entry names the answer it replaces)
        record(actor=None, action="request.answered", target_code=f"r{n}", answer="uploaded",
               earlier_answer="no_footage", **fields)
    for n in range(8, 13):
        record(actor=None, action="request.mailed", target_code=f"r{n}", **fields)
        record(actor=None, action="request.answered", target_code=f"r{n}", answer="uploaded", answer_seconds=60,
               **fields)

    page = client.get("/transparency/").content.decode()
    assert "Footage requests sent</th><td>13" in page
    assert "Answered with clips</th><td>7" in page
    assert "No footage</th><td>6" in page  # not 8: 6 + 7 answers for 13 requests
    assert "<td>Burglary</td><td>13</td><td>7</td><td>6</td>" in page


def test_live_views_minutes_and_overrides_are_given_by_offense_type_and_district(client):
    def live(offense_type, district, minutes, override=False):
        fields = {"offense_type": offense_type, "district": district}
        record(actor=None, action="live.ended", minutes=minutes, **fields)
        if override:
            record(actor=None, action="live.override", **fields)

    for _ in range(6):
        live("Robbery", "Downtown", 10, override=True)
    for _ in range(5):
        live("", "Harbor", 3)  # no incident: the owner allowed views without one
    live("Burglary", "Downtown", 7)

    page = client.get("/transparency/").content.decode()
    assert "Live viewing sessions</th><td>12 (82 minutes)" in page
    # By offense type: Robbery 6 views, 60 minutes, 6 overrides; views without an incident have their own row;
    # Burglary's single view is pooled, and both it and the smallest other group are withheld for each figure
    # whose total would give it away
    assert ("<td>Robbery</td><td>fewer than 5</td><td>fewer than 5</td><td>fewer than 5</td><td>fewer than 5</td>"
            "<td>fewer than 5</td><td>6</td><td>60</td><td>withheld</td>") in page
    assert ("<td>no incident (allowed by the owner)</td><td>fewer than 5</td><td>fewer than 5</td>"
            "<td>fewer than 5</td><td>fewer than 5</td><td>fewer than 5</td><td>withheld</td><td>15</td>") in page
    assert "<td>Burglary</td>" not in page

    rows = list(csv.reader(io.StringIO(b"".join(client.get("/transparency/?format=csv").streaming_content)
                                        .decode())))
    by_district = {(r[1], r[3]): r[4] for r in rows if r[2] == "district" and r[1] in ("live_sessions", "overrides")}
    assert by_district[("live_sessions", "Downtown")] == "7" and by_district[("live_sessions", "Harbor")] == "5"
    # Harbor's 0 overrides beside a total of 6 would be plain: both districts are withheld
    assert by_district[("overrides", "Downtown")] == by_district[("overrides", "Harbor")] == "withheld"


def test_the_weekly_review_reaches_auditors_with_the_unusual_access(smtp_sink, django_user_model):
    from audit.review import weekly_review_send

    auditor = make_staff("auditor")
    auditor.email = "auditor@police.example.org"
    auditor.save()
    supervisor = make_staff("supervisor")
    record(actor=supervisor, action="clip.downloaded", case_number="26-000009", assigned=False)
    record(actor=supervisor, action="clip.downloaded", case_number="26-000010", assigned=True)
    record(actor=supervisor, action="map.search", case_number="")

    assert weekly_review_send() == 1
    from tests.conftest import parsed_mail

    [message] = parsed_mail(smtp_sink)
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert message["To"] == "auditor@police.example.org"
    assert "not assigned to the case: 1" in text and "26-000009" in text and "26-000010" not in text
    assert "supervisor: 1" in text


def test_the_csv_detail_column_is_json(auditor_client):
    import json

    record(actor=None, action="map.search", case_number="26-000003",
           query="O'Neil \"Jr\"", radius_m=150, shared=True, incident=None)

    response = auditor_client.get("/audit/?case=26-000003&format=csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))

    assert json.loads(rows[0]["detail"]) == {"query": "O'Neil \"Jr\"", "radius_m": 150, "shared": True,
                                             "incident": None}


def test_csv_export_neutralises_formulas(client):
    record(actor="=HYPERLINK(\"https://evil.example\")", action=Action.SIGNIN_FAILED)
    client.force_login(make_staff("auditor"))
    body = b"".join(client.get("/audit/?action=signin&format=csv").streaming_content).decode()
    assert "'=HYPERLINK" in body and "\n=HYPERLINK" not in body.replace(",=", "\n=")
