"""Reads of calls for service and officer positions."""

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from dispatch.live import CallPayload, PositionPayload
from dispatch.models import CallForService, OfficerPosition
from registry import selectors as registry_selectors


def calls_all() -> QuerySet[CallForService]:
    return CallForService.objects.select_related("incident")


def calls_open() -> QuerySet[CallForService]:
    """The calls the map shows: not cleared, received within the keep period."""
    since = timezone.now() - timedelta(days=settings.CALLS_KEEP_DAYS)
    return calls_all().filter(received_at__gte=since).exclude(status=CallForService.Status.CLEARED)


def call_cameras(call: CallForService) -> list[registry_selectors.NearbyCamera]:
    """The active cameras nearest the call, nearest first; integrated ones carry level 'integrated'."""
    return registry_selectors.cameras_near(point=call.location, radius_m=settings.CALL_CAMERA_RADIUS_M,
                                           limit=settings.CALL_CAMERAS)


def call_payload(call: CallForService, cameras=None) -> CallPayload:
    cameras = call_cameras(call) if cameras is None else cameras
    return {
        "code": str(call.code), "dispatch_id": call.dispatch_id, "call_type": call.call_type,
        "priority": call.priority, "status": call.status, "lat": call.location.y, "lng": call.location.x,
        "address": call.address, "received_at": call.received_at.isoformat(),
        "incident": call.incident.case_number if call.incident_id else None,
        "cameras": [{"code": c.code, "label": c.label, "kind": c.kind, "level": c.level,
                     "distance_m": round(c.distance_m, 1), "lat": c.lat, "lng": c.lng} for c in cameras],
    }


_LATEST_SQL = """
SELECT DISTINCT ON (unit) unit, ST_Y(location::geometry), ST_X(location::geometry), heading_deg, speed_kmh,
       recorded_at
FROM dispatch_officerposition
WHERE recorded_at >= %(since)s AND (%(unit)s = '' OR unit = %(unit)s)
ORDER BY unit, recorded_at DESC
LIMIT %(limit)s
"""


def positions_latest(*, unit: str = "", limit: int = 5000) -> list[PositionPayload]:
    """The newest report of each unit within the keep period (the `position_unit_latest` index)."""
    since = timezone.now() - timedelta(hours=settings.POSITIONS_KEEP_HOURS)
    with connection.cursor() as cursor:
        cursor.execute(_LATEST_SQL, {"since": since, "unit": unit, "limit": limit})
        return [position_payload_row(*row) for row in cursor.fetchall()]


def position_payload_row(unit, lat, lng, heading, speed, recorded_at) -> PositionPayload:
    return {"unit": unit, "lat": lat, "lng": lng, "heading": heading, "speed": speed,
            "at": recorded_at.isoformat()}


def positions_of_unit(*, unit: str) -> QuerySet[OfficerPosition]:
    return OfficerPosition.objects.filter(unit=unit)
