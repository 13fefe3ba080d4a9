"""Reads of the registry. Radius and viewport queries run in PostGIS on the geography GiST index."""

import json
import math
import threading
from dataclasses import dataclass

from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry, Point
from django.db import connection
from django.db.models import Q, QuerySet

from addresses.geocoders import GeocoderUnavailable, geocoder
from common.access import is_program_staff
from registry.models import Camera, Owner

# What staff may see (admin, map, API, exports): until an owner confirms by email nothing of a registration is the
# program's, and a paused camera is hidden until its owner resumes it, as the portal promises. Agency owners are
# confirmed by definition: the agency imports its own cameras. Active cameras only ever belong to such owners
# (confirmation activates them); every read checks both all the same, the map's SQL included.
STAFF_VISIBLE_OWNER = Q(confirmed_at__isnull=False) | Q(kind=Owner.Kind.AGENCY)
STAFF_VISIBLE_CAMERA = Q(status=Camera.Status.ACTIVE) & (
    Q(owner__confirmed_at__isnull=False) | Q(owner__kind=Owner.Kind.AGENCY))


def owners_visible_to_staff() -> QuerySet[Owner]:
    return Owner.objects.filter(STAFF_VISIBLE_OWNER)


def cameras_visible_to_staff() -> QuerySet[Camera]:
    return Camera.objects.filter(STAFF_VISIBLE_CAMERA)


# --- whose contact details a staff member's work leads to ---------------------------------------------------------
# Only those who keep the program's records (registry.list_owners) browse owners. Everyone else opens an owner only
# when a case they may view asked one of the owner's cameras for footage. The cases are requests_app's, above
# registry: it adds its rule here at start-up (requests_app.apps). With no rule added, nobody else opens an owner.
LIST_OWNERS = "registry.list_owners"
owner_access_rules: list = []  # callables rule(*, user) -> a query of the ids of the owners the user's work leads to


def owner_access_rule_add(rule) -> None:
    if rule not in owner_access_rules:
        owner_access_rules.append(rule)


def owners_open_to(*, user) -> QuerySet[Owner]:
    """The owners whose contact details this staff member may open (deny by default)."""
    if not is_program_staff(user):
        return Owner.objects.none()
    if user.has_perm(LIST_OWNERS):
        return owners_visible_to_staff()
    if not owner_access_rules:
        return Owner.objects.none()
    reached = Q(pk__in=[])
    for rule in owner_access_rules:
        reached |= Q(pk__in=rule(user=user))
    return owners_visible_to_staff().filter(reached)


def staff_may_open_owner(*, user, owner: Owner) -> bool:
    return owners_open_to(user=user).filter(pk=owner.pk).exists()


def camera_visible_to_staff(*, code) -> Camera | None:
    """One camera for a staff or API read; a paused or unconfirmed camera is indistinguishable from none."""
    return cameras_visible_to_staff().select_related("owner").filter(code=code).first()


def service_area() -> GEOSGeometry:
    return GEOSGeometry(json.dumps(settings.SERVICE_AREA), srid=4326)


@dataclass(frozen=True, slots=True)
class _Area:
    source: dict  # the setting's value it was built from (tests override the setting)
    extent: tuple[float, float, float, float]
    is_box: bool  # the area is its own bounding box (the default): the extent answers alone
    prepared: object
    lock: threading.Lock  # GEOS prepared geometries are not safe to use from two threads at once (libgeos#825)


_area: _Area | None = None
_area_building = threading.Lock()


def _current_area() -> _Area:
    """The service area, parsed and prepared once per process and again when the setting changes."""
    global _area
    area = _area
    if area is None or area.source is not settings.SERVICE_AREA:
        with _area_building:
            source = settings.SERVICE_AREA
            if _area is None or _area.source is not source:
                geometry = GEOSGeometry(json.dumps(source), srid=4326)
                _area = _Area(source=source, extent=geometry.extent, is_box=geometry.envelope.equals(geometry),
                              prepared=geometry.prepared, lock=threading.Lock())
            area = _area
    return area


def in_service_area(*, latitude: float, longitude: float) -> bool:
    """Each position report and nearby search asks: no parsing, and no GEOS call at all inside a box area."""
    area = _current_area()
    west, south, east, north = area.extent
    if not (west <= longitude <= east and south <= latitude <= north):
        return False
    if area.is_box:
        return True
    with area.lock:
        return area.prepared.covers(Point(longitude, latitude, srid=4326))


