"""Vehicle location pushes officer positions; the map and the API show the newest per unit; floods get a 429;
old positions are purged."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone

from audit.models import AccessEntry
from dispatch.models import CallForService, OfficerPosition

pytestmark = pytest.mark.django_db

URL = "/api/v1/positions/"


@pytest.fixture(autouse=True)
def _clean_counters():
    cache.clear()


def fix(unit="A12", seconds_ago=0, **overrides):
    return {"unit": unit, "lat": 35.78, "lng": -78.64, "heading": 90, "speed": 40,
            "at": (timezone.now() - timedelta(seconds=seconds_ago)).isoformat(), **overrides}


@pytest.fixture
def avl(token_client):
    return token_client("positions:write")


def test_the_latest_position_per_unit_wins_even_when_reports_arrive_late(avl, staff_client):
    assert avl.post(URL, fix("A12", 10, lat=35.70), format="json").status_code == 202
    assert avl.post(URL, fix("A12", 2, lat=35.72), format="json").status_code == 202
    assert avl.post(URL, fix("A12", 5, lat=35.71), format="json").status_code == 202  # late
    assert avl.post(URL, fix("B7", 1), format="json").status_code == 202
    latest = staff_client("analyst").get(URL).json()
    assert {p["unit"]: round(p["lat"], 2) for p in latest} == {"A12": 35.72, "B7": 35.78}
    assert AccessEntry.objects.filter(action="positions.viewed").count() == 1


@pytest.mark.parametrize("body, field", [
    (fix(lat=40.0, lng=-75.0), "location"),
    (fix(heading=400), "heading"),
    (fix(heading="east"), "heading"),
    (fix(unit="A 12; drop"), "unit"),
    (fix(at="soon"), "at"),
    (fix(seconds_ago=-3600), "recorded_at"),
    (fix(seconds_ago=30 * 3600), "recorded_at"),
    ({"unit": "A12"}, "lat"),
])
def test_bad_positions_get_a_400_naming_the_field(avl, body, field):
    response = avl.post(URL, body, format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()


def test_a_flood_from_one_unit_gets_a_429(avl, settings):
    settings.POSITIONS_PER_UNIT_PER_MINUTE = 5
    codes = [avl.post(URL, fix("A12", i), format="json").status_code for i in range(8)]
    assert codes[:5] == [202] * 5 and codes[5:] == [429] * 3
    response = avl.post(URL, fix("A12"), format="json")
    assert "A12" in response.json()["detail"]
    assert avl.post(URL, fix("B7"), format="json").status_code == 202  # other units go on
    assert OfficerPosition.objects.count() == 6


def test_a_flood_from_one_token_gets_a_429(avl, settings):
    settings.API_REQUESTS_PER_MINUTE = 3
    codes = [avl.post(URL, fix(f"U{i}"), format="json").status_code for i in range(5)]
    assert codes == [202, 202, 202, 429, 429]


def test_reading_positions_needs_the_read_scope_or_role(token_client, staff_client, avl):
    assert avl.get(URL).status_code == 403
    assert token_client("dispatch:read").get(URL).status_code == 200
    assert staff_client("administrator").get(URL).status_code == 403
    assert staff_client("investigator").post(URL, fix(), format="json").status_code == 403


def test_old_positions_and_calls_are_purged(settings):
    settings.POSITIONS_KEEP_HOURS = 24
    now = timezone.now()
    from django.contrib.gis.geos import Point

    point = Point(-78.64, 35.78, srid=4326)
    OfficerPosition.objects.create(unit="A1", location=point, recorded_at=now - timedelta(hours=25))
    OfficerPosition.objects.create(unit="A1", location=point, recorded_at=now - timedelta(hours=1))
    CallForService.objects.create(dispatch_id="old", call_type="x", priority=3, location=point,
                                  received_at=now - timedelta(days=settings.CALLS_KEEP_DAYS + 1))
    CallForService.objects.create(dispatch_id="new", call_type="x", priority=3, location=point, received_at=now)
    call_command("purge_positions")
    call_command("purge_calls")
    assert OfficerPosition.objects.count() == 1
    assert list(CallForService.objects.values_list("dispatch_id", flat=True)) == ["new"]
    assert AccessEntry.objects.filter(action__in=["positions.purged", "calls.purged"]).count() == 2


def test_a_gateway_pushes_many_units_in_one_batch(avl, staff_client):
    batch = {"positions": [fix(f"U{i}", 1) for i in range(50)]}
    response = avl.post(f"{URL}batch/", batch, format="json")
    assert response.status_code == 202 and response.json() == {"accepted": 50}
    assert len(staff_client("analyst").get(URL).json()) == 50


def test_a_batch_is_all_or_nothing_and_names_the_bad_report(avl):
    batch = {"positions": [fix("U1"), fix("U2", lat=40.0, lng=-75.0)]}
    response = avl.post(f"{URL}batch/", batch, format="json")
    assert response.status_code == 400 and "positions[1]" in response.json()
    assert OfficerPosition.objects.count() == 0
    too_many = avl.post(f"{URL}batch/", {"positions": [fix(f"U{i}") for i in range(501)]}, format="json")
    assert too_many.status_code == 400
    assert avl.post(f"{URL}batch/", {"positions": []}, format="json").status_code == 400


def test_a_batch_counts_against_each_units_limit(avl, settings):
    settings.POSITIONS_PER_UNIT_PER_MINUTE = 2
    for _ in range(2):
        assert avl.post(f"{URL}batch/", {"positions": [fix("U1"), fix("U2")]}, format="json").status_code == 202
    response = avl.post(f"{URL}batch/", {"positions": [fix("U1"), fix("U3")]}, format="json")
    assert response.status_code == 429 and "U1" in response.json()["detail"]
