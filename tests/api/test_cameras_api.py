"""Cameras through the API: GeoJSON in a box, near a point (recorded like the map's search), one camera."""

import pytest
from django.contrib.gis.geos import Point
from django.http import QueryDict
from rest_framework.exceptions import ValidationError

from api import serializers
from api.views.cameras import _plain_nearby_params, nearby_params
from audit.models import AccessEntry
from tests.registry.factories import CameraFactory, OwnerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cameras():
    near = CameraFactory(label="Facing the square", location=Point(-78.6382, 35.7801, srid=4326),
                         direction_deg=180, range_m=80, address="1 Square")
    CameraFactory(label="Corner store", owner=OwnerFactory(kind="business"), level="integrated",
                  location=Point(-78.6375, 35.7790, srid=4326))
    CameraFactory(label="Far away", location=Point(-78.70, 35.85, srid=4326))
    CameraFactory(label="Paused", status="paused", location=Point(-78.6381, 35.7800, srid=4326))
    return near


def test_cameras_in_a_box_as_geojson(staff_client, cameras):
    response = staff_client("analyst").get("/api/v1/cameras/", {"bbox": "-78.65,35.77,-78.63,35.79"})
    assert response.status_code == 200 and response["Content-Type"] == "application/geo+json"
    body = response.json()
    assert body["type"] == "FeatureCollection" and not body["truncated"]
    assert sorted(f["properties"]["label"] for f in body["features"]) == ["Corner store", "Facing the square"]
    integrated = staff_client("supervisor").get("/api/v1/cameras/", {"level": "integrated"}).json()
    assert [f["properties"]["label"] for f in integrated["features"]] == ["Corner store"]


@pytest.mark.parametrize("params", [{"bbox": "1,2,3"}, {"bbox": "10,10,0,0"}, {"kind": "alien"}])
def test_bad_boxes_get_a_400(staff_client, params):
    response = staff_client("analyst").get("/api/v1/cameras/", params)
    assert response.status_code == 400 and response.json()


def test_nearby_lists_nearest_first_and_is_recorded(token_client, cameras):
    client = token_client("registry:read")
    response = client.get("/api/v1/cameras/nearby/", {"lat": 35.7796, "lng": -78.6382, "radius": 200,
                                                      "case": "26-000123"})
    assert response.status_code == 200
    features = response.json()["features"]
    assert [f["properties"]["label"] for f in features] == ["Facing the square", "Corner store"]
    assert features[0]["properties"]["covers"] is True
    entry = AccessEntry.objects.get(action="map.search")
    assert entry.actor_label.startswith("api:") and entry.case_number == "26-000123"
    assert entry.detail["results"] == 2


@pytest.mark.parametrize("params, field", [
    ({"lat": 40.7, "lng": -74.0}, "lat"),
    ({"lat": 35.78, "lng": -78.64, "radius": 99999}, "radius"),
    ({"lat": "x", "lng": -78.64}, "lat"),
    ({"lng": -78.64}, "lat"),
])
def test_bad_nearby_searches_get_a_400(staff_client, params, field):
    response = staff_client("investigator").get("/api/v1/cameras/nearby/", params)
    assert response.status_code == 400 and field in response.json()


def test_one_camera_without_owner_details_and_recorded(staff_client, cameras):
    response = staff_client("investigator").get(f"/api/v1/cameras/{cameras.code}/")
    assert response.status_code == 200
    body = response.json()
    assert body["properties"]["label"] == "Facing the square"
    assert "owner" not in body["properties"] and cameras.owner.email not in response.content.decode()
    assert AccessEntry.objects.filter(action="camera.viewed", camera_code=str(cameras.code)).exists()


def test_unknown_cameras_get_a_404(staff_client):
    client = staff_client("analyst")
    assert client.get("/api/v1/cameras/00000000-0000-0000-0000-000000000000/").status_code == 404
    assert client.get("/api/v1/cameras/nope/").status_code == 404


def test_staff_without_the_permission_and_strangers_are_refused(client, django_user_model, cameras):
    assert client.get("/api/v1/cameras/").status_code == 401
    nobody = django_user_model.objects.create_user("nobody", password="x" * 16, is_staff=True)
    client.force_login(nobody)
    assert client.get("/api/v1/cameras/").status_code == 403