@dataclass(slots=True)  # not frozen: a frozen dataclass costs 8x more to build, 500 at a time
class NearbyCamera:
    code: str
    label: str
    kind: str
    level: str
    distance_m: float
    covers: bool
    lat: float
    lng: float
    address: str
    records: bool
    retention_days: int
    direction_deg: int  # the view cone, for maps that draw it
    field_of_view_deg: int
    range_m: int
    owner_code: str  # for the search's ledger entry, which the owner sees; never sent to the map


# The nearest `limit` cameras come from registry_camera alone (GiST index, then a sort of narrow rows);
# only those are joined to their owner's kind and get the per-row values, never the contact details. (The owner
# condition is a second lock: active cameras belong only to confirmed or agency owners.)
# `covers`: within the camera's range and inside direction +- fov/2, the signed angle difference folded
# into [-180, 180); a camera standing on the point covers it.
_NEAR_SQL = """
SELECT n.code, n.label, o.kind, n.level, n.distance_m,
       n.distance_m <= n.range_m AND (n.field_of_view_deg >= 360 OR COALESCE(
           abs(mod(degrees(ST_Azimuth(n.location, n.g))::numeric - n.direction_deg + 540, 360) - 180)
           <= n.field_of_view_deg / 2.0, TRUE)) AS covers,
       ST_Y(n.location::geometry), ST_X(n.location::geometry), n.address, n.records, n.retention_days,
       n.direction_deg, n.field_of_view_deg, n.range_m, o.code::text
FROM (
    SELECT c.code::text AS code, c.label, c.owner_id, c.level, ST_Distance(c.location, p.g) AS distance_m,
           c.range_m, c.field_of_view_deg, c.direction_deg, c.location, c.address, c.records, c.retention_days, p.g
    FROM (SELECT ST_GeogFromText(%(point)s) AS g) AS p
    JOIN registry_camera c ON c.status = ANY(%(statuses)s) AND ST_DWithin(c.location, p.g, %(radius)s)
    ORDER BY distance_m
    LIMIT %(limit)s
) AS n JOIN registry_owner o ON o.id = n.owner_id AND (o.confirmed_at IS NOT NULL OR o.kind = 'agency')
ORDER BY n.distance_m
"""


def cameras_near(
    *, point: Point, radius_m: int, limit: int = 500, statuses=(Camera.Status.ACTIVE,)
) -> list[NearbyCamera]:
    """Cameras within radius_m of point, nearest first, with their distance and whether they face it.

    ST_DWithin on the geography GiST index; built as plain rows rather than model objects because at a
    million cameras the ORM's object building cost four times the query itself (bench/nearby.py).
    """
    with connection.cursor() as cursor:
        cursor.execute(_NEAR_SQL, _near_params(point.x, point.y, radius_m, limit, statuses))
        return [NearbyCamera(*row) for row in cursor.fetchall()]


async def cameras_near_async(
    connection, *, longitude: float, latitude: float, radius_m: int, limit: int = 500,
    statuses=(Camera.Status.ACTIVE,),
) -> list[NearbyCamera]:
    """cameras_near on a psycopg AsyncConnection, awaited on the event loop (the API's fast route: api.nearby_route):
    the same query, prepared once per connection. Plain coordinates: reading a GEOS point's x and y costs more than
    the rest of the call's Python."""
    async with connection.cursor() as cursor:
        await cursor.execute(_NEAR_SQL, _near_params(longitude, latitude, radius_m, limit, statuses), prepare=True)
        return [NearbyCamera(*row) for row in await cursor.fetchall()]


def _near_params(longitude: float, latitude: float, radius_m: int, limit: int, statuses) -> dict:
    return {"point": f"SRID=4326;POINT({longitude:.7f} {latitude:.7f})", "radius": radius_m,
            "statuses": [str(status) for status in statuses], "limit": limit}


