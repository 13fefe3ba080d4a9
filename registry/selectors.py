"""Reads of the registry. Radius and viewport queries run in PostGIS on the geography GiST index."""

import json

from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry, Point
from django.contrib.gis.measure import D
from django.db import connection
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from registry.models import Camera, Owner

def service_area() -> GEOSGeometry:
    return GEOSGeometry(json.dumps(settings.SERVICE_AREA), srid=4326)


def in_service_area(*, latitude: float, longitude: float) -> bool:
    return service_area().covers(Point(longitude, latitude, srid=4326))


# Whether the camera's view cone (direction +- fov/2, out to range_m) covers the point %s.
# The signed angle difference is folded into [-180, 180); a camera standing on the point covers it.
_COVERS_SQL = """
    ST_Distance(registry_camera.location, {p}) <= registry_camera.range_m
    AND (registry_camera.field_of_view_deg >= 360 OR COALESCE(
        abs(mod(degrees(ST_Azimuth(registry_camera.location, {p}))::numeric
                - registry_camera.direction_deg + 540, 360) - 180) <= registry_camera.field_of_view_deg / 2.0,
        TRUE))
"""


def cameras_near(*, point: Point, radius_m: int, statuses=(Camera.Status.ACTIVE,)) -> QuerySet[Camera]:
    """Cameras within radius_m of point, nearest first, annotated with distance_m and covers."""
    ewkt = f"SRID=4326;POINT({point.x:.7f} {point.y:.7f})"
    geog = "ST_GeogFromText(%s)"
    return (
        Camera.objects.filter(location__dwithin=(point, D(m=radius_m)), status__in=statuses)
        .select_related("owner")
        .annotate(
            distance_m=RawSQL(f"ST_Distance(registry_camera.location, {geog})", (ewkt,)),
            covers=RawSQL(_COVERS_SQL.format(p=geog), (ewkt,) * 2),
        )
        .order_by("distance_m")
    )


_GEOJSON_SQL = """
WITH picked AS (
    SELECT c.code, c.label, o.kind, c.level, c.direction_deg, c.field_of_view_deg, c.range_m, c.location
    FROM registry_camera c JOIN registry_owner o ON o.id = c.owner_id
    WHERE c.status = 'active'
      AND c.location && ST_MakeEnvelope(%(west)s, %(south)s, %(east)s, %(north)s, 4326)::geography
      AND o.kind = ANY(%(kinds)s) AND c.level = ANY(%(levels)s)
    LIMIT %(limit)s + 1
), numbered AS (SELECT *, row_number() OVER () AS n FROM picked)
SELECT json_build_object(
    'type', 'FeatureCollection',
    'truncated', count(*) > %(limit)s,
    'features', COALESCE(json_agg(json_build_object(
        'type', 'Feature',
        'geometry', ST_AsGeoJSON(location::geometry, 6)::json,
        'properties', json_build_object('code', code, 'label', label, 'kind', kind, 'level', level,
                                        'dir', direction_deg, 'fov', field_of_view_deg, 'range', range_m)
    )) FILTER (WHERE n <= %(limit)s), '[]'::json)
)::text
FROM numbered
"""

ALL_KINDS = tuple(Owner.Kind.values)
ALL_LEVELS = tuple(Camera.Level.values)


def cameras_geojson_in_bbox(
    *, west: float, south: float, east: float, north: float, kinds=ALL_KINDS, levels=ALL_LEVELS, limit: int
) -> str:
    """Active cameras in the box as a GeoJSON FeatureCollection text, built entirely by PostGIS."""
    params = {"west": west, "south": south, "east": east, "north": north,
              "kinds": list(kinds), "levels": list(levels), "limit": limit}
    with connection.cursor() as cursor:
        cursor.execute(_GEOJSON_SQL, params)
        return cursor.fetchone()[0]


def cameras_of_owner(*, owner: Owner) -> QuerySet[Camera]:
    return owner.cameras.exclude(status=Camera.Status.REMOVED).order_by("created_at")


def camera_of_owner(*, owner: Owner, code) -> Camera | None:
    """The owner's camera with this code, or None: another owner's camera is indistinguishable from none."""
    return Camera.objects.filter(owner=owner, code=code).first()


def geocode(query: str) -> Point | None:
    """'lat, lng' or the address of a registered camera. No external geocoder: connect runs offline."""
    text = query.strip()
    parts = [part.strip() for part in text.split(",")]
    if len(parts) == 2:
        try:
            latitude, longitude = float(parts[0]), float(parts[1])
        except ValueError:
            pass
        else:
            if -90 <= latitude <= 90 and -180 <= longitude <= 180:
                return Point(longitude, latitude, srid=4326)
    if len(text) < 4:
        return None
    match = Camera.objects.filter(address__icontains=text).exclude(status=Camera.Status.REMOVED).first()
    return match.location if match else None
