"""The email an owner asked for each time someone opens a live view of their camera."""

from django.conf import settings
from django.urls import reverse

from common.mail import send_templated
from integration.models import LiveSession


def analyst_label(user) -> str:
    """What owners are told about who watched: the badge (user name) or the unit, as the agency chose."""
    if settings.OWNER_HISTORY_SHOWS == "badge":
        return user.get_username()
    return ", ".join(sorted(user.groups.values_list("name", flat=True))) or "Staff"


def live_view_notice_send(*, session_id: int) -> str:
    session = LiveSession.objects.select_related("camera__owner", "incident", "analyst").filter(pk=session_id).first()
    if session is None:
        return "gone"
    send_templated(to=session.camera.owner.email, name="live-view-notice", language=session.camera.owner.language,
                   context={
        "owner": session.camera.owner, "camera": session.camera, "session": session,
        "who": analyst_label(session.analyst), "case": session.incident.case_number if session.incident else "",
        "portal_url": settings.PUBLIC_URL + reverse("integration:portal_live", args=[session.camera.code]),
    })
    return "sent"
