"""The program's limits on live sharing, for pilots: how many cameras of each owner kind may be integrated
(CONNECT_LIVE_MAX_*) and the program's last day (CONNECT_PILOT_ENDS). Reads and small helpers only; the queue's
admissions and the end of the program are in integration/queue.py."""

from django.conf import settings
from django.db import connection
from django.utils import timezone

from integration.models import LiveShareWaiting
from registry.models import Camera, Owner

_QUEUE_LOCK = 0x6C697665  # with the kind's position: one advisory lock per queue ("live")


def limit_of(kind: str) -> int:
    """The most integrated cameras of this kind, or 0 for no limit."""
    return settings.LIVE_MAX_PER_KIND.get(kind, 0)


def integrated_count(kind: str) -> int:
    return Camera.objects.filter(level=Camera.Level.INTEGRATED, owner__kind=kind).count()


def places_left(kind: str) -> int | None:
    """Free places for this kind, or None when it has no limit."""
    limit = limit_of(kind)
    return None if not limit else max(limit - integrated_count(kind), 0)


def program_ended(now=None) -> bool:
    ends = settings.PILOT_ENDS
    return ends is not None and timezone.localdate(now or timezone.now()) > ends


def queue_lock(kind: str) -> None:
    """Held to the end of the transaction: two signatures never both take the last place."""
    position = list(Owner.Kind.values).index(kind)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_QUEUE_LOCK + position])


def waiting_of(camera: Camera) -> LiveShareWaiting | None:
    return LiveShareWaiting.objects.filter(camera=camera).first()


def queue_position(waiting: LiveShareWaiting) -> int:
    """1 for the next to be admitted."""
    return LiveShareWaiting.objects.filter(kind=waiting.kind, signed_at__lt=waiting.signed_at).count() + 1


def limits_summary() -> list[dict]:
    """For staff pages: each kind with a limit, how many are integrated, whether it is reached, and the queue."""
    rows = []
    for kind, label in Owner.Kind.choices:
        limit = limit_of(kind)
        if not limit:
            continue
        used = integrated_count(kind)
        rows.append({"kind": kind, "label": label, "limit": limit, "integrated": used, "reached": used >= limit,
                     "waiting": LiveShareWaiting.objects.filter(kind=kind).count()})
    return rows
