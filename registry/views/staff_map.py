"""The staff map: viewport GeoJSON built in PostGIS and radius searches around a point or address."""

from django.conf import settings
from django.contrib.gis.geos import Point
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_GET

from common.access import staff_permission_required
from common.base_map import map_config
from common.fast_gzip import gzip_fast
from registry import selectors, services
from registry.models import Camera, Owner

MAP_PERMISSION = "registry.view_camera"
NEARBY_LIMIT = 500


def _bad_request(message: str) -> JsonResponse:
    return JsonResponse({"detail": message}, status=400)


def _floats(request, names: list[str]) -> list[float] | None:
    try:
        return [float(request.GET[name]) for name in names]
    except (KeyError, ValueError):
        return None


@require_GET
@staff_permission_required(MAP_PERMISSION)
def map_page(request):
    config = {**map_config(), "maxRadius": settings.NEARBY_MAX_RADIUS_M,
              "canWatchLive": request.user.has_perm("integration.open_live_view")}
    return render(request, "registry/map.html",
                  {"map_config": config, "kinds": Owner.Kind.choices, "levels": Camera.Level.choices})


@require_GET
@staff_permission_required(MAP_PERMISSION, api=True)
@gzip_page
def base_map(request):
    """The streets, service area and districts for the admin's map widgets (static/registry/js/admin_basemap.js)."""
    return JsonResponse(map_config())


def _viewport(query) -> tuple[tuple[float, float, float, float], list[str], list[str]] | JsonResponse:
    """The box and layers of a map data request, or the 400 that says what is wrong with them."""
    try:
        west, south, east, north = (float(part) for part in query.get("bbox", "").split(","))
    except ValueError:
        return _bad_request("bbox must be west,south,east,north in degrees.")
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        return _bad_request("bbox is not a valid box: west < east and south < north, in degrees.")
    kinds = query.getlist("kind") or selectors.ALL_KINDS
    levels = query.getlist("level") or selectors.ALL_LEVELS
    if not set(kinds) <= set(selectors.ALL_KINDS) or not set(levels) <= set(selectors.ALL_LEVELS):
        return _bad_request("Unknown kind or level.")
    return (west, south, east, north), list(kinds), list(levels)


# Map data carries no secret and reflects no input beside one: compressing it cannot leak a token (BREACH).
@require_GET
@staff_permission_required(MAP_PERMISSION, api=True)
@gzip_fast
def cameras_geojson(request):
    """?bbox=west,south,east,north[&kind=..&level=..] -> FeatureCollection of active cameras."""
    asked = _viewport(request.GET)
    if isinstance(asked, JsonResponse):
        return asked
    (west, south, east, north), kinds, levels = asked
    body = selectors.cameras_geojson_in_bbox(
        west=west, south=south, east=east, north=north, kinds=kinds, levels=levels, limit=settings.MAP_MAX_FEATURES)
    services.map_view_record(actor=request.user, west=west, south=south, east=east, north=north, kinds=kinds,
                             levels=levels)
    return HttpResponse(body, content_type="application/geo+json")


@require_GET
@staff_permission_required(MAP_PERMISSION, api=True)
@gzip_fast
def cameras_in_view(request):
    """?bbox=..&zoom=..[&kind=..&level=..] -> the staff map's cameras: each camera when the view holds few enough
    (CONNECT_MAP_CLUSTER_ABOVE), else groups per square with the true count of every camera in them.

    One ledger entry per request, whichever answer, as for the GeoJSON: the box whose cameras it showed or counted.
    api.map_route answers a signed-in staff member's plain request with these same functions on the event loop."""
    asked = in_view_asked(request.GET)
    if isinstance(asked, JsonResponse):
        return asked
    box, kinds, levels, cell_zoom = asked
    clusters = counted = None
    if cell_zoom is not None:
        clusters, counted = selectors.camera_clusters_in_bbox(**box, zoom=cell_zoom, kinds=kinds, levels=levels)
    clusters = in_view_groups(clusters)
    # The box whose cameras the answer showed: groups count whole squares, past the map's edges.
    services.map_view_record(actor=request.user, **(box if clusters is None else counted), kinds=kinds,
                             levels=levels)
    features = None
    if clusters is None:
        features = selectors.cameras_geojson_in_bbox(**box, kinds=kinds, levels=levels,
                                                     limit=settings.MAP_MAX_FEATURES)
    return HttpResponse(in_view_body(clusters, features), content_type="application/json")


