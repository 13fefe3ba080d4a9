"""Telling supervisors an override waits for them: one email each, never to the analyst who asked."""

from django.conf import settings
from django.urls import reverse

from common.mail import send_templated
from integration.models import OverrideRequest
from integration.overrides import supervisors_to_tell


def override_request_notice_send(*, override_id: int) -> str:
    override = OverrideRequest.objects.select_related("analyst", "incident").get(pk=override_id)
    if override.state != OverrideRequest.State.PENDING:
        return "already decided"
    sent = 0
    for supervisor in supervisors_to_tell().exclude(pk=override.analyst_id):
        send_templated(to=supervisor.email, name="override-request", context={
            "override": override, "supervisor": supervisor, "public_url": settings.PUBLIC_URL,
            "decide_path": reverse("integration:overrides"), "valid_minutes": settings.LIVE_OVERRIDE_VALID_MINUTES})
        sent += 1
    return f"told {sent} supervisors"
