"""Type-ahead address search and reverse lookup: what anyone may ask, what it answers (address and point only),
the rate limit for everyone but staff, and the ledger entry for every staff search."""

import pytest
from django.core.cache import cache

from addresses.reading import AddressRow
from addresses.services import address_points_replace
from addresses.text import search_text
from audit.models import AccessEntry
from tests.registry.factories import CameraFactory

pytestmark = pytest.mark.django_db

POINTS = [("1200 Fayetteville St", 35.7623, -78.6410), ("1202 Fayetteville St", 35.7625, -78.6410),
          ("12 Oak Ct", 35.8000, -78.6000), ("300 Glenwood Ave", 35.7900, -78.6500),
          ("300 Glenwood Ave #4", 35.7900, -78.6500), ("88 Lafayette Rd", 35.8100, -78.7000)]


@pytest.fixture(autouse=True)
def points():
    cache.clear()  # the rate limit counts per minute in the cache
    address_points_replace(city="raleigh", rows=[
        AddressRow(address=f"{street}, Raleigh", search_text=search_text(street), lat=lat, lng=lng)
        for street, lat, lng in POINTS])


def searched(client, q, **extra) -> list[str]:
    response = client.get("/addresses/search.json", {"q": q}, **extra)
    assert response.status_code == 200, response.content
    return [result["address"] for result in response.json()["results"]]


def test_addresses_starting_with_the_text_come_first_then_those_with_a_word_starting_with_it(client):
    assert searched(client, "1200 fay") == ["1200 Fayetteville St, Raleigh"]
    assert searched(client, "120") == ["1200 Fayetteville St, Raleigh", "1202 Fayetteville St, Raleigh"]
    # "Fayetteville Street" finds "Fayetteville St"; "Lafayette" has no word starting with "fayette".
    assert searched(client, "Fayetteville Street") == ["1200 Fayetteville St, Raleigh",
                                                       "1202 Fayetteville St, Raleigh"]
    assert searched(client, "fayette") == ["1200 Fayetteville St, Raleigh", "1202 Fayetteville St, Raleigh"]
    # An address before its units; the city after a comma is not needed to match.
    assert searched(client, "300 glenwood avenue, Raleigh NC") == ["300 Glenwood Ave, Raleigh",
                                                                  "300 Glenwood Ave #4, Raleigh"]
    assert searched(client, "zzz") == []


def test_the_answer_is_address_text_and_a_point_never_a_camera_or_its_owner(client):
    camera = CameraFactory(address="1200 Fayetteville St", label="Doorbell of the Smiths")
    body = client.get("/addresses/search.json", {"q": "1200 Fayetteville"}).json()
    assert body == {"results": [{"address": "1200 Fayetteville St, Raleigh", "lat": 35.7623, "lng": -78.641}]}
    near = client.get("/addresses/reverse.json", {"lat": camera.latitude, "lng": camera.longitude}).json()
    assert set(near) == {"result"} and (near["result"] is None or set(near["result"]) == {"address", "lat", "lng"})
    text = str(body) + str(near)
    assert "Smiths" not in text and str(camera.code) not in text and str(camera.owner.code) not in text


def test_fewer_than_three_characters_are_refused_with_a_message(client):
    response = client.get("/addresses/search.json", {"q": " 12 "})
    assert response.status_code == 400
    assert response.json()["detail"] == "Type at least 3 characters of the address."


def test_reverse_lookup_names_the_nearest_address_within_reach_and_nothing_farther(client):
    # About 20 m north of 12 Oak Ct.
    assert client.get("/addresses/reverse.json", {"lat": 35.80018, "lng": -78.6}).json() == {
        "result": {"address": "12 Oak Ct, Raleigh", "lat": 35.8, "lng": -78.6}}
    # About 300 m away from every point: a click in a field is not at an address.
    assert client.get("/addresses/reverse.json", {"lat": 35.8027, "lng": -78.6}).json() == {"result": None}
    assert client.get("/addresses/reverse.json", {"lat": "north", "lng": "1"}).status_code == 400


def test_anonymous_searches_are_rate_limited_per_address_and_staff_are_not(client, settings, staff_user):
    settings.RATE_LIMITS_ENABLED = True
    settings.ADDRESS_SEARCH_PER_MINUTE = 10
    for _ in range(10):
        assert client.get("/addresses/search.json", {"q": "oak"}).status_code == 200
    limited = client.get("/addresses/search.json", {"q": "oak"})
    assert limited.status_code == 429 and "Too many address searches" in limited.json()["detail"]
    assert client.get("/addresses/reverse.json", {"lat": 35.8, "lng": -78.6}).status_code == 429
    # Another address is counted apart.
    assert client.get("/addresses/search.json", {"q": "oak"}, REMOTE_ADDR="10.0.0.9").status_code == 200
    client.force_login(staff_user("investigator"))
    for _ in range(12):
        assert client.get("/addresses/search.json", {"q": "oak"}).status_code == 200


def test_every_staff_search_and_reverse_lookup_is_in_the_ledger_and_residents_are_not(client, staff_user):
    searched(client, "1200 fay")
    client.get("/addresses/reverse.json", {"lat": 35.8, "lng": -78.6})
    assert not AccessEntry.objects.filter(action="address.searched").exists()

    investigator = staff_user("investigator")
    client.force_login(investigator)
    client.get("/addresses/search.json", {"q": "1200 fay", "via": "map"})
    client.get("/addresses/reverse.json", {"lat": 35.8, "lng": -78.6, "via": "admin"})

    entries = list(AccessEntry.objects.filter(action="address.searched").order_by("seq"))
    assert [(e.actor_id, e.detail["results"]) for e in entries] == [(investigator.pk, 1), (investigator.pk, 1)]
    assert entries[0].detail["query"] == "1200 fay" and entries[0].detail["via"] == "map"
    assert entries[1].detail["reverse"] is True and entries[1].detail["lat"] == 35.8
    assert entries[0].owner_code == "" and entries[0].camera_code == ""  # nobody's data: no owner sees it


def test_the_staff_maps_address_search_goes_to_the_nearest_address_point(client, staff_user):
    client.force_login(staff_user("analyst"))
    body = client.get("/map/nearby.json", {"q": "12 Oak Court", "radius": 100}).json()
    assert body["center"] == {"lat": 35.8, "lng": -78.6}


@pytest.mark.parametrize("path", ["/register/", "/owner/cameras/add/"])
def test_every_camera_place_picker_offers_address_search_in_the_visitors_words(client, owner_a, path):
    from tests.conftest import sign_in_owner

    sign_in_owner(client, owner_a)
    html = client.get(path).content.decode()
    assert 'data-address="id_' in html  # the camera's own address field is the one that searches
    assert "addresses/js/address_search.js" in html and "addresses/js/camera_address.js" in html
    assert 'id="address-search-strings"' in html and "Use the map centre" in html