# `&&` on geography compares geocentric boxes, which reach past the map's east and west edges; the
# candidates come from the GiST index that way (materialized, so the planner keeps that plan), and the
# exact 2-D box test then drops the strays before the limit counts them.
_GEOJSON_SQL = """
WITH candidates AS MATERIALIZED (
    SELECT c.code, c.label, o.kind, c.level, c.direction_deg, c.field_of_view_deg, c.range_m, c.location
    FROM registry_camera c JOIN registry_owner o ON o.id = c.owner_id
    WHERE c.status = 'active' AND (o.confirmed_at IS NOT NULL OR o.kind = 'agency')
      AND c.location && ST_MakeEnvelope(%(west)s, %(south)s, %(east)s, %(north)s, 4326)::geography
      AND o.kind = ANY(%(kinds)s) AND c.level = ANY(%(levels)s)
), picked AS (
    SELECT * FROM candidates
    WHERE location::geometry && ST_MakeEnvelope(%(west)s, %(south)s, %(east)s, %(north)s, 4326)
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
    with connection.cursor() as cursor:
        cursor.execute(_GEOJSON_SQL, _geojson_params(west, south, east, north, kinds, levels, limit))
        return cursor.fetchone()[0]


async def cameras_geojson_in_bbox_async(
    connection, *, west: float, south: float, east: float, north: float, kinds=ALL_KINDS, levels=ALL_LEVELS,
    limit: int,
) -> str:
    """cameras_geojson_in_bbox on a psycopg AsyncConnection (the staff map's fast route: api.map_route)."""
    async with connection.cursor() as cursor:
        await cursor.execute(_GEOJSON_SQL, _geojson_params(west, south, east, north, kinds, levels, limit),
                             prepare=True)
        return (await cursor.fetchone())[0]


def _geojson_params(west, south, east, north, kinds, levels, limit) -> dict:
    return {"west": west, "south": south, "east": east, "north": north, "kinds": list(kinds), "levels": list(levels),
            "limit": limit}


# --- true counts per map square (registry.models.CameraCell, kept by triggers) ------------------------------------
CELL_MIN_ZOOM, CELL_MAX_ZOOM = 5, 18  # as migration 0007 keeps them
CELL_ZOOM_OFFSET = 2  # four squares a tile side: 64 px squares on the map


def map_cell_zoom(map_zoom: int) -> int | None:
    """The zoom of the squares that group cameras at this map zoom; None past the deepest kept."""
    zoom = max(map_zoom + CELL_ZOOM_OFFSET, CELL_MIN_ZOOM)
    return zoom if zoom <= CELL_MAX_ZOOM else None


def _square(lng: float, lat: float, zoom: int) -> tuple[int, int]:
    """The slippy-map tile (x, y) holding the point at this zoom, as the migration's triggers compute it."""
    lat = max(min(lat, 85.0511), -85.0511)
    scale = 2 ** zoom
    x = math.floor((lng + 180) / 360 * scale)
    y = math.floor((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * scale)
    return min(max(x, 0), scale - 1), min(max(y, 0), scale - 1)


def squares_extent(params: dict) -> dict[str, float]:
    """The box the squares of camera_clusters_params cover (west, south, east, north): what a groups answer counted,
    which reaches past the map's edges to the squares' own."""
    scale = 2 ** params["zoom"]

    def lat_of(y: int) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y / scale))))

    return {"west": params["x0"] / scale * 360 - 180, "south": lat_of(params["y1"] + 1),
            "east": (params["x1"] + 1) / scale * 360 - 180, "north": lat_of(params["y0"])}


# The groups' query (camera_clusters_params' parameters): per square, the mean position of its cameras, their count
# and how many of them are integrated. Public for the staff map's one statement (api.map_known), which reads it
# inside a CTE, and for the bench's bare read.
CLUSTERS_SQL = _CLUSTERS_SQL = """
SELECT sum(sum_lat) / sum(cameras), sum(sum_lng) / sum(cameras), sum(cameras)::int,
       COALESCE(sum(cameras) FILTER (WHERE level = 'integrated'), 0)::int
FROM registry_cameracell
WHERE zoom = %(zoom)s AND x BETWEEN %(x0)s AND %(x1)s AND y BETWEEN %(y0)s AND %(y1)s
  AND kind = ANY(%(kinds)s) AND level = ANY(%(levels)s) AND cameras > 0
GROUP BY x, y
HAVING sum(cameras) > 0
"""


