"""The area a public request shows: the investigator's area (or the incident's radius) grown to whole cells of a
fixed grid of about CELL_M metres, so the public page says "these few blocks" and never where exactly.

The grid is fixed (not centred on anything), so the cells shown depend only on which cells the area touches;
one ring of cells more on each side keeps an area inside one cell from pointing at that cell's middle."""

import math

from django.contrib.gis.geos import Point, Polygon

CELL_M = 300
_M_PER_DEG_LAT = 111_320.0


def _steps(lat: float) -> tuple[float, float]:
    """The grid's cell size in degrees (lng, lat). The longitude step is fixed per whole degree of latitude, so
    nearby areas share one grid."""
    lat_step = CELL_M / _M_PER_DEG_LAT
    lng_step = CELL_M / (_M_PER_DEG_LAT * math.cos(math.radians(math.floor(lat) + 0.5)))
    return lng_step, lat_step


def circle(center: Point, radius_m: float, *, sides: int = 32) -> Polygon:
    """A polygon close to the circle of `radius_m` around `center` (lng/lat)."""
    dlat = radius_m / _M_PER_DEG_LAT
    dlng = radius_m / (_M_PER_DEG_LAT * math.cos(math.radians(center.y)))
    ring = [(center.x + dlng * math.cos(2 * math.pi * i / sides), center.y + dlat * math.sin(2 * math.pi * i / sides))
            for i in range(sides)]
    return Polygon([*ring, ring[0]], srid=4326)


def around(center: Point, radius_m: float) -> Polygon:
    """The public area of a circle: a fixed block of whole cells, ceil(radius / CELL_M) + 1 of them on each side of
    the cell holding `center`, so it depends only on that cell and the radius (never on where in the cell the centre
    is, which the edges of the circle's own extent would give away)."""
    lng_step, lat_step = _steps(center.y)
    band = math.floor(center.y)
    # A cell is a little narrower than CELL_M towards the pole side of the band: count that side's cells.
    stretch = math.cos(math.radians(band + 0.5)) / min(math.cos(math.radians(band)), math.cos(math.radians(band + 1)))
    kx, ky = math.ceil(radius_m * stretch / CELL_M) + 1, math.ceil(radius_m / CELL_M) + 1
    cx, cy = math.floor(center.x / lng_step), math.floor(center.y / lat_step)
    return _rectangle(cx - kx, cx + kx + 1, cy - ky, cy + ky + 1, lng_step, lat_step)


def _rectangle(x0: int, x1: int, y0: int, y1: int, lng_step: float, lat_step: float) -> Polygon:
    w, e, s, n = (round(v, 6) for v in (x0 * lng_step, x1 * lng_step, y0 * lat_step, y1 * lat_step))
    return Polygon(((w, s), (e, s), (e, n), (w, n), (w, s)), srid=4326)


def coarsened(area: Polygon) -> Polygon:
    """The rectangle of whole grid cells covering `area`, one more cell on each side."""
    west, south, east, north = area.extent
    lng_step, lat_step = _steps((south + north) / 2)
    x0 = math.floor(west / lng_step) - 1
    x1 = math.ceil(east / lng_step) + 1
    y0 = math.floor(south / lat_step) - 1
    y1 = math.ceil(north / lat_step) + 1
    return _rectangle(x0, x1, y0, y1, lng_step, lat_step)
