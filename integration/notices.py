"""Mail to owners about live sharing: the notice they asked for each time someone opens a live view of their camera,
and the pilot's news (admitted from the queue, the program ended)."""

from django.conf import settings
from django.urls import reverse

from common.mail import send_templated
from integration.models import LiveSession
from registry.models import Camera


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


def live_share_news_send(*, camera_id: int, news: str) -> str:
    """Tells the owner their camera's live sharing began (admitted from the pilot's queue, news="admitted") or
    stopped because the pilot program ended (news="pilot_ended")."""
    camera = Camera.objects.select_related("owner").filter(pk=camera_id).first()
    if camera is None:
        return "gone"
    send_templated(to=camera.owner.email, name=f"live-share-{news.replace('_', '-')}", language=camera.owner.language,
                   context={"owner": camera.owner, "camera": camera,
                            "portal_url": settings.PUBLIC_URL + reverse("integration:portal_live", args=[camera.code])})
    return "sent"
