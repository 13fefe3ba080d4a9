"""The staff side of live viewing: what the map's "Watch live" dialog needs, and opening a session.

The session's socket (integration.consumers.LiveViewSocket) does the rest.
"""

import json

from django.conf import settings
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from common.access import staff_permission_required
from common.codes import parse_code
from integration import selectors, services
from integration.gating import OPEN_PERMISSION, OVERRIDE_PERMISSION, LiveRefused
from integration.hours import hours_summary, window_end
from integration.overrides import approved_override
from registry.models import Camera
from requests_app.models import Incident

OVERRIDE_SEARCH_M = 2000


def _camera(code) -> Camera | None:
    return Camera.objects.select_related("owner").filter(code=code, level=Camera.Level.INTEGRATED).first()


def integrated_camera(value) -> Camera | None:
    """The integrated camera a request body names by code; None for junk or another camera."""
    return _camera(value) if parse_code(value) else None


def json_object(request) -> dict | None:
    """The request's body as a JSON object, or None when it is not one."""
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def camera_body(request) -> tuple[dict, Camera] | JsonResponse:
    """A live request's JSON body and the integrated camera it names, or the answer refusing it (400, 404)."""
    body = json_object(request)
    if body is None:
        return JsonResponse({"detail": "Send a JSON object."}, status=400)
    camera = integrated_camera(body.get("camera"))
    if camera is None:
        return JsonResponse({"detail": "No integrated camera with that code."}, status=404)
    return body, camera


@require_GET
@staff_permission_required(OPEN_PERMISSION, api=True)
def camera_live_info(request, code):
    """The owner's rules for this camera, the open incidents an analyst may choose, and the analyst's training."""
    camera = _camera(code)
    share = selectors.live_share_current(camera) if camera else None
    if share is None:
        return JsonResponse({"detail": "This camera is not shared live."}, status=404)
    # Anyone who may watch may ask a second person for an override (integration/overrides.py), so incidents
    # outside the owner's radius are listed to choose from; only a supervisor, where the program allows it,
    # sets the rule aside alone.
    can_override = request.user.has_perm(OVERRIDE_PERMISSION) and settings.LIVE_SELF_OVERRIDE
    radius = max(share.incident_radius_m, OVERRIDE_SEARCH_M)
    training = selectors.training_valid_until(request.user)
    return JsonResponse({
        "camera": {"code": str(camera.code), "label": camera.label},
        "rules": {"hours": hours_summary(share.hours), "allowed_now": window_end(share.hours) is not None,
                  "incident_required": share.incident_required, "incident_radius_m": share.incident_radius_m,
                  "max_minutes": share.max_session_minutes,
                  "paused": bool(share.paused_until and share.paused_until > timezone.now())},
        "incidents": [{"code": str(i.code), "case_number": i.case_number, "offense_type": i.offense_type,
                       "distance_m": round(i.distance.m), "within_rule": i.distance.m <= share.incident_radius_m}
                      for i in selectors.open_incidents_near(camera, radius_m=radius)],
        "can_override": can_override, "can_ask_override": share.incident_required,
        "training_valid_until": training.isoformat() if training else None,
    })


@require_POST
@staff_permission_required(OPEN_PERMISSION, api=True)
def session_open(request):
    """{camera, incident?, reason, override_reason?} -> 201 {session, socket, ends_by} or 403 with the rule."""
    found = camera_body(request)
    if isinstance(found, JsonResponse):
        return found
    body, camera = found
    incident = None
    if body.get("incident"):
        code = parse_code(body["incident"])
        incident = Incident.objects.filter(code=code).first() if code else None
        if incident is None:
            return JsonResponse({"detail": "No incident with that code."}, status=404)
    reason, override = str(body.get("reason", ""))[:500], str(body.get("override_reason", ""))[:500]
    approval = None
    if body.get("override"):
        approval = approved_override(analyst=request.user, camera=camera, incident=incident)
        if approval is None or str(approval.code) != str(body["override"]):
            return JsonResponse({"detail": "That override is not approved for you, this camera and this case, or it "
                                           "has run out: ask for another."}, status=403)
    try:
        session = services.live_session_open(user=request.user, camera=camera, incident=incident, reason=reason,
                                             override_reason=override, override=approval)
    except LiveRefused as refused:
        return JsonResponse({"detail": refused.message}, status=403)
    return JsonResponse({"session": str(session.code), "socket": f"/ws/live/{session.code}/",
                         "ends_by": session.ends_by.isoformat(), "camera": camera.label,
                         "case": incident.case_number if incident else None,
                         "queue": settings.LIVE_VIEWER_QUEUE}, status=201)

