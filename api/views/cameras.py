"""Cameras: in a box (GeoJSON built by PostGIS), near a point (nearest first), one camera. No owner details."""

import re

import orjson
from django.conf import settings
from django.contrib.gis.geos import Point
from django.http import HttpResponse
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from api import serializers as s
from api.permissions import actor
from api.views.common import query
from audit.actions import Action
from audit.ledger import record, record_many
from common.codes import parse_code
from registry import selectors
from registry.models import Camera
from registry.services import map_search_entry

GEOJSON = "application/geo+json"
NEARBY_LIMIT = 500
CODE = OpenApiParameter("code", str, OpenApiParameter.PATH, description="The camera's code (UUID)")


class GeoJsonSchema(AutoSchema):
    """The camera list is one FeatureCollection, not an array of them."""

    def _is_list_view(self, serializer=None) -> bool:
        return False


class GeoJsonRenderer(JSONRenderer):
    """GeoJSON is JSON: with it, a client asking for `Accept: application/geo+json` (as the schema says these
    answers are, and as the docs' "Try it out" asks) gets the answer rather than 406."""

    media_type = GEOJSON
    format = "geojson"


class CameraViewSet(viewsets.GenericViewSet):
    schema = GeoJsonSchema()
    renderer_classes = [JSONRenderer, GeoJsonRenderer]

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        # An error is no GeoJSON: plain JSON, as the schema documents errors, whichever of the two was asked for.
        self.request.accepted_renderer, self.request.accepted_media_type = JSONRenderer(), JSONRenderer.media_type
        return response
    queryset = Camera.objects.none()  # for the schema; reads go through registry.selectors
    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    scopes = {"list": "registry:read", "nearby": "registry:read", "retrieve": "registry:read"}
    perms = {"list": ["registry.view_camera"], "nearby": ["registry.view_camera"],
             "retrieve": ["registry.view_camera"]}

    @extend_schema(operation_id="cameras_list", parameters=[s.BBoxQuery], responses={(200, GEOJSON): OpenApiResponse(
        s.feature_collection(s.CAMERA_PROPERTIES), description="Active cameras in the box, at most "
                                                                  "CONNECT_MAP_MAX_FEATURES (`truncated` says so)")})
    def list(self, request):
        params = query(s.BBoxQuery, request)
        west, south, east, north = params.get("bbox") or selectors.service_area().extent
        body = selectors.cameras_geojson_in_bbox(
            west=west, south=south, east=east, north=north, kinds=sorted(params.get("kind") or selectors.ALL_KINDS),
            levels=sorted(params.get("level") or selectors.ALL_LEVELS), limit=settings.MAP_MAX_FEATURES)
        return HttpResponse(body, content_type=GEOJSON)

    @extend_schema(parameters=[s.NearbyQuery], responses={(200, GEOJSON): OpenApiResponse(s.feature_collection(
        s.NEARBY_PROPERTIES, {"center": s.POINT_SCHEMA, "radius": {"type": "integer"}}),
        description="Active cameras within the radius, nearest first (recorded in the access ledger)")})
    @action(detail=False)
    def nearby(self, request):
        params = nearby_params(request.query_params)
        return HttpResponse(nearby_search(actor=actor(request), params=params), content_type=GEOJSON)

    @extend_schema(parameters=[CODE], responses={(200, GEOJSON): OpenApiResponse(
        s.CAMERA_FEATURE_SCHEMA, description="One active camera of a confirmed owner (recorded in the access ledger)")})
    def retrieve(self, request, code=None):
        camera = selectors.camera_visible_to_staff(code=_uuid(code))  # paused or unconfirmed: as if none
        if camera is None:
            raise NotFound("No camera with that code.")
        record(actor=actor(request), action=Action.CAMERA_VIEWED, target_type="camera", target_code=camera.code,
               camera_code=camera.code, owner_code=camera.owner.code, via="api")
        return Response(s.camera_feature(camera), content_type=GEOJSON)


def nearby_params(query_params, *, as_sent=None) -> dict:
    """The search's validated parameters, or a ValidationError naming the bad one (a 400). No I/O: the fast route
    (api.nearby_route) runs it on its event loop, with `query_params` a plain dict of each parameter's last value
    and `as_sent()` the request's QueryDict, which the serializer judges when the search is not plainly written."""
    params = _plain_nearby_params(query_params)
    if params is None:
        serializer = s.NearbyQuery(data=as_sent() if as_sent is not None else query_params)
        serializer.is_valid(raise_exception=True)
        params = serializer.validated_data
    if not selectors.in_service_area(latitude=params["lat"], longitude=params["lng"]):
        raise ValidationError({"lat": ["This point is outside the agency's service area."]})
    return params


