"""Reads: the cameras whose view covers a concern's address, concerns for staff, an owner's own asks."""

from dataclasses import dataclass

from django.conf import settings
from django.db.models import QuerySet

from concerns.models import Concern, OwnerAsk
from registry.models import Camera
from registry.selectors import cameras_near


@dataclass(frozen=True)
class CoveringCamera:
    code: str
    label: str
    owner_kind: str
    level: str
    distance_m: float
    by_radius: bool  # a 360° camera has no cone: it covers whatever is within its range
    owner_code: str


def cameras_covering(concern: Concern) -> list[CoveringCamera]:
    """Active registered and integrated cameras whose view cone (direction ± field of view / 2, out to the camera's
    range) reaches the address; cameras that see all around count by their range alone."""
    near = cameras_near(point=concern.location, radius_m=settings.CAMERA_MAX_RANGE_M,
                        statuses=(Camera.Status.ACTIVE,))
    return [CoveringCamera(code=c.code, label=c.label, owner_kind=c.kind, level=c.level,
                           distance_m=round(c.distance_m, 1), by_radius=c.field_of_view_deg >= 360,
                           owner_code=c.owner_code) for c in near if c.covers]


def concerns_for_staff() -> QuerySet[Concern]:
    """Confirmed concerns, newest first (unconfirmed ones are nothing staff may act on)."""
    return Concern.objects.exclude(state=Concern.State.UNCONFIRMED)


def asks_of_owner(owner) -> QuerySet[OwnerAsk]:
    return OwnerAsk.objects.select_related("camera", "concern").filter(camera__owner=owner)


def ask_of_owner(*, owner, code) -> OwnerAsk | None:
    """The owner's own ask, or None: another owner's is indistinguishable from none."""
    return asks_of_owner(owner).filter(code=code).first()