def groups_sql(source: str) -> str:
    """One row over `source` (CLUSTERS_SQL's columns, named lat, lng, cameras, integrated): the cameras in all, and
    the groups as the map's JSON array, [[lat, lng, cameras, integrated], ...] with positions to 6 decimals. Built
    by PostgreSQL: turning a few hundred rows into Python objects and then into JSON cost the map route more than
    the text does (bench/map_tiles.py)."""
    return f"""SELECT COALESCE(sum(cameras), 0)::bigint,
  '[' || COALESCE(string_agg(concat('[', round(lat::numeric, 6)::float8, ',', round(lng::numeric, 6)::float8, ',',
                                    cameras, ',', integrated, ']'), ','), '') || ']'
FROM {source}"""


_GROUPS_SQL = groups_sql(f"({CLUSTERS_SQL}) AS g (lat, lng, cameras, integrated)")


@dataclass(frozen=True, slots=True)
class CameraGroups:
    total: int  # every camera the groups count
    json: str  # the groups, as groups_sql writes them


def camera_clusters_params(*, west: float, south: float, east: float, north: float, zoom: int, kinds=ALL_KINDS,
                           levels=ALL_LEVELS) -> dict:
    x0, y0 = _square(west, north, zoom)
    x1, y1 = _square(east, south, zoom)
    return {"zoom": zoom, "x0": x0, "x1": x1, "y0": y0, "y1": y1, "kinds": list(kinds), "levels": list(levels)}


def camera_clusters_in_bbox(*, west: float, south: float, east: float, north: float, zoom: int, kinds=ALL_KINDS,
                            levels=ALL_LEVELS) -> tuple[CameraGroups, dict[str, float]]:
    """Every staff-visible camera in the squares (at the squares' zoom) the box touches, counted per square: true
    counts of all cameras, never a sample, read from a few hundred rows whatever the number of cameras. With the
    box those squares cover."""
    params = camera_clusters_params(west=west, south=south, east=east, north=north, zoom=zoom, kinds=kinds,
                                    levels=levels)
    with connection.cursor() as cursor:
        cursor.execute(_GROUPS_SQL, params)
        return CameraGroups(*cursor.fetchone()), squares_extent(params)


async def camera_clusters_in_bbox_async(
    connection, *, west: float, south: float, east: float, north: float, zoom: int, kinds=ALL_KINDS,
    levels=ALL_LEVELS,
) -> tuple[CameraGroups, dict[str, float]]:
    """camera_clusters_in_bbox on a psycopg AsyncConnection, awaited on the event loop (api.map_route): the same
    query, prepared once per connection."""
    params = camera_clusters_params(west=west, south=south, east=east, north=north, zoom=zoom, kinds=kinds,
                                    levels=levels)
    async with connection.cursor() as cursor:
        await cursor.execute(_GROUPS_SQL, params, prepare=True)
        return CameraGroups(*await cursor.fetchone()), squares_extent(params)


def cameras_of_owner(*, owner: Owner) -> QuerySet[Camera]:
    return owner.cameras.exclude(status=Camera.Status.REMOVED).order_by("created_at")


def camera_of_owner(*, owner: Owner, code) -> Camera | None:
    """The owner's camera with this code, or None: another owner's camera is indistinguishable from none."""
    return Camera.objects.filter(owner=owner, code=code).first()


def geocode(query: str) -> Point | None:
    """'lat, lng', the best address match of the configured geocoder (the city's address points by default), or
    the address of a registered camera.

    Raises ValueError for text no database can search (a NUL character): the caller says so."""
    text = query.strip()
    if "\x00" in text:
        raise ValueError("a search cannot contain NUL characters")
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
    try:
        places = geocoder().search(text, 1)
    except GeocoderUnavailable:
        places = []  # an external geocoder down: the cameras' own addresses still answer
    if places:
        return Point(places[0].lng, places[0].lat, srid=4326)
    match = cameras_visible_to_staff().filter(address__icontains=text).first()
    return match.location if match else None


def owner_languages_by_email(*, emails: list[str]) -> dict[str, str]:
    """The mail language of the registered owners among `emails` (lower case), for mail sent to addresses that
    came from elsewhere (an invitation list): a person who chose Spanish gets Spanish. Nothing else is read."""
    found = Owner.objects.filter(email__in=[email.strip().lower() for email in emails]).values_list("email", "language")
    return dict(found)
