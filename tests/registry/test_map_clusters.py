"""The staff map's cameras in view: each camera when few are in view, else groups with the true count of every
camera (registry.models.CameraCell, kept by PostgreSQL triggers), one ledger entry per request either way."""

import gzip
import json

import pytest
from django.contrib.gis.geos import Point
from django.db import connection

from audit.actions import Action
from audit.models import AccessEntry
from registry import selectors
from registry.models import Camera, CameraCell, Owner
from tests.registry.factories import CameraFactory, OwnerFactory

pytestmark = pytest.mark.django_db

CITY = "bbox=-78.82,35.70,-78.47,35.97"
SPOTS = [(-78.64, 35.78), (-78.60, 35.80), (-78.70, 35.85), (-78.55, 35.75), (-78.75, 35.72)]


@pytest.fixture
def analyst_client(client, staff_user):
    client.force_login(staff_user("analyst"))
    return client


def spread(count: int, **fields) -> list[Camera]:
    return [CameraFactory(location=Point(*SPOTS[i % len(SPOTS)], srid=4326), **fields) for i in range(count)]


def counted(zoom: int = selectors.CELL_MIN_ZOOM, **filters) -> int:
    return sum(CameraCell.objects.filter(zoom=zoom, **filters).values_list("cameras", flat=True))


def cells_match_cameras() -> None:
    """Every zoom's squares hold exactly the staff-visible cameras, each in the square the selector computes."""
    visible = list(selectors.cameras_visible_to_staff().select_related("owner"))
    for zoom in range(selectors.CELL_MIN_ZOOM, selectors.CELL_MAX_ZOOM + 1):
        expected: dict = {}
        for camera in visible:
            key = (*selectors._square(camera.location.x, camera.location.y, zoom), camera.owner.kind, camera.level)
            expected[key] = expected.get(key, 0) + 1
        kept = {(c.x, c.y, c.kind, c.level): c.cameras for c in CameraCell.objects.filter(zoom=zoom) if c.cameras}
        assert kept == expected, f"zoom {zoom}"


def test_groups_count_every_camera_in_view_when_too_many_for_markers(analyst_client, settings):
    settings.MAP_CLUSTER_ABOVE = 3
    spread(9)
    spread(2, level=Camera.Level.INTEGRATED, owner=OwnerFactory(kind=Owner.Kind.BUSINESS))

    body = analyst_client.get(f"/map/cameras.json?{CITY}&zoom=11").json()

    assert body["mode"] == "clusters" and body["total"] == 11
    assert sum(c[2] for c in body["clusters"]) == 11 and sum(c[3] for c in body["clusters"]) == 2
    # Each group sits at the mean of its cameras, not at a square's corner.
    assert {(round(c[1], 4), round(c[0], 4)) for c in body["clusters"]} <= {(x, y) for x, y in SPOTS}
    assert "Owner Person" not in json.dumps(body)


def test_few_cameras_in_view_come_one_by_one_with_their_cones(analyst_client, settings):
    settings.MAP_CLUSTER_ABOVE = 3
    spread(3)
    body = analyst_client.get(f"/map/cameras.json?{CITY}&zoom=11").json()
    assert body["mode"] == "cameras" and len(body["cameras"]["features"]) == 3
    assert set(body["cameras"]["features"][0]["properties"]) == {"code", "label", "kind", "level", "dir", "fov",
                                                                 "range"}


def test_past_the_deepest_squares_the_map_gets_each_camera(analyst_client, settings):
    settings.MAP_CLUSTER_ABOVE = 0
    spread(2)
    assert analyst_client.get(f"/map/cameras.json?{CITY}&zoom=17").json()["mode"] == "cameras"
    assert analyst_client.get(f"/map/cameras.json?{CITY}&zoom=16").json()["mode"] == "clusters"


def test_groups_follow_the_layers(analyst_client, settings):
    settings.MAP_CLUSTER_ABOVE = 0
    spread(4)
    spread(3, owner=OwnerFactory(kind=Owner.Kind.BUSINESS))
    spread(2, level=Camera.Level.INTEGRATED, owner=OwnerFactory(kind=Owner.Kind.BUSINESS))

    def total(query):
        return analyst_client.get(f"/map/cameras.json?{CITY}&zoom=11&{query}").json()["total"]

    assert total("kind=business") == 5
    assert total("kind=business&level=registered") == 3
    assert total("kind=resident&kind=business&level=integrated") == 2


def test_groups_hold_only_the_view_at_that_zoom(analyst_client, settings):
    settings.MAP_CLUSTER_ABOVE = 0
    spread(5)  # one at each spot
    # Around the first spot only, at street zoom: the others are kilometres away.
    body = analyst_client.get("/map/cameras.json?bbox=-78.645,35.775,-78.635,35.785&zoom=15").json()
    assert body["total"] == 1


def test_paused_pending_and_unconfirmed_cameras_are_never_counted(analyst_client, settings):
    settings.MAP_CLUSTER_ABOVE = 0
    spread(2)
    spread(1, status=Camera.Status.PAUSED)
    spread(1, status=Camera.Status.PENDING)
    spread(1, owner=OwnerFactory(confirmed_at=None))
    spread(1, owner=OwnerFactory(kind=Owner.Kind.AGENCY, confirmed_at=None))  # agencies are confirmed by definition
    assert analyst_client.get(f"/map/cameras.json?{CITY}&zoom=11").json()["total"] == 3
    cells_match_cameras()


