"""The camera registry as a public record: no owner's name, contact, address or camera label (labels often carry
names), no camera code that links back to a row, and every location moved to the centre of its grid cell
(CONNECT_RECORDS_GRID_M), so a pin no longer points at a house."""

import math
from collections.abc import Iterator

from django.conf import settings

from registry.models import Camera

COLUMNS = ["latitude", "longitude", "grid_m", "placement", "level", "status", "direction_deg", "field_of_view_deg",
           "range_m", "records", "registered_month"]
METRES_PER_DEGREE = 111_320


def coarsened(lat: float, lon: float, grid_m: int) -> tuple[float, float]:
    """The centre of the grid cell holding (lat, lon). Rows of cells are grid_m high; each row's cells are grid_m
    wide at that row's centre latitude, so cells stay square-ish away from the equator."""
    step_lat = grid_m / METRES_PER_DEGREE
    row = math.floor(lat / step_lat)
    centre_lat = (row + 0.5) * step_lat
    step_lon = grid_m / (METRES_PER_DEGREE * max(math.cos(math.radians(centre_lat)), 0.01))
    centre_lon = (math.floor(lon / step_lon) + 0.5) * step_lon
    return round(centre_lat, 5), round(centre_lon, 5)


def rows() -> Iterator[list]:
    """The header, then one row per registered camera (deleted ones are gone from the registry already)."""
    grid_m = settings.RECORDS_GRID_M
    yield COLUMNS
    cameras = (Camera.objects.order_by("pk")
               .values_list("location", "placement", "level", "status", "direction_deg", "field_of_view_deg",
                            "range_m", "records", "created_at"))
    for location, placement, level, status, direction, fov, range_m, records, created in cameras.iterator(2000):
        lat, lon = coarsened(location.y, location.x, grid_m)
        yield [lat, lon, grid_m, placement, level, status, direction, fov, range_m, records, created.strftime("%Y-%m")]
