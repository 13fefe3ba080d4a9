"""What auditors read in /audit/: times in the program's time zone, named and with their UTC offset, and date
filters that mean that day in the same zone (they said "UTC" over local times, and filtered by UTC days)."""

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from audit.ledger import record
from tests.conftest import make_staff

pytestmark = pytest.mark.django_db

# 23:30 on 9 March in Raleigh (daylight saving time began on the 8th): already the 10th in UTC.
LATE_EVENING = datetime(2026, 3, 10, 3, 30, tzinfo=UTC)


@pytest.fixture
def late_evening_entry(settings, monkeypatch):
    settings.TIME_ZONE = "America/New_York"
    with monkeypatch.context() as clock:
        clock.setattr(timezone, "now", lambda: LATE_EVENING)
        record(actor=None, action="map.search", case_number="26-000777")


@pytest.fixture
def auditor_client(client):
    client.force_login(make_staff("auditor"))
    return client


def test_the_ledger_shows_local_times_with_the_zone_and_offset(auditor_client, late_evening_entry):
    page = auditor_client.get("/audit/?case=26-000777").content.decode()

    assert "<td>2026-03-09 23:30:00 EDT (UTC-04:00)</td>" in page
    assert "America/New_York" in page
    assert "UTC)" not in page and "Times\nare UTC" not in page


@pytest.mark.parametrize(("days", "found"), [
    ("date_from=2026-03-09&date_to=2026-03-09", True),
    ("date_to=2026-03-09", True),
    ("date_from=2026-03-10", False),
])
def test_a_date_filter_means_that_day_in_the_programs_zone(auditor_client, late_evening_entry, days, found):
    page = auditor_client.get(f"/audit/?case=26-000777&{days}").content.decode()

    assert ("<td>map.search</td>" in page) == found


def test_the_date_fields_name_the_zone(auditor_client, settings):
    settings.TIME_ZONE = "America/Chicago"
    page = auditor_client.get("/audit/").content.decode()

    assert "From (America/Chicago)" in page and "To (America/Chicago, inclusive)" in page
