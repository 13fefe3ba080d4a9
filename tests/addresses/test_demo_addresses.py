"""The demo's generated Raleigh address set: the same every time, inside the service area, loaded once."""

import pytest
from django.core.management import call_command

from addresses.demo import DEMO_CITY, demo_addresses
from addresses.models import AddressPoint
from registry.selectors import in_service_area

pytestmark = pytest.mark.django_db


def test_the_set_is_deterministic_distinct_and_inside_the_service_area():
    rows = demo_addresses(3000)
    assert rows == demo_addresses(3000) and len(rows) == 3000
    assert len({row.address for row in rows}) == 3000
    assert all(in_service_area(latitude=row.lat, longitude=row.lng) for row in rows)
    assert rows[0].address.split(",")[0].split(" ", 1)[1] == "Fayetteville St"  # real main streets come first
    assert all(row.address.endswith(tuple(f"Raleigh 276{n:02d}" for n in range(1, 18))) for row in rows)


def test_seed_demo_loads_the_addresses_once_and_search_finds_them(client):
    call_command("seed_demo", residents=2, businesses=2, agency=1, addresses=500)
    call_command("seed_demo", residents=2, businesses=2, agency=1, addresses=900)
    assert AddressPoint.objects.filter(city=DEMO_CITY).count() == 500
    first = demo_addresses(1)[0]
    found = client.get("/addresses/search.json", {"q": first.address.split(",")[0]}).json()["results"]
    assert found[0]["address"] == first.address
