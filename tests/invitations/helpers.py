"""Shared set-up for invitation tests: an administrator, address points inside a drawn area, a CSV upload."""

from django.contrib.gis.geos import Point, Polygon
from django.core.files.uploadedfile import SimpleUploadedFile

from addresses.models import AddressPoint

# A few blocks of downtown Raleigh, inside the service area.
AREA = Polygon.from_bbox((-78.645, 35.775, -78.635, 35.785))
AREA.srid = 4326
AREA_GEOJSON = AREA.json


def address_points(count: int, *, inside: bool = True) -> list[AddressPoint]:
    base_lng = -78.640 if inside else -78.600
    return [AddressPoint.objects.create(city="raleigh", address=f"{100 + n} Test St, Raleigh 27601",
                                        search_text=f"{100 + n} test st",
                                        location=Point(base_lng + n * 0.0001, 35.780, srid=4326))
            for n in range(count)]


def csv_upload(text: str, name: str = "list.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def new_campaign(client, **fields):
    data = {"name": "Downtown spring", "channel": "email", "language": "en", "district": "", "area_geojson": ""}
    data.update(fields)
    return client.post("/invitations/new/", data)
