"""The registry as a public record: no owner's data, coarse locations, and only for the records officer."""

import csv
import io

import pytest
from django.contrib.gis.geos import Point

from audit.actions import Action
from audit.models import AccessEntry
from records.registry_export import COARSER, COLUMNS, coarsened
from registry.models import Camera
from tests.registry.factories import CameraFactory

pytestmark = pytest.mark.django_db


def _rows(response) -> list[dict]:
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_the_export_holds_no_owners_data_and_coarse_locations(releasable, officer_client, owner_a, owner_b,
                                                               settings):
    settings.RECORDS_GRID_M, settings.RECORDS_MIN_CELL_CAMERAS = 500, 1
    Camera.objects.update(verified=True)
    response = officer_client.get("/records/registry.csv")
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    raw = b"".join(response.streaming_content).decode()
    for private in ("Alice", "Anderson", "alice@example.org", "919-555-0101", "Alpha Street", "Alice porch",
                    "Bob", "bob@example.org", "Beta Street", "Bob driveway",
                    str(owner_a.code), str(owner_a.cameras.get().code), str(owner_b.cameras.get().code)):
        assert private not in raw
    rows = list(csv.DictReader(io.StringIO(raw)))
    assert list(rows[0]) == COLUMNS and len(rows) == 2
    exact = owner_b.cameras.get().location
    lat, lon = float(rows[1]["latitude"]), float(rows[1]["longitude"])
    assert (lat, lon) != (exact.y, exact.x)
    assert abs(lat - exact.y) * 111_320 <= 250 + 1 and abs(lon - exact.x) * 111_320 * 0.82 <= 250 + 1
    entry = AccessEntry.objects.get(action=Action.RECORDS_REGISTRY_EXPORTED)
    assert entry.detail["grid_m"] == 500 and entry.owner_code == ""


def test_neighbours_in_one_cell_share_its_centre():
    a = coarsened(35.78001, -78.63901, 500)
    b = coarsened(35.78012, -78.63890, 500)
    assert a == b
    assert coarsened(35.78001, -78.63901, 5000) != a


def test_the_grid_setting_coarsens_further(releasable, officer_client, settings):
    CameraFactory(location=Point(-78.6390, 35.7800, srid=4326), verified=True)
    settings.RECORDS_GRID_M, settings.RECORDS_MIN_CELL_CAMERAS = 2000, 1
    [row] = _rows(officer_client.get("/records/registry.csv"))
    assert row["grid_m"] == "2000"
    assert (float(row["latitude"]), float(row["longitude"])) == coarsened(35.7800, -78.6390, 2000)


def _near(lat: float, lon: float, n: int, **fields) -> None:
    for i in range(n):
        CameraFactory(location=Point(lon + i * 0.00001, lat, srid=4326), verified=True, **fields)


def test_only_active_verified_cameras_are_released(releasable, officer_client, settings):
    settings.RECORDS_MIN_CELL_CAMERAS = 1
    _near(35.7800, -78.6390, 1)
    _near(35.7800, -78.6390, 1, status=Camera.Status.PENDING)
    _near(35.7800, -78.6390, 1, status=Camera.Status.PAUSED)
    CameraFactory(location=Point(-78.6390, 35.7800, srid=4326), verified=False)
    rows = _rows(officer_client.get("/records/registry.csv"))
    assert [row["status"] for row in rows] == ["active"]


def test_a_cell_with_fewer_than_k_cameras_is_coarsened_then_left_out(releasable, officer_client, settings):
    settings.RECORDS_GRID_M = 500  # k is 5 by default
    _near(35.7800, -78.6390, 5)  # a full cell: released at its centre
    _near(35.8800, -78.6390, 2)  # two homes alone in their cell and in the wider one: left out
    # Three and two in neighbouring 500 m cells of one 2 km cell: released at the 2 km cell's centre.
    wide = coarsened(35.6500, -78.5000, 500 * COARSER)
    step = 500 / 111_320
    _near(wide[0] - step * 0.5, wide[1], 3)
    _near(wide[0] + step * 0.5, wide[1], 2)
    rows = _rows(officer_client.get("/records/registry.csv"))
    places = {(float(row["latitude"]), float(row["longitude"]), int(row["grid_m"])) for row in rows}
    assert len(rows) == 10
    assert places == {(*coarsened(35.7800, -78.6390, 500), 500), (*wide, 500 * COARSER)}
    entry = AccessEntry.objects.get(action=Action.RECORDS_REGISTRY_EXPORTED)
    assert entry.detail["suppressed"] == 2 and entry.detail["min_cell_cameras"] == 5
