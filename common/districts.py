"""Police districts, for the transparency report: a GeoJSON FeatureCollection of polygons with a `name`.

The demo ships invented boundaries (connect/data/demo-districts.geojson); an agency points
CONNECT_DISTRICTS at its own file. Points in no district count as "outside the districts".
"""

import json
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry, Point
from django.core.exceptions import ImproperlyConfigured

OUTSIDE = "outside the districts"


@lru_cache(maxsize=4)
def _load(path: str) -> tuple[tuple[str, GEOSGeometry], ...]:
    if not path:
        return ()
    try:
        data = json.loads(Path(path).read_text())
        return tuple((str(f["properties"]["name"]), GEOSGeometry(json.dumps(f["geometry"]), srid=4326))
                     for f in data["features"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ImproperlyConfigured(f"CONNECT_DISTRICTS: cannot read districts from {path}: {exc}") from None


OUTLINE_TOLERANCE_DEG = 0.0001  # about 10 m: a city's surveyed boundaries would weigh down every map page


@lru_cache(maxsize=4)
def _outlines(path: str) -> dict:
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": name},
         "geometry": json.loads(area.simplify(OUTLINE_TOLERANCE_DEG, preserve_topology=True).json)}
        for name, area in _load(path)]}


def districts_geojson() -> dict:
    """The districts as a FeatureCollection of names and outlines, drawn on every map."""
    return _outlines(settings.DISTRICTS_FILE)


def district_of(point: Point) -> str:
    for name, area in _load(settings.DISTRICTS_FILE):
        if area.covers(point):
            return name
    return OUTSIDE


def district_names() -> list[str]:
    return [name for name, _area in _load(settings.DISTRICTS_FILE)]


def district_area(name: str) -> GEOSGeometry | None:
    """The outline of the district called `name` (as in the file), or None."""
    for district, area in _load(settings.DISTRICTS_FILE):
        if district == name:
            return area
    return None
