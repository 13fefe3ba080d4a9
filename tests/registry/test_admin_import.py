import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from registry.models import Camera, Owner
from tests.registry.factories import OwnerFactory

pytestmark = pytest.mark.django_db

GOOD_CSV = """label,latitude,longitude,address,direction_deg,field_of_view_deg,range_m,level
Traffic cam Hillsborough & Oberlin,35.7870,-78.6620,Hillsborough St at Oberlin Rd,90,60,100,integrated
Park CCTV,35.7790,-78.6400,Moore Square,,,,
"""
BROKEN_CSV = GOOD_CSV + """Outside city,40.71,-74.00,New York,90,60,100,registered
Bad direction,35.78,-78.64,,400,60,100,registered
Bad level,35.78,-78.64,,10,60,100,famous
"""


@pytest.fixture
def agency():
    return OwnerFactory(kind=Owner.Kind.AGENCY, name="Raleigh Police Department")


@pytest.fixture
def admin_user_client(client, staff_user):
    client.force_login(staff_user("administrator"))
    return client


def upload(client, owner, name, content, skip=False):
    data = {"owner": owner.pk, "file": SimpleUploadedFile(name, content.encode())}
    if skip:
        data["skip_rejected"] = "on"
    return client.post("/admin/registry/camera/import/", data)


def test_csv_import_creates_active_verified_agency_cameras(admin_user_client, agency):
    response = upload(admin_user_client, agency, "cams.csv", GOOD_CSV)

    assert "Imported 2 of 2 cameras" in response.content.decode()
    traffic = Camera.objects.get(label__startswith="Traffic")
    assert (traffic.owner, traffic.status, traffic.verified, traffic.level) == (agency, "active", True, "integrated")
    assert Camera.objects.get(label="Park CCTV").field_of_view_deg == 360  # no direction given: all round


def test_broken_rows_are_reported_one_by_one_and_nothing_is_saved(admin_user_client, agency):
    response = upload(admin_user_client, agency, "cams.csv", BROKEN_CSV)
    page = response.content.decode()

    assert Camera.objects.count() == 0
    assert "Nothing was imported: 3 of 5 rows were rejected" in page
    assert "<td>3</td><td>latitude: This location is outside the area" in page
    assert "<td>4</td><td>direction_deg:" in page
    assert "<td>5</td><td>level must be one of" in page


def test_skipping_rejected_rows_imports_the_rest(admin_user_client, agency):
    response = upload(admin_user_client, agency, "cams.csv", BROKEN_CSV, skip=True)
    assert "Imported 2 of 5 cameras" in response.content.decode()
    assert Camera.objects.count() == 2


def test_geojson_import(admin_user_client, agency):
    collection = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [-78.64, 35.78]},
         "properties": {"label": "Transit stop camera", "direction_deg": 180}},
    ]}
    upload(admin_user_client, agency, "cams.geojson", json.dumps(collection))
    camera = Camera.objects.get()
    assert (camera.label, camera.direction_deg, round(camera.latitude, 2)) == ("Transit stop camera", 180, 35.78)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("cams.csv", "name,lat\nx,1\n", "needs a header row with at least label, latitude and longitude"),
        ("cams.geojson", "{not json", "not valid GeoJSON"),
        ("cams.geojson", '{"type": "Point"}', "must be a FeatureCollection"),
        ("cams.csv", "label,latitude,longitude\n", "no camera rows"),
    ],
)
def test_unreadable_files_get_a_message(admin_user_client, agency, name, content, message):
    response = upload(admin_user_client, agency, name, content)
    assert message in response.content.decode()
    assert Camera.objects.count() == 0


def test_binary_file_gets_a_message(admin_user_client, agency):
    data = {"owner": agency.pk, "file": SimpleUploadedFile("cams.csv", b"\xff\xfe\x00\x81garbage")}
    response = admin_user_client.post("/admin/registry/camera/import/", data)
    assert "must be UTF-8 text" in response.content.decode()


def test_import_only_for_agency_owners(admin_user_client):
    resident = OwnerFactory(kind=Owner.Kind.RESIDENT)
    response = upload(admin_user_client, resident, "cams.csv", GOOD_CSV)
    assert "Select a valid choice" in response.content.decode()
    assert Camera.objects.count() == 0


def test_camera_admin_shows_the_map_widget_and_filters(admin_user_client):
    from tests.registry.factories import CameraFactory

    camera = CameraFactory(label="Mapped")
    change = admin_user_client.get(f"/admin/registry/camera/{camera.pk}/change/").content.decode()
    assert "leaflet" in change.lower() and "Mapped" in change
    listing = admin_user_client.get("/admin/registry/camera/?owner__kind=resident&status=active&verified__exact=0")
    assert listing.status_code == 200 and "Mapped" in listing.content.decode()
    assert "Import agency cameras" in listing.content.decode()