@pytest.mark.parametrize("who", ["analyst", "investigator", "token"])
def test_a_paused_camera_is_not_found_and_not_recorded(staff_client, token_client, who):
    paused = CameraFactory(label="Paused porch", status="paused", address="7 Quiet Court")
    client = token_client("registry:read") if who == "token" else staff_client(who)
    response = client.get(f"/api/v1/cameras/{paused.code}/")
    assert response.status_code == 404
    assert "7 Quiet Court" not in response.content.decode() and "Paused porch" not in response.content.decode()
    assert not AccessEntry.objects.filter(action="camera.viewed").exists()


@pytest.mark.parametrize("who", ["analyst", "token"])
def test_a_camera_nobody_confirmed_is_not_found(staff_client, token_client, who):
    pending = CameraFactory(status="pending", owner=OwnerFactory(confirmed_at=None), address="8 Unknown Road")
    active_by_mistake = CameraFactory(owner=OwnerFactory(confirmed_at=None), address="9 Unknown Road")
    client = token_client("registry:read") if who == "token" else staff_client(who)
    for camera in (pending, active_by_mistake):
        response = client.get(f"/api/v1/cameras/{camera.code}/")
        assert response.status_code == 404 and "Unknown Road" not in response.content.decode()
    features = client.get("/api/v1/cameras/").json()["features"]
    assert all("Unknown" not in f["properties"]["label"] for f in features) and features == []


@pytest.mark.parametrize("path, params", [
    ("/api/v1/cameras/", {"bbox": "-78.65,35.77\x00,-78.63,35.79"}),
    ("/api/v1/cameras/", {"kind": "resident\x00"}),
    ("/api/v1/cameras/nearby/", {"lat": 35.78, "lng": -78.64, "case": "26-\x00123"}),
])
def test_a_nul_in_a_filter_gets_a_400_not_an_error(staff_client, path, params):
    response = staff_client("investigator").get(path, params)
    assert response.status_code == 400 and response.json()


PLAIN = ["lat=35.7796&lng=-78.6382", "lat=35.7796&lng=-78.6382&radius=200&case=26-000123",
         "lat=35&lng=-78&radius=2000", "lat=35.123456789012345&lng=-78.1&radius=1", "lat=-90&lng=180",
         "lat=90.0&lng=-180.0&case=A", "lat=1&lat=35.78&lng=-78.64", "lat=35.78&lng=-78.64&radius=300&radius=50",
         f"lat=35.78&lng=-78.64&case={'9' * 32}"]
# Valid or not, these go through the serializer.
OTHERS = ["lat=35.78&lng=-78.64&radius=2001", "lat=35.78&lng=-78.64&radius=0", "lat=35.78&lng=-78.64&radius=",
          "lat=35.78&lng=-78.64&radius=300.0", "lat=35.78&lng=-78.64&radius=-5", "lat=90.5&lng=-78.64",
          "lat=35.78&lng=-181", f"lat=35.78&lng=-78.64&case={'9' * 33}", "lat=35.78&lng=-78.64&case=", "lat=35.78",
          "lat=35.78&lng=-78.64&case=+26+", "lat=+35.78&lng=-78.64", "lat=3.5e1&lng=-78.64", "lat=nan&lng=-78.64",
          "lat=35.78&lng=-78.64&case=%00", "lat=.5&lng=-78.64", "lat=35.&lng=-78.64",
          "lat=35.78&lng=-78.64&radius=007"]


@pytest.mark.parametrize("query", PLAIN + OTHERS)
def test_plainly_written_searches_are_read_as_the_serializer_reads_them(query, settings):
    """The parameters of a plain search are read without the serializer (api.views.cameras._plain_nearby_params):
    what it reads, the serializer reads the same; what it does not read, the serializer judges."""
    settings.NEARBY_MAX_RADIUS_M = 2000
    data = QueryDict(query)
    serializer = serializers.NearbyQuery(data=data)
    plain = _plain_nearby_params(data)
    assert (plain is not None) == (query in PLAIN)
    if plain is not None:
        assert serializer.is_valid() and plain == dict(serializer.validated_data)
        assert [type(value) for value in plain.values()] == [type(serializer.validated_data[name]) for name in plain]


def test_a_plain_search_outside_the_service_area_is_still_refused():
    with pytest.raises(ValidationError, match="service area"):
        nearby_params(QueryDict("lat=40.7&lng=-74.0"))
