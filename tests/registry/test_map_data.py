import json

import pytest
from django.contrib.gis.geos import Point

from registry.models import Camera, Owner
from tests.registry.factories import CameraFactory, OwnerFactory

pytestmark = pytest.mark.django_db

# A point downtown and offsets in degrees (~111 m per 0.001 deg latitude).
LAT, LNG = 35.7796, -78.6382


@pytest.fixture
def analyst_client(client, staff_user):
    client.force_login(staff_user("analyst"))
    return client


def at(north_m: float = 0, east_m: float = 0) -> Point:
    return Point(LNG + east_m / 90_300, LAT + north_m / 111_000, srid=4326)


def test_nearby_lists_cameras_within_radius_nearest_first_and_marks_those_facing_the_point(analyst_client):
    # 50 m north of the point, facing south (180): it sees the point.
    CameraFactory(label="facing", location=at(north_m=50), direction_deg=180, range_m=60)
    # 20 m north, facing north: closer but looking away.
    CameraFactory(label="away", location=at(north_m=20), direction_deg=0, range_m=60)
    # 100 m east facing west but its range is only 30 m.
    CameraFactory(label="short", location=at(east_m=100), direction_deg=270, range_m=30)
    CameraFactory(label="far", location=at(north_m=900))
    CameraFactory(label="paused", location=at(north_m=10), status=Camera.Status.PAUSED)
    CameraFactory(label="pending", location=at(north_m=10), status=Camera.Status.PENDING)

    body = analyst_client.get(f"/map/nearby.json?lat={LAT}&lng={LNG}&radius=500").json()

    assert [c["label"] for c in body["cameras"]] == ["away", "facing", "short"]
    assert {c["label"]: c["covers"] for c in body["cameras"]} == {"away": False, "facing": True, "short": False}
    assert 45 < body["cameras"][1]["distance_m"] < 55


def test_a_360_degree_camera_covers_every_direction_within_range(analyst_client):
    CameraFactory(label="dome", location=at(east_m=25), direction_deg=0, field_of_view_deg=360, range_m=30)
    body = analyst_client.get(f"/map/nearby.json?lat={LAT}&lng={LNG}&radius=100").json()
    assert body["cameras"][0]["covers"] is True


def test_nearby_by_registered_address(analyst_client):
    CameraFactory(label="shop", address="417 Fayetteville St, Raleigh", location=at(north_m=5))
    body = analyst_client.get("/map/nearby.json?q=417 fayetteville&radius=100").json()
    assert [c["label"] for c in body["cameras"]] == ["shop"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("lat=35.7&lng=-78.6&radius=99999", "radius must be between"),
        ("lat=35.7&lng=-78.6&radius=abc", "radius must be a whole number"),
        ("lat=north&lng=-78.6", "Give lat and lng"),
        ("lat=135&lng=-78.6", "Give lat and lng"),
    ],
)
def test_nearby_bad_input_gets_a_400_with_a_message(analyst_client, query, message):
    response = analyst_client.get(f"/map/nearby.json?{query}")
    assert response.status_code == 400 and message in response.json()["detail"]


def test_unknown_address_is_a_404_with_a_message(analyst_client):
    response = analyst_client.get("/map/nearby.json?q=nowhere road 99&radius=100")
    assert response.status_code == 404 and "No registered address" in response.json()["detail"]


def test_viewport_geojson_holds_active_cameras_in_the_box_with_cone_properties(analyst_client):
    inside = CameraFactory(label="inside", direction_deg=45, field_of_view_deg=120, range_m=40)
    CameraFactory(label="outside", location=Point(-78.50, 35.90, srid=4326))
    CameraFactory(label="paused", status=Camera.Status.PAUSED)

    response = analyst_client.get("/map/cameras.geojson?bbox=-78.65,35.77,-78.62,35.79")

    assert response["Content-Type"] == "application/geo+json"
    data = json.loads(response.content)
    assert data["type"] == "FeatureCollection" and data["truncated"] is False
    [feature] = data["features"]
    assert feature["properties"] == {"code": str(inside.code), "label": "inside", "kind": "resident",
                                     "level": "registered", "dir": 45, "fov": 120, "range": 40}
    assert feature["geometry"]["coordinates"] == [pytest.approx(LNG), pytest.approx(LAT)]
    # Nothing personal travels to the map.
    assert "Owner Person" not in response.content.decode() and "@" not in response.content.decode()