def in_view_asked(query) -> tuple[dict, list[str], list[str], int | None] | JsonResponse:
    """The box, layers and squares' zoom of a /map/cameras.json request, or the 400 that says what is wrong."""
    asked = _viewport(query)
    if isinstance(asked, JsonResponse):
        return asked
    (west, south, east, north), kinds, levels = asked
    try:
        zoom = int(query.get("zoom", ""))
    except ValueError:
        return _bad_request("zoom must be a whole number.")
    if not 0 <= zoom <= 22:
        return _bad_request("zoom must be between 0 and 22.")
    return {"west": west, "south": south, "east": east, "north": north}, kinds, levels, selectors.map_cell_zoom(zoom)


def in_view_groups(groups: selectors.CameraGroups | None) -> selectors.CameraGroups | None:
    """The groups to answer with, or None when the view holds few enough cameras to show each."""
    if groups is None or groups.total <= settings.MAP_CLUSTER_ABOVE:
        return None
    return groups


def in_view_body(groups: selectors.CameraGroups | None, features: str | None) -> bytes:
    """The answer: the cameras (PostGIS's GeoJSON text) or the groups (their JSON as PostgreSQL wrote it)."""
    if groups is None:
        return ('{"mode":"cameras","cameras":' + features + "}").encode()
    return f'{{"mode":"clusters","total":{groups.total},"clusters":{groups.json}}}'.encode()


@require_GET
@staff_permission_required(MAP_PERMISSION, api=True)
@gzip_page
def nearby(request):
    """?lat=&lng=&radius= or ?q=address&radius= -> cameras within radius, nearest first."""
    try:
        radius = int(request.GET.get("radius", "300"))
    except ValueError:
        return _bad_request("radius must be a whole number of metres.")
    if not 1 <= radius <= settings.NEARBY_MAX_RADIUS_M:
        return _bad_request(f"radius must be between 1 and {settings.NEARBY_MAX_RADIUS_M} metres.")
    if request.GET.get("q"):
        try:
            point = selectors.geocode(request.GET["q"])
        except ValueError:
            return _bad_request("The search contains a NUL character (often pasted by mistake): retype it.")
        if point is None:
            return JsonResponse({"detail": "No registered address or 'lat, lng' matches that search."}, status=404)
    else:
        coords = _floats(request, ["lat", "lng"])
        if coords is None or not (-90 <= coords[0] <= 90 and -180 <= coords[1] <= 180):
            return _bad_request("Give lat and lng in degrees, or q with an address.")
        point = Point(coords[1], coords[0], srid=4326)
    cameras = selectors.cameras_near(point=point, radius_m=radius, limit=NEARBY_LIMIT + 1)
    services.map_search_record(actor=request.user, cameras=cameras[:NEARBY_LIMIT],
                               case_number=request.GET.get("case", "")[:32], lat=round(point.y, 6),
                               lng=round(point.x, 6), radius_m=radius, query=request.GET.get("q", "")[:200])
    return JsonResponse({
        "center": {"lat": point.y, "lng": point.x},
        "radius": radius,
        "truncated": len(cameras) > NEARBY_LIMIT,  # the map says so rather than silently dropping cameras
        "cameras": [{
            "code": c.code, "label": c.label, "kind": c.kind, "level": c.level, "distance_m": round(c.distance_m, 1),
            "covers": c.covers, "lat": c.lat, "lng": c.lng, "address": c.address,
        } for c in cameras[:NEARBY_LIMIT]],
    })
