"""Without JavaScript there is no map and no suggestion list: a camera sent with its street address and no
coordinates is placed at that address point, when exactly one names it; otherwise the person is told how."""

import pytest

from addresses.reading import AddressRow
from addresses.services import address_points_replace
from addresses.text import search_text
from registry.models import Camera
from tests.registry.test_registration import registration

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def points():
    address_points_replace(city="raleigh", rows=[
        AddressRow(address=f"{street}, Raleigh 27603", search_text=search_text(street), lat=lat, lng=lng)
        for street, lat, lng in [("1200 Fayetteville St", 35.7623, -78.6410), ("1202 Fayetteville St", 35.7625,
                                                                                -78.6410)]])


def without_point(address):
    return registration(camera_overrides={"latitude": "", "longitude": "", "address": address})


def test_a_street_address_alone_places_the_camera_at_its_address_point(client):
    response = client.post("/register/", without_point("1200 FAYETTEVILLE STREET, Raleigh NC"))
    assert response.status_code == 302
    camera = Camera.objects.get()
    assert camera.address == "1200 Fayetteville St, Raleigh 27603"
    assert (camera.latitude, camera.longitude) == (35.7623, -78.641)


@pytest.mark.parametrize(("address", "message"), [
    ("1201 Fayetteville St", "We could not find that street address. Check it, click the map, or type the latitude"),
    ("1200 Fayette", "We could not find that street address"),  # the start of one is not an address
    ("", "Place the camera: choose its street address from the list, click the map, or type its latitude"),
])
def test_an_address_that_names_no_point_is_refused_with_what_to_do_and_nothing_is_lost(client, address, message):
    response = client.post("/register/", without_point(address))
    page = response.content.decode()
    assert response.status_code == 200 and message in page
    assert 'value="Rita Resident"' in page and (not address or f'value="{address}"' in page)
    assert not Camera.objects.exists()


def test_coordinates_given_win_over_the_address(client):
    data = registration(camera_overrides={"address": "1200 Fayetteville St"})
    assert client.post("/register/", data).status_code == 302
    camera = Camera.objects.get()
    assert (camera.latitude, camera.longitude, camera.address) == (35.7796, -78.6382, "1200 Fayetteville St")