def test_viewport_filters_by_layer(analyst_client):
    CameraFactory(label="home")
    CameraFactory(label="shop", owner=OwnerFactory(kind=Owner.Kind.BUSINESS), level=Camera.Level.INTEGRATED)
    bbox = "bbox=-78.65,35.77,-78.62,35.79"

    def labels(query):
        return {f["properties"]["label"] for f in analyst_client.get(f"/map/cameras.geojson?{bbox}&{query}").json()[
            "features"]}

    assert labels("kind=business") == {"shop"}
    assert labels("level=registered") == {"home"}
    assert labels("kind=resident&kind=business") == {"home", "shop"}


def test_viewport_is_capped_and_says_so(analyst_client, settings):
    settings.MAP_MAX_FEATURES = 3
    for _ in range(5):
        CameraFactory()
    data = analyst_client.get("/map/cameras.geojson?bbox=-78.65,35.77,-78.62,35.79").json()
    assert len(data["features"]) == 3 and data["truncated"] is True


@pytest.mark.parametrize("query", ["", "bbox=1,2,3", "bbox=-78,36,-79,35", "bbox=a,b,c,d",
                                   "bbox=-79,35,-78,36&kind=alien"])
def test_viewport_bad_input_gets_a_400(analyst_client, query):
    response = analyst_client.get(f"/map/cameras.geojson?{query}")
    assert response.status_code == 400 and response.json()["detail"]


def test_viewport_holds_nothing_beyond_its_east_and_west_edges(analyst_client):
    # Geography boxes are geocentric and bulge past a flat box's sides; the map must not count those.
    CameraFactory(label="inside")
    CameraFactory(label="just east", location=Point(-78.6195, 35.7796, srid=4326))
    CameraFactory(label="just west", location=Point(-78.6505, 35.7796, srid=4326))
    data = analyst_client.get("/map/cameras.geojson?bbox=-78.65,35.77,-78.62,35.79").json()
    assert [f["properties"]["label"] for f in data["features"]] == ["inside"]


def test_nearby_never_reads_owner_contact_details(analyst_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    CameraFactory(label="porch")
    with CaptureQueriesContext(connection) as queries:
        analyst_client.get(f"/map/nearby.json?lat={LAT}&lng={LNG}&radius=100")
    search = [q["sql"] for q in queries if "ST_DWithin" in q["sql"]]
    assert len(search) == 1
    assert "o.email" not in search[0] and "o.phone" not in search[0] and "o.name" not in search[0]


def test_nearby_says_when_the_list_is_cut(analyst_client, monkeypatch):
    monkeypatch.setattr("registry.views.staff_map.NEARBY_LIMIT", 2)
    for _ in range(3):
        CameraFactory()
    body = analyst_client.get(f"/map/nearby.json?lat={LAT}&lng={LNG}&radius=100").json()
    assert body["truncated"] is True and len(body["cameras"]) == 2


def test_a_nul_in_the_address_search_gets_a_clear_400(analyst_client):
    CameraFactory(address="500 Main Street")
    response = analyst_client.get("/map/nearby.json", {"q": "500 Main\x00 Street", "radius": "300"})
    assert response.status_code == 400
    assert "NUL character" in response.json()["detail"]


def test_a_camera_of_an_unconfirmed_owner_is_never_on_the_map(analyst_client):
    # Active by mistake (a staff edit, an old import): the owner never confirmed, so staff must not see it.
    CameraFactory(label="unconfirmed", location=at(north_m=20), owner=OwnerFactory(confirmed_at=None),
                  address="9 Hidden Lane")
    CameraFactory(label="agency pole", location=at(north_m=30), owner=OwnerFactory(kind="agency", confirmed_at=None))

    near = analyst_client.get(f"/map/nearby.json?lat={LAT}&lng={LNG}&radius=500").json()
    box = analyst_client.get("/map/cameras.geojson?bbox=-78.65,35.77,-78.63,35.79").json()
    by_address = analyst_client.get("/map/nearby.json", {"q": "9 Hidden Lane"})

    assert [c["label"] for c in near["cameras"]] == ["agency pole"]  # agency cameras are confirmed by definition
    assert [f["properties"]["label"] for f in box["features"]] == ["agency pole"]
    assert by_address.status_code == 404


def test_the_map_cannot_locate_a_paused_camera_by_address(analyst_client):
    CameraFactory(label="Hidden", address="77 Paused Road", status=Camera.Status.PAUSED)
    assert analyst_client.get("/map/nearby.json?q=77 Paused Road&radius=100").status_code == 404
