"""Writes for calls for service and officer positions: what dispatch and vehicle location push, promotion of a
call to an incident, and the purges."""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit.actions import Action
from audit.ledger import record
from dispatch import selectors
from dispatch.live import broadcaster
from dispatch.models import CallForService, OfficerPosition
from registry.selectors import in_service_area
from requests_app.models import Incident
from requests_app.services import incident_create

PURGE_BATCH = 5000
# A fix stamped further ahead than this is a clock fault, not a position.
CLOCK_SKEW = timedelta(minutes=2)


def _point(*, latitude: float, longitude: float, field: str = "location") -> Point:
    if not in_service_area(latitude=latitude, longitude=longitude):
        raise ValidationError({field: "This point is outside the agency's service area."})
    return Point(longitude, latitude, srid=4326)


def _not_future(value: datetime, field: str) -> None:
    if value > timezone.now() + CLOCK_SKEW:
        raise ValidationError({field: "This time is in the future: check the sender's clock."})


def _publish_call(call_id: int) -> None:
    call = selectors.calls_all().filter(pk=call_id).first()
    if call is not None:
        broadcaster.call(selectors.call_payload(call))


def call_receive(*, dispatch_id: str, call_type: str, priority: int, latitude: float, longitude: float,
                 received_at: datetime, status: str = CallForService.Status.PENDING,
                 address: str = "") -> tuple[CallForService, bool]:
    """Creates the call, or updates the call dispatch sent before under this id (dispatch resends on every
    change). The map hears of it on commit, with the cameras nearest to it."""
    location = _point(latitude=latitude, longitude=longitude)
    _not_future(received_at, "received_at")
    with transaction.atomic():
        call, created = CallForService.objects.update_or_create(
            dispatch_id=dispatch_id,
            defaults={"call_type": call_type, "priority": priority, "location": location, "address": address,
                      "received_at": received_at, "status": status})
        transaction.on_commit(lambda: _publish_call(call.pk))
    return call, created


@transaction.atomic
def call_promote(*, call: CallForService, user, case_number: str, offense_type: str, owner_summary: str,
                 radius_m: int = 300, starts_at: datetime | None = None, ends_at: datetime | None = None,
                 internal_notes: str = "") -> Incident:
    """Opens an incident at the call's place and time (by default the hour either side of the call)."""
    call = CallForService.objects.select_for_update().get(pk=call.pk)
    if call.incident_id:
        raise ValidationError(f"This call was promoted already, to case {call.incident.case_number}.")
    incident = incident_create(
        user=user, case_number=case_number, offense_type=offense_type, location=call.location,
        address=call.address, starts_at=starts_at or call.received_at - timedelta(hours=1),
        ends_at=ends_at or call.received_at + timedelta(hours=1), radius_m=radius_m, owner_summary=owner_summary,
        internal_notes=internal_notes)
    call.incident = incident
    call.save(update_fields=["incident", "updated_at"])
    record(actor=user, action=Action.CALL_PROMOTED, target_type="call", target_code=call.code,
           incident_code=incident.code, case_number=incident.case_number, dispatch_id=call.dispatch_id)
    transaction.on_commit(lambda: _publish_call(call.pk))
    return incident


def position_check(*, latitude: float, longitude: float, recorded_at: datetime) -> Point:
    """Raises ValidationError for a report that cannot be stored: outside the service area, in the future, or
    older than the positions are kept. No I/O: the position push runs it on its event loop."""
    location = _point(latitude=latitude, longitude=longitude)
    _not_future(recorded_at, "recorded_at")
    if recorded_at < timezone.now() - timedelta(hours=settings.POSITIONS_KEEP_HOURS):
        raise ValidationError({"recorded_at": f"Older than the {settings.POSITIONS_KEEP_HOURS} hours positions "
                                              "are kept."})
    return location


def position_record(*, unit: str, latitude: float, longitude: float, recorded_at: datetime,
                    heading_deg: int | None = None, speed_kmh: int | None = None) -> OfficerPosition:
    """Stores one report and hands it to the map's next tick (which keeps the newest per unit)."""
    location = position_check(latitude=latitude, longitude=longitude, recorded_at=recorded_at)
    position = OfficerPosition.objects.create(unit=unit, location=location, heading_deg=heading_deg,
                                              speed_kmh=speed_kmh, recorded_at=recorded_at)
    payload = selectors.position_payload_row(unit, latitude, longitude, heading_deg, speed_kmh, recorded_at)
    transaction.on_commit(lambda: broadcaster.position(recorded_at, payload))
    return position


def positions_record(*, positions: list[dict]) -> int:
    """Many reports (a gateway's batch), all or none: one INSERT, then each to the map's next tick."""
    now = timezone.now()
    oldest = now - timedelta(hours=settings.POSITIONS_KEEP_HOURS)
    errors = {}
    rows = []
    for index, p in enumerate(positions):
        if not in_service_area(latitude=p["latitude"], longitude=p["longitude"]):
            errors[f"positions[{index}]"] = "This point is outside the agency's service area."
        elif p["recorded_at"] > now + CLOCK_SKEW:
            errors[f"positions[{index}]"] = "This time is in the future: check the sender's clock."
        elif p["recorded_at"] < oldest:
            errors[f"positions[{index}]"] = f"Older than the {settings.POSITIONS_KEEP_HOURS} hours positions are kept."
        else:
            rows.append(OfficerPosition(unit=p["unit"], location=Point(p["longitude"], p["latitude"], srid=4326),
                                        heading_deg=p["heading_deg"], speed_kmh=p["speed_kmh"],
                                        recorded_at=p["recorded_at"]))
    if errors:
        raise ValidationError(errors)
    OfficerPosition.objects.bulk_create(rows)

    def publish():
        for p in positions:
            broadcaster.position(p["recorded_at"], selectors.position_payload_row(
                p["unit"], p["latitude"], p["longitude"], p["heading_deg"], p["speed_kmh"], p["recorded_at"]))

    transaction.on_commit(publish)
    return len(rows)


def _purge(queryset, action: Action) -> int:
    """Deletes by primary key in batches, so a long backlog never holds one huge transaction."""
    purged = 0
    while True:
        ids = list(queryset.order_by("pk").values_list("pk", flat=True)[:PURGE_BATCH])
        if not ids:
            break
        purged += queryset.model.objects.filter(pk__in=ids).delete()[0]
    if purged:
        record(actor=None, action=action, target_type=queryset.model._meta.model_name, count=purged)
    return purged


def calls_purge() -> int:
    """Deletes calls received more than CONNECT_CALLS_KEEP_DAYS ago (a promoted call's incident stays)."""
    cutoff = timezone.now() - timedelta(days=settings.CALLS_KEEP_DAYS)
    return _purge(CallForService.objects.filter(received_at__lt=cutoff), Action.CALLS_PURGED)


def positions_purge() -> int:
    """Deletes position reports recorded more than CONNECT_POSITIONS_KEEP_HOURS ago."""
    cutoff = timezone.now() - timedelta(hours=settings.POSITIONS_KEEP_HOURS)
    return _purge(OfficerPosition.objects.filter(recorded_at__lt=cutoff), Action.POSITIONS_PURGED)