# What other systems send (decimal degrees, whole metres, a plain case number), for which _plain_nearby_params
# gives what the serializer would; anything else goes through the serializer, whose messages are the 400's.
_DEGREES = re.compile(r"-?\d{1,3}(\.\d{1,15})?")
_METRES = re.compile(r"[1-9]\d{0,5}")
_CASE = re.compile(r"[A-Za-z0-9-]{1,32}")
_RADIUS_DEFAULT = s.NearbyQuery._declared_fields["radius"].default


def _plain_nearby_params(query_params) -> dict | None:
    """NearbyQuery's validated data for a plainly written valid search, without the serializer (building its fields
    cost about a quarter of a millisecond per search); None for anything else, which the serializer then judges.
    tests/api/test_cameras_api.py holds the two equal."""
    lat, lng = query_params.get("lat"), query_params.get("lng")
    radius, case = query_params.get("radius"), query_params.get("case")
    if (lat is None or lng is None or not _DEGREES.fullmatch(lat) or not _DEGREES.fullmatch(lng)
            or (radius is not None and not _METRES.fullmatch(radius))
            or (case is not None and not _CASE.fullmatch(case))):
        return None
    params = {"lat": float(lat), "lng": float(lng), "radius": int(radius) if radius is not None else _RADIUS_DEFAULT,
              "case": case if case is not None else ""}
    if not (s.LAT["min_value"] <= params["lat"] <= s.LAT["max_value"]
            and s.LNG["min_value"] <= params["lng"] <= s.LNG["max_value"]
            and params["radius"] <= settings.NEARBY_MAX_RADIUS_M):
        return None
    return params


def nearby_search(*, actor, params: dict) -> bytes:
    """The search, its access-ledger entry (written before the answer is returned) and the answer's GeoJSON."""
    cameras, ledger_entry = nearby_found(actor=actor, params=params)
    record_many([ledger_entry])
    return nearby_body(params, cameras)


def nearby_found(*, actor, params: dict) -> tuple[list, dict]:
    """The cameras found and the search's access-ledger entry, not yet written: for this view (nearby_search) and
    for its fast route (api.nearby_route, through nearby_found_async), which writes the entry through the ledger's
    group commit; so neither can search or record differently."""
    point = Point(params["lng"], params["lat"], srid=4326)
    cameras = selectors.cameras_near(point=point, radius_m=params["radius"], limit=NEARBY_LIMIT + 1)
    return cameras, _search_entry(actor, params, cameras)


async def nearby_found_async(connection, *, actor, params: dict) -> tuple[list, dict]:
    """nearby_found with the selector awaited on a psycopg AsyncConnection (the fast route's, on its event loop)."""
    cameras = await selectors.cameras_near_async(connection, longitude=params["lng"], latitude=params["lat"],
                                                 radius_m=params["radius"], limit=NEARBY_LIMIT + 1)
    return cameras, _search_entry(actor, params, cameras)


def _search_entry(actor, params: dict, cameras: list) -> dict:
    return map_search_entry(actor=actor, cameras=cameras[:NEARBY_LIMIT], case_number=params["case"],
                            lat=round(params["lat"], 6), lng=round(params["lng"], 6), radius_m=params["radius"],
                            query="", via="api")


def nearby_body(params: dict, cameras: list) -> bytes:
    """The answer's GeoJSON. Send it only once the search's ledger entry is committed."""
    body = {"type": "FeatureCollection", "center": {"type": "Point", "coordinates": [params["lng"], params["lat"]]},
            "radius": params["radius"], "truncated": len(cameras) > NEARBY_LIMIT, "features": [{
                "type": "Feature", "geometry": {"type": "Point", "coordinates": [c.lng, c.lat]},
                "properties": {"code": c.code, "label": c.label, "kind": c.kind, "level": c.level,
                               "distance_m": round(c.distance_m, 1), "covers": c.covers, "address": c.address}}
                for c in cameras[:NEARBY_LIMIT]]}
    return orjson.dumps(body)  # a fifth of json.dumps's time for a few hundred features; UTF-8, as JSON is


def _uuid(value: str):
    code = parse_code(value)
    if code is None:
        raise NotFound("No object with that code: codes are UUIDs.")
    return code
