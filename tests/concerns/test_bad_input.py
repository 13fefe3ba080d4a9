"""Bad input on the public form: a clear message, nothing lost, nothing kept from robots or floods."""

import pytest

from addresses.reading import AddressRow
from addresses.services import address_points_replace
from addresses.text import search_text
from concerns.models import Concern
from tests.concerns.helpers import FAR, FAR_ADDRESS, HOME, HOME_ADDRESS, concern_form

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("overrides, message", [
    ({"email": "not-an-email"}, "Enter a valid email address."),
    ({"text": ""}, "This field is required."),
    ({"text": "x" * 2001}, "at most 2000 characters"),
    ({"address": ""}, "This field is required."),
    ({"latitude": "", "longitude": "", "address": "99 Nowhere Lane"}, "We could not find that address."),
    ({"address": FAR_ADDRESS}, "outside the area"),
    # A spot sent with an address that is no address point is not taken on the browser's word.
    ({"address": "12 Elm St"}, "We could not find that address."),
])
def test_bad_input_says_what_is_wrong_and_keeps_what_was_typed(client, overrides, message):
    response = client.post("/concern/", concern_form(**overrides))
    text = response.content.decode()
    assert response.status_code == 200 and message in text
    assert "Please fix the marked fields" in text
    if "text" not in overrides:
        assert "looks into my window" in text  # the concern typed is kept
    assert not Concern.objects.exists()


def test_an_address_typed_without_javascript_is_looked_up(client):
    address_points_replace(city="raleigh", rows=[AddressRow(address="1200 Fayetteville St, Raleigh 27603",
                                                            search_text=search_text("1200 Fayetteville St"),
                                                            lat=35.7623, lng=-78.6410)])
    response = client.post("/concern/", concern_form(latitude="", longitude="", address="1200 Fayetteville St"))
    assert response.status_code == 302
    concern = Concern.objects.get()
    assert (round(concern.location.y, 4), concern.address) == (35.7623, "1200 Fayetteville St, Raleigh 27603")


def test_the_place_is_the_typed_address_point_never_the_browser_spot(client):
    # "14 Gamma Street" typed, another spot (outside the area even) in the hidden fields: the home is the address's
    # own point, so the cameras looked up and the mask held are those of the address staff and owners read.
    response = client.post("/concern/", concern_form(latitude=f"{FAR[0]}", longitude=f"{FAR[1]}",
                                                     address="14 gamma st"))
    assert response.status_code == 302
    concern = Concern.objects.get()
    assert (round(concern.location.y, 6), round(concern.location.x, 6)) == (round(HOME[0], 6), round(HOME[1], 6))
    assert concern.address == HOME_ADDRESS  # the looked-up text, not what was typed


def test_the_honeypot_keeps_nothing_and_tells_a_robot_nothing(client):
    response = client.post("/concern/", concern_form(website="http://spam.example"))
    assert response.status_code == 302 and response["Location"] == "/concern/sent/"
    assert not Concern.objects.exists()


def test_floods_are_rate_limited_per_address_and_per_email(client, settings):
    from django.core.cache import cache

    cache.clear()
    settings.RATE_LIMITS_ENABLED, settings.RATE_LIMIT_PER_EMAIL, settings.RATE_LIMIT_PER_ADDRESS = True, 2, 100
    codes = [client.post("/concern/", concern_form()).status_code for _ in range(3)]
    assert codes == [302, 302, 429]
    assert client.post("/concern/", concern_form(email="other@example.org")).status_code == 302
    settings.RATE_LIMIT_PER_ADDRESS = 1
    cache.clear()
    client.post("/concern/", concern_form(email="a@example.org"))
    limited = client.post("/concern/", concern_form(email="b@example.org"))
    assert limited.status_code == 429 and "Please wait a little" in limited.content.decode()
    cache.clear()


def test_a_bad_or_foreign_link_gets_its_own_page(client):
    assert client.get("/concern/confirm/garbage/").status_code == 410
    assert "not valid" in client.post("/concern/confirm/garbage/").content.decode()
    assert client.get("/owner/concerns/link/garbage/").status_code == 410