def test_counts_follow_every_change_to_cameras_and_owners():
    cameras = spread(6)
    owner = OwnerFactory(confirmed_at=None)
    hidden = spread(2, owner=owner)
    assert counted() == 6

    cameras[0].status = Camera.Status.PAUSED
    cameras[0].save()
    cameras[1].location = Point(-78.50, 35.95, srid=4326)  # moved across the city
    cameras[1].save()
    cameras[2].level = Camera.Level.INTEGRATED
    cameras[2].save()
    cameras[3].label = "renamed"  # counts nothing
    cameras[3].save()
    cameras[4].delete()
    assert counted() == 4 and counted(level=Camera.Level.INTEGRATED) == 1
    cells_match_cameras()

    owner.confirmed_at = hidden[0].created_at
    owner.save()  # confirming the owner shows their active cameras
    Owner.objects.filter(pk=owner.pk).update(kind=Owner.Kind.BUSINESS)
    assert counted() == 6 and counted(kind=Owner.Kind.BUSINESS) == 2
    Camera.objects.filter(pk__in=[c.pk for c in cameras]).update(status=Camera.Status.PAUSED)  # one statement
    assert counted() == 2
    cells_match_cameras()


def test_a_bulk_insert_and_a_truncate_keep_the_counts(transactional_db):
    owner = OwnerFactory()
    with connection.cursor() as cursor:
        cursor.execute("""
            INSERT INTO registry_camera (code, owner_id, label, location, address, placement, direction_deg,
                field_of_view_deg, range_m, records, retention_days, level, status, faces_public, verified,
                created_at, updated_at)
            SELECT gen_random_uuid(), %s, 'bulk ' || i,
                   ST_SetSRID(ST_MakePoint(-78.8 + i * 0.0003, 35.71 + i * 0.0002), 4326)::geography, '', 'outdoor',
                   0, 90, 30, true, 7, 'registered', 'active', true, false, now(), now()
            FROM generate_series(1, 1000) AS i""", [owner.pk])
    assert counted() == 1000
    cells_match_cameras()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE registry_camera CASCADE")
    assert counted() == 0


def test_one_ledger_entry_per_request_whichever_answer(analyst_client, settings):
    settings.MAP_CLUSTER_ABOVE = 3
    spread(9)
    before = AccessEntry.objects.filter(action=Action.MAP_VIEWED).count()
    analyst_client.get(f"/map/cameras.json?{CITY}&zoom=11")
    analyst_client.get("/map/cameras.json?bbox=-78.645,35.775,-78.635,35.785&zoom=17")
    entries = list(AccessEntry.objects.filter(action=Action.MAP_VIEWED).order_by("seq"))[before:]
    assert len(entries) == 2
    groups, each = entries[0].detail, entries[1].detail
    # Groups count whole squares, past the map's edges: the entry's box is the squares', holding the map's.
    assert groups["west"] <= -78.82 and groups["south"] <= 35.70 and groups["east"] >= -78.47
    assert groups["north"] >= 35.97
    assert (each["west"], each["south"], each["east"], each["north"]) == (-78.645, 35.775, -78.635, 35.785)


def test_a_camera_just_past_the_map_s_edge_counted_in_a_group_is_in_the_view_s_entry(analyst_client, settings):
    settings.MAP_CLUSTER_ABOVE = 0
    past_edge = CameraFactory(location=Point(-78.6352, 35.7800, srid=4326))  # 0.0002 deg east of the map
    body = analyst_client.get("/map/cameras.json?bbox=-78.645,35.775,-78.6354,35.785&zoom=14").json()
    assert body["total"] == 1  # its square reaches into the map
    box = AccessEntry.objects.filter(action=Action.MAP_VIEWED).latest("seq").detail
    assert box["west"] <= past_edge.location.x <= box["east"] and box["south"] <= past_edge.location.y <= box["north"]


def test_map_data_is_compressed_for_browsers_that_ask(analyst_client):
    spread(9)
    response = analyst_client.get(f"/map/cameras.json?{CITY}&zoom=11", HTTP_ACCEPT_ENCODING="gzip, br")
    assert response["Content-Encoding"] == "gzip"
    assert len(json.loads(gzip.decompress(response.content))["cameras"]["features"]) == 9
    assert "Content-Encoding" not in analyst_client.get(f"/map/cameras.json?{CITY}&zoom=11")


@pytest.mark.parametrize("query", [f"{CITY}", f"{CITY}&zoom=x", f"{CITY}&zoom=40", "bbox=1,2,3&zoom=11",
                                   f"{CITY}&zoom=11&level=secret"])
def test_bad_input_gets_a_400_that_says_what(analyst_client, query):
    response = analyst_client.get(f"/map/cameras.json?{query}")
    assert response.status_code == 400 and response.json()["detail"]


def test_only_staff_with_the_map_permission_get_counts(client, owner_a):
    spread(2)
    assert client.get(f"/map/cameras.json?{CITY}&zoom=11").status_code in (401, 403)
