"""Reads of live integration for views, sockets and other apps."""

from datetime import date, timedelta

from django.conf import settings
from django.contrib.gis.db.models.functions import Distance
from django.contrib.gis.measure import D
from django.core.cache import cache
from django.db.models import QuerySet
from django.utils.translation import gettext

from common.access import is_program_staff
from integration import live_crypto
from integration.models import ConnectorToken, LiveSession, LiveShare, PrivacyMask, TrainingRecord
from registry.models import Camera, Owner


def live_share_current(camera: Camera) -> LiveShare | None:
    return LiveShare.objects.filter(camera=camera, revoked_at__isnull=True).first()


def live_share_ineligible(camera: Camera, *, for_viewing: bool = False) -> str:
    """Why this camera cannot be shared live, or '' when it can."""
    if camera.placement != Camera.Placement.OUTDOOR:
        return gettext("Indoor cameras can never be shared live.")
    if not camera.faces_public:
        return gettext("Only cameras facing public space can be shared live.")
    if camera.owner.confirmed_at is None:
        return gettext("Confirm your registration by email first.")
    if camera.status == Camera.Status.PAUSED:
        return gettext("The camera is paused.") if for_viewing else gettext("Resume the camera first.")
    if camera.status != Camera.Status.ACTIVE:
        return gettext("The camera is not active yet.") if not for_viewing else gettext("The camera is not active.")
    if camera.owner.kind == Owner.Kind.RESIDENT and not settings.LIVE_RESIDENTIAL_ALLOWED:
        return gettext("This agency does not allow live sharing of residential cameras.")
    return ""


def masks_json(camera: Camera) -> str:
    import json

    return json.dumps(owner_masks_of(camera.pk))


def owner_masks_of(camera_id: int) -> list:
    """The masks the owner drew (not those held for a neighbour's concern): what the owner's editor shows."""
    return list(PrivacyMask.objects.filter(camera_id=camera_id, held_for="").values_list("points", flat=True))


def masks_of(camera_id: int) -> list:
    """Every mask the live picture gets: the owner's and those held pending a neighbour's concern."""
    return list(PrivacyMask.objects.filter(camera_id=camera_id).values_list("points", flat=True))


def open_sessions(camera: Camera) -> list[LiveSession]:
    return list(LiveSession.objects.select_related("analyst", "incident", "camera__owner")
                .filter(camera=camera, ended_at__isnull=True))


SESSION_HIDDEN_PREFIX = "live-hidden:"  # + session code: a wall's tile scrolled out of sight (consumers/wall.py)


def session_hidden_key(session_code) -> str:
    return f"{SESSION_HIDDEN_PREFIX}{session_code}"


def camera_watched(camera_id: int) -> bool:
    """Whether someone watches the camera: an open session not scrolled out of sight on a wall. A connector streams
    only then (consumers/connector.py). Redis away: the caller stops the connector anyway."""
    codes = list(LiveSession.objects.filter(camera_id=camera_id, ended_at__isnull=True).values_list("code", flat=True))
    if not codes:
        return False
    return len(cache.get_many([session_hidden_key(code) for code in codes])) < len(codes)


def sessions_overdue(*, now) -> QuerySet[LiveSession]:
    """Open sessions past their end, and sessions whose view never connected within a minute."""
    from django.db.models import Q

    never_opened = Q(started_at__lt=now - timedelta(minutes=1), watched_at__isnull=True)
    return (LiveSession.objects.select_related("analyst", "incident", "camera__owner")
            .filter(ended_at__isnull=True).filter(Q(ends_by__lte=now) | never_opened))


def training_valid_until(user) -> date | None:
    """The last day the user's training counts, or None without any qualifying record."""
    latest = (TrainingRecord.objects.filter(user=user, hours__gte=settings.TRAINING_MIN_HOURS)
              .order_by("-completed_on").values_list("completed_on", flat=True).first())
    return latest + timedelta(days=settings.TRAINING_VALID_DAYS) if latest else None


def connector_token_current(camera: Camera) -> ConnectorToken | None:
    return ConnectorToken.objects.filter(camera=camera, revoked_at__isnull=True).first()


def open_incidents_near(camera: Camera, *, radius_m: int):
    """Open incidents within radius of the camera, nearest first: what an analyst may choose from."""
    from requests_app.models import Incident

    return (Incident.objects.filter(status=Incident.Status.OPEN,
                                    location__dwithin=(camera.location, D(m=radius_m)))
            .annotate(distance=Distance("location", camera.location)).order_by("distance")[:20])


def sessions_of_owner_camera(camera: Camera, *, limit: int = 20) -> list[LiveSession]:
    return list(LiveSession.objects.select_related("analyst", "incident").filter(camera=camera)[:limit])


def session_for_viewer(*, code, user_id: int) -> LiveSession | None:
    return (LiveSession.objects.select_related("camera__owner", "incident", "analyst")
            .filter(code=code, analyst_id=user_id).first())


def sessions_visible_to(*, user) -> QuerySet[LiveSession]:
    """Analysts see their own live sessions; supervisors, auditors and administrators (who oversee the program,
    holding view_liveshare) see every one."""
    allowed = is_program_staff(user)
    if not (allowed and user.has_perm("integration.view_livesession")):
        return LiveSession.objects.none()
    sessions = LiveSession.objects.select_related("analyst", "camera", "incident")
    return sessions if user.has_perm("integration.view_liveshare") else sessions.filter(analyst=user)


def still_cache_key(camera_code) -> str:
    return f"live-still:{camera_code}"


def still_for_masks(camera_code) -> bytes | None:
    """The owner's latest unmasked still for the mask editor (kept sealed in Redis), or None when there is none
    or it no longer opens (its key was rotated out)."""
    sealed = cache.get(still_cache_key(camera_code))
    if sealed is None:
        return None
    try:
        return live_crypto.still_open(sealed, camera_code=camera_code)
    except live_crypto.Unreadable:
        return None


# --- for monitoring (connect/metrics.py): what is live now, across every server process ----------------------

CONNECTOR_PRESENCE_PREFIX = "live-connector:"  # + camera code: a connected connector's key (consumers/connector.py)


def live_viewers_count() -> int:
    """Live views open now: connected and not ended, whichever server process holds them."""
    return LiveSession.objects.filter(ended_at__isnull=True, watched_at__isnull=False).count()


def connectors_online_count(client) -> int:
    """Connectors connected now: each holds a presence key in the cache, renewed every few seconds. `client` is a
    redis-py client on the cache's Redis."""
    pattern = cache.make_key(CONNECTOR_PRESENCE_PREFIX) + "*"
    return sum(1 for _ in client.scan_iter(match=pattern, count=1000))
