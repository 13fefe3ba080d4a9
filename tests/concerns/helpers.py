"""What the concern tests share: a neighbour's home in Alice's camera's view, and the steps of the flow."""

import math

from addresses.reading import AddressRow
from addresses.services import address_points_replace
from addresses.text import search_text
from concerns import services
from concerns.models import Concern
from tests.conftest import make_staff
from tests.registry.factories import DOWNTOWN

# Alice's camera (tests/conftest.py owner_a) stands downtown facing east (90°, field of view 90°, range 30 m):
# this home is 20 m east of it. Bob's camera is some 100 m away and sees nothing of it.
HOME = (DOWNTOWN[0], DOWNTOWN[1] + 20 / (111_320 * math.cos(math.radians(DOWNTOWN[0]))))
HOME_ADDRESS = "14 Gamma Street, Raleigh, NC"
FAR_ADDRESS = "1 Broadway, New York, NY"  # an address point outside the service area
FAR = (40.7128, -74.0060)


def address_points_place() -> None:
    """The address points the form looks the typed address up in (it never trusts the browser's spot)."""
    address_points_replace(city="concern-tests", rows=[
        AddressRow(address=address, search_text=search_text(address.split(",")[0]), lat=lat, lng=lng)
        for address, (lat, lng) in ((HOME_ADDRESS, HOME), (FAR_ADDRESS, FAR))])


def concern_form(**overrides) -> dict:
    address_points_place()
    data = {"address": HOME_ADDRESS, "latitude": f"{HOME[0]:.7f}", "longitude": f"{HOME[1]:.7f}",
            "email": "nina@example.org", "text": "A camera across the street looks into my window.", "website": ""}
    data.update(overrides)
    return data


def confirmed_concern(*, lat=HOME[0], lng=HOME[1]) -> Concern:
    concern = services.concern_submit(email="nina@example.org", address=HOME_ADDRESS, latitude=lat, longitude=lng,
                                      text="Is a camera watching my home?", language="en")
    Concern.objects.filter(pk=concern.pk).update(state=Concern.State.OPEN)
    concern.refresh_from_db()
    return concern


def supervisor():
    from django.contrib.auth.models import User

    return User.objects.filter(username="supervisor").first() or make_staff("supervisor")
