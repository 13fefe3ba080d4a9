"""The camera registry as a public record: no owner's name, contact, address or camera label (labels often carry
names), no camera code that links back to a row, and every location moved to the centre of its grid cell
(CONNECT_RECORDS_GRID_M), so a pin no longer points at a house.

Only active, verified cameras of confirmed owners are released (a pending or paused camera is not part of the
program). And no cell may single out a few homes: a cell with fewer than CONNECT_RECORDS_MIN_CELL_CAMERAS cameras
is merged into a cell COARSER times as wide; a coarse cell still under that count is left out, and the export's
ledger entry says how many cameras were left out."""

import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings

from registry.selectors import cameras_visible_to_staff

COLUMNS = ["latitude", "longitude", "grid_m", "placement", "level", "status", "direction_deg", "field_of_view_deg",
           "range_m", "records", "registered_month"]
METRES_PER_DEGREE = 111_320
COARSER = 4  # a sparse cell's cameras are given at the centre of a cell this many times as wide


def coarsened(lat: float, lon: float, grid_m: int) -> tuple[float, float]:
    """The centre of the grid cell holding (lat, lon). Rows of cells are grid_m high; each row's cells are grid_m
    wide at that row's centre latitude, so cells stay square-ish away from the equator."""
    step_lat = grid_m / METRES_PER_DEGREE
    row = math.floor(lat / step_lat)
    centre_lat = (row + 0.5) * step_lat
    step_lon = grid_m / (METRES_PER_DEGREE * max(math.cos(math.radians(centre_lat)), 0.01))
    centre_lon = (math.floor(lon / step_lon) + 0.5) * step_lon
    return round(centre_lat, 5), round(centre_lon, 5)


def releasable_cameras():
    """Active, verified cameras of confirmed owners (or the city's own), oldest first."""
    return cameras_visible_to_staff().filter(verified=True).order_by("pk")


@dataclass
class Cells:
    """How many releasable cameras each fine and each coarse cell holds: the first of the export's two passes."""
    grid_m: int
    k: int
    fine: Counter
    coarse: Counter

    def placed(self, lat: float, lon: float) -> tuple[float, float, int] | None:
        """Where a camera is released (cell centre and its width), or None when its area holds too few."""
        cell = coarsened(lat, lon, self.grid_m)
        if self.fine[cell] >= self.k:
            return (*cell, self.grid_m)
        wide = coarsened(lat, lon, self.grid_m * COARSER)
        if self.coarse[wide] >= self.k:
            return (*wide, self.grid_m * COARSER)
        return None


def cells() -> Cells:
    grid_m, k = settings.RECORDS_GRID_M, settings.RECORDS_MIN_CELL_CAMERAS
    fine, coarse = Counter(), Counter()
    for (location,) in releasable_cameras().values_list("location").iterator(2000):
        fine[coarsened(location.y, location.x, grid_m)] += 1
    # A camera goes to the coarse cell only when its fine cell is sparse: count those there.
    for (location,) in releasable_cameras().values_list("location").iterator(2000):
        if fine[coarsened(location.y, location.x, grid_m)] < k:
            coarse[coarsened(location.y, location.x, grid_m * COARSER)] += 1
    return Cells(grid_m=grid_m, k=k, fine=fine, coarse=coarse)


def suppressed(counted: Cells) -> int:
    """How many releasable cameras the export leaves out (their area holds too few)."""
    return sum(count for count in counted.coarse.values() if count < counted.k)


def rows(counted: Cells | None = None) -> Iterator[list]:
    """The header, then one row per released camera, at the centre of a cell holding at least k of them."""
    counted = counted or cells()
    yield COLUMNS
    cameras = releasable_cameras().values_list("location", "placement", "level", "status", "direction_deg",
                                               "field_of_view_deg", "range_m", "records", "created_at")
    for location, placement, level, status, direction, fov, range_m, records, created in cameras.iterator(2000):
        placed = counted.placed(location.y, location.x)
        if placed is None:
            continue
        lat, lon, grid_m = placed
        yield [lat, lon, grid_m, placement, level, status, direction, fov, range_m, records, created.strftime("%Y-%m")]
