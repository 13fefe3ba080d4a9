"""Reads of detections, permission-aware: a search needs the search permission and a case the user may view."""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import QuerySet

from common.access import is_program_staff
from detections.models import ClipIndex, Detection
from requests_app.selectors import can_view_incident


def can_search(user, incident) -> bool:
    return (is_program_staff(user) and user.has_perm("detections.search_detections")
            and can_view_incident(user, incident))


@dataclass
class Criteria:
    kind: str = Detection.Kind.PERSON
    upper_colour: str = ""
    lower_colour: str = ""
    hat: bool = False
    hat_colour: str = ""
    bag: bool = False
    vehicle_type: str = ""
    vehicle_colour: str = ""
    direction: str = ""
    since: datetime | None = None
    until: datetime | None = None
    camera_ids: list[int] = field(default_factory=list)

    def as_ledger(self) -> dict:
        """What the search asked, for the ledger: only the attributes given."""
        values = {name: value for name, value in self.__dict__.items() if value not in ("", False, None, [])}
        for name in ("since", "until"):
            if name in values:
                values[name] = values[name].isoformat()
        return values


def detections_matching(*, incident, criteria: Criteria, limit: int = 200) -> QuerySet[Detection]:
    found = Detection.objects.filter(incident=incident, kind=criteria.kind, clip__purged_at__isnull=True)
    for name in ("upper_colour", "lower_colour", "hat_colour", "vehicle_type", "vehicle_colour", "direction"):
        value = getattr(criteria, name)
        if value:
            found = found.filter(**{name: value})
    if criteria.hat or criteria.hat_colour:
        found = found.filter(hat=True)
    if criteria.bag:
        found = found.filter(bag=True)
    if criteria.since:
        found = found.filter(seen_at__gte=criteria.since)
    if criteria.until:
        found = found.filter(seen_at__lte=criteria.until)
    if criteria.camera_ids:
        found = found.filter(camera_id__in=criteria.camera_ids)
    # Only what the page shows: a clip row carries its wrapped key and hashes, a camera its owner's words.
    return (found.select_related("clip", "camera")
            .only(*SHOWN, "clip__code", "camera__label", "camera__location")
            .order_by("seen_at", "clip_id", "t_s")[:limit])


SHOWN = ("code", "clip", "camera", "kind", "t_s", "first_s", "last_s", "seen_at", "upper_colour", "lower_colour",
         "hat", "hat_colour", "bag", "vehicle_type", "vehicle_colour", "direction")


def index_states(*, incident) -> dict[str, int]:
    """How many of the case's clips are indexed, waiting, or not indexed (the page says so)."""
    from django.db.models import Count

    rows = ClipIndex.objects.filter(incident=incident).values("state").annotate(n=Count("id"))
    return {row["state"]: row["n"] for row in rows}


def clips_not_indexed(*, incident) -> QuerySet[ClipIndex]:
    return ClipIndex.objects.filter(incident=incident, state=ClipIndex.State.FAILED).select_related("clip")


def case_cameras(*, incident) -> list:
    """The cameras the case's clips came from (those whose detections can be searched)."""
    from registry.models import Camera

    ids = ClipIndex.objects.filter(incident=incident, camera__isnull=False).values("camera_id")
    return list(Camera.objects.filter(pk__in=ids).order_by("label"))


def watches_on(*, incident_id: int) -> dict[str, dict]:
    """The case's watches that are on now (code -> the attributes looked for); none once the case is closed."""
    from django.utils import timezone

    from detections.models import LiveWatch

    rows = LiveWatch.objects.filter(incident_id=incident_id, incident__status="open", state=LiveWatch.State.ON,
                                    ends_at__gt=timezone.now()).values_list("code", "criteria")
    return {str(code): criteria for code, criteria in rows}


def watches_of_case(*, incident, limit: int = 20):
    """The case's watches, newest first, with their latest matches (the search page's notice)."""
    from django.db.models import Prefetch

    from detections.models import LiveWatch, LiveWatchMatch

    return (LiveWatch.objects.filter(incident=incident).select_related("set_by")
            .prefetch_related(Prefetch("matches", queryset=LiveWatchMatch.objects.order_by("-seen_at")))[:limit])


def may_get_marks(user, session) -> bool:
    """Deny by default: the analyst holding the open live view, who may also search its case."""
    return (session is not None and session.ended_at is None and session.incident is not None
            and session.analyst_id == user.pk and can_search(user, session.incident))
