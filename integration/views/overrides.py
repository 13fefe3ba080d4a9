"""Two-person overrides over HTTP: the analyst asks and waits from the live dialog (JSON); supervisors decide on
a page that works on a phone (integration/overrides.py has the rules)."""

from django.conf import settings
from django.contrib import messages
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from common.access import staff_permission_required
from common.codes import parse_code
from integration import overrides
from integration.gating import OPEN_PERMISSION, OVERRIDE_PERMISSION
from integration.models import OverrideRequest
from integration.views.staff import camera_body
from requests_app.models import Incident


def _json(override: OverrideRequest) -> dict:
    return {"override": str(override.code), "state": override.state, "state_text": override.get_state_display(),
            "decide_by": override.decide_by.isoformat(),
            "decided_by": override.decided_by.get_username() if override.decided_by else None,
            "decision_reason": override.decision_reason,
            "valid_until": override.valid_until.isoformat() if override.valid_until else None}


@require_POST
@staff_permission_required(OPEN_PERMISSION, api=True)
def override_ask(request):
    """{camera, incident, reason} -> 201 the request, waiting for a supervisor; 403 with why not."""
    found = camera_body(request)
    if isinstance(found, JsonResponse):
        return found
    body, camera = found
    incident_code = parse_code(body.get("incident"))
    incident = Incident.objects.filter(code=incident_code).first() if incident_code else None
    try:
        override = overrides.override_request(analyst=request.user, camera=camera, incident=incident,
                                              reason=str(body.get("reason", ""))[:500])
    except overrides.OverrideRefused as refused:
        return JsonResponse({"detail": str(refused)}, status=403)
    return JsonResponse(_json(override), status=201)


@require_GET
@staff_permission_required(OPEN_PERMISSION, api=True)
def override_status(request, code):
    """The analyst's own request, as it stands (the dialog polls it); anyone else's is not found."""
    override = OverrideRequest.objects.filter(code=code, analyst=request.user).select_related("decided_by").first()
    if override is None:
        return JsonResponse({"detail": "No such override request of yours."}, status=404)
    if override.state == OverrideRequest.State.PENDING and override.decide_by <= timezone.now():
        override.state = OverrideRequest.State.EXPIRED  # as the supervisors' page will mark it
    return JsonResponse(_json(override))


@require_GET
@staff_permission_required(OVERRIDE_PERMISSION)
def override_list(request):
    waiting = overrides.overrides_for_supervisor(request.user)
    return render(request, "integration/overrides.html", {
        "pending": waiting.pending, "decided": waiting.decided, "me": request.user,
        "valid_minutes": settings.LIVE_OVERRIDE_VALID_MINUTES})


@require_http_methods(["POST"])
@staff_permission_required(OVERRIDE_PERMISSION)
def override_decide(request, code):
    override = get_object_or_404(OverrideRequest, code=code)
    approve = request.POST.get("decision") == "approve"
    try:
        overrides.override_decide(supervisor=request.user, override=override, approve=approve,
                                  reason=request.POST.get("reason", "")[:500])
    except overrides.OverrideRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, f"{'Approved' if approve else 'Refused'}: case {override.incident.case_number}, "
                                  f"asked by {override.analyst.get_username()}.")
    return redirect("integration:overrides")
