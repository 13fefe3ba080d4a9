"""The incident wall's pages: the wall for an incident or a call's spot, opening its tiles, re-ordering them by a
direction of flight. The tiles' frames come on ws/wall/ (integration.consumers.wall)."""

from django.conf import settings
from django.contrib.gis.geos import Point
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from common.access import staff_permission_required
from common.base_map import map_config
from common.codes import parse_code
from integration import wall
from integration.gating import MIN_REASON, OPEN_PERMISSION
from integration.views.staff import json_object
from requests_app.models import Incident

COMPASS = [("N", 0), ("NE", 45), ("E", 90), ("SE", 135), ("S", 180), ("SW", 225), ("W", 270), ("NW", 315)]


def _incident(code=None, case=None) -> Incident | None:
    if code:
        parsed = parse_code(code)
        return Incident.objects.filter(code=parsed).first() if parsed else None
    if case:
        return Incident.objects.filter(case_number=str(case)[:64]).first()
    return None


def _point(lat, lng) -> Point | None:
    try:
        lat, lng = float(lat), float(lng)
    except (TypeError, ValueError):
        return None
    return Point(lng, lat, srid=4326) if -90 <= lat <= 90 and -180 <= lng <= 180 else None


def _heading(value) -> float | None:
    try:
        return float(value) % 360 if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _camera_json(camera: wall.WallCamera) -> dict:
    return {"code": camera.code, "label": camera.label, "distance_m": round(camera.distance_m),
            "bearing_deg": camera.bearing_deg, "facing": camera.facing,
            "lat": round(camera.lat, 6), "lng": round(camera.lng, 6)}


@require_GET
@staff_permission_required(OPEN_PERMISSION)
def wall_page(request):
    """?incident=<code> or ?case=<case number>, and/or ?lat=&lng= (a call's spot): the wall, closed until the
    analyst gives a reason."""
    incident = _incident(request.GET.get("incident"), request.GET.get("case"))
    if (request.GET.get("incident") or request.GET.get("case")) and incident is None:
        raise Http404("No such incident.")
    point = _point(request.GET.get("lat"), request.GET.get("lng")) or (incident.location if incident else None)
    if point is None:
        raise Http404("A wall needs an incident or a spot.")
    config = {**map_config(), "centre": [point.y, point.x], "incident": str(incident.code) if incident else None,
              "maxTiles": settings.WALL_CAMERAS, "minReason": MIN_REASON}
    return render(request, "integration/wall.html", {"incident": incident, "config": config, "compass": COMPASS})


@require_POST
@staff_permission_required(OPEN_PERMISSION, api=True)
def wall_open(request):
    """{incident?, lat, lng, reason, heading?} -> 201 {tiles: [{camera, session | refused}], socket}."""
    body = json_object(request)
    if body is None:
        return JsonResponse({"detail": "Send a JSON object."}, status=400)
    incident = _incident(body.get("incident"))
    if body.get("incident") and incident is None:
        return JsonResponse({"detail": "No incident with that code."}, status=404)
    point = _point(body.get("lat"), body.get("lng"))
    if point is None:
        return JsonResponse({"detail": "Give the spot as lat and lng."}, status=400)
    reason = str(body.get("reason", "")).strip()[:500]
    if len(reason) < MIN_REASON:  # one message for the wall rather than the same refusal in every tile
        return JsonResponse({"detail": f"Give a reason of at least {MIN_REASON} characters."}, status=400)
    tiles = wall.wall_open(user=request.user, point=point, incident=incident, reason=reason,
                           heading=_heading(body.get("heading")))
    return JsonResponse({"socket": "/ws/wall/", "tiles": [
        {"camera": _camera_json(t.camera), "session": str(t.session.code) if t.session else None,
         "ends_by": t.session.ends_by.isoformat() if t.session else None, "refused": t.refused} for t in tiles
    ]}, status=201)


@require_GET
@staff_permission_required(OPEN_PERMISSION, api=True)
def wall_order(request):
    """?lat=&lng=&heading=&camera=<code>... -> the wall's cameras in the order that direction of flight gives."""
    point = _point(request.GET.get("lat"), request.GET.get("lng"))
    if point is None:
        return JsonResponse({"detail": "Give the spot as lat and lng."}, status=400)
    codes = [c for c in request.GET.getlist("camera")[:50] if parse_code(c)]
    ordered = wall.wall_reorder(point=point, codes=codes, heading=_heading(request.GET.get("heading")))
    return JsonResponse({"cameras": [_camera_json(c) for c in ordered]})
