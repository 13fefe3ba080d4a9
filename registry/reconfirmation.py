"""The yearly re-confirmation: owners say their cameras still exist and point where they did, or the cameras go.

A camera is due CONNECT_RECONFIRM_DAYS after it was last confirmed (or registered). Then, one owner at a time and one
mail per owner for all their due cameras:

    ask -> reminder (REMIND_DAYS after the ask) -> pause (PAUSE_DAYS after the ask) -> purge (PURGE_DAYS after that)

Each step is claimed under a row lock and stamped on the cameras, so running the beat task twice, or on two
machines, mails nobody twice. The owner answers with one click from any of these mails (a RECONFIRM link, valid
for the whole cycle), from the portal's banner, or by editing the camera; any of them ends the cycle and resumes a
camera the cycle paused. A camera the owner paused themselves stays paused.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from audit.actions import Action
from audit.ledger import record
from common.mail import send_templated
from registry import links, services
from registry.models import Camera, Owner, OwnerLink

# Cameras the question is about: in the program (not pending, not removed) and of a confirmed owner.
_IN_PROGRAM = Q(status__in=[Camera.Status.ACTIVE, Camera.Status.PAUSED], owner__confirmed_at__isnull=False)
_OWNERS_PER_RUN = 500  # a run that stops here goes on at the next; each step is claimed, so nothing repeats


def reconfirmations_advance(*, now=None) -> dict[str, int]:
    """Moves every camera whose day has come one step on; returns how many owners each step mailed."""
    now = now or timezone.now()
    return {
        "purged": _each_owner(_purge_due(now), _purge, now),
        "paused": _each_owner(_pause_due(now), _pause, now),
        "reminded": _each_owner(_remind_due(now), _remind, now),
        "asked": _each_owner(_ask_due(now), _ask, now),
    }


def _ask_due(now):
    last = Coalesce("reconfirmed_at", "created_at")
    return (Camera.objects.filter(_IN_PROGRAM, reconfirm_asked_at__isnull=True).alias(last=last)
            .filter(last__lt=now - timedelta(days=settings.RECONFIRM_DAYS)))


def _remind_due(now):
    # Not once the pause is due (beat was away): the pause's notice says more than a late reminder would.
    return Camera.objects.filter(_IN_PROGRAM, reconfirm_reminded_at__isnull=True, reconfirm_paused_at__isnull=True,
                                 reconfirm_asked_at__lt=now - timedelta(days=settings.RECONFIRM_REMIND_DAYS),
                                 reconfirm_asked_at__gte=now - timedelta(days=settings.RECONFIRM_PAUSE_DAYS))


def _pause_due(now):
    # Only active cameras: one the owner paused is left as it is (and still purged if never confirmed).
    return Camera.objects.filter(_IN_PROGRAM, status=Camera.Status.ACTIVE, reconfirm_paused_at__isnull=True,
                                 reconfirm_asked_at__lt=now - timedelta(days=settings.RECONFIRM_PAUSE_DAYS))


def _purge_due(now):
    purge = timedelta(days=settings.RECONFIRM_PURGE_DAYS)
    # The second grace counts from the pause; if beat was away and the pause came late, the owner still gets it whole.
    return Camera.objects.filter(
        Q(reconfirm_paused_at__isnull=True) | Q(reconfirm_paused_at__lt=now - purge), _IN_PROGRAM,
        reconfirm_asked_at__lt=now - timedelta(days=settings.RECONFIRM_PAUSE_DAYS) - purge)


def _each_owner(due, step, now) -> int:
    """Runs `step(owner, cameras, now)` per owner with due cameras, those cameras locked; a camera another run
    holds is skipped, and one it has moved on is no longer due when the lock is had."""
    owner_ids = list(due.order_by().values_list("owner_id", flat=True).distinct()[:_OWNERS_PER_RUN])
    done = 0
    for owner_id in owner_ids:
        with transaction.atomic():
            cameras = list(due.filter(owner_id=owner_id).select_related("owner")
                           .select_for_update(skip_locked=True, of=("self",)).order_by("label"))
            if cameras:
                step(cameras[0].owner, cameras, now)
                done += 1
    return done


def _mail(owner: Owner, cameras: list[Camera], now, *, name: str, link: bool = True, **context) -> None:
    """The step's mail, in the owner's language; sent inside the step's transaction, so a failed send leaves the
    cameras unstamped and the next run tries again."""
    url = links.link_issue(owner=owner, purpose=OwnerLink.Purpose.RECONFIRM) if link else ""
    send_templated(to=owner.email, name=name, language=owner.language, context={
        "owner": owner, "cameras": cameras, "url": url, "portal_url": settings.PUBLIC_URL + "/owner/", **context})


def _record_each(cameras: list[Camera], action: Action) -> None:
    for camera in cameras:
        record(actor=None, action=action, target_type="camera", target_code=camera.code, camera_code=camera.code,
               owner_code=camera.owner.code, kind=camera.owner.kind, level=camera.level)


def _ask(owner, cameras, now) -> None:
    pause_on = now + timedelta(days=settings.RECONFIRM_PAUSE_DAYS)
    _mail(owner, cameras, now, name="reconfirm-ask", pause_on=pause_on, reminder=False)
    Camera.objects.filter(pk__in=[c.pk for c in cameras]).update(reconfirm_asked_at=now)
    _record_each(cameras, Action.RECONFIRMATION_ASKED)


def _remind(owner, cameras, now) -> None:
    pause_on = min(c.reconfirm_asked_at for c in cameras) + timedelta(days=settings.RECONFIRM_PAUSE_DAYS)
    _mail(owner, cameras, now, name="reconfirm-ask", pause_on=pause_on, reminder=True)
    Camera.objects.filter(pk__in=[c.pk for c in cameras]).update(reconfirm_reminded_at=now)
    _record_each(cameras, Action.RECONFIRMATION_REMINDED)


def _pause(owner, cameras, now) -> None:
    purge_on = now + timedelta(days=settings.RECONFIRM_PURGE_DAYS)
    _mail(owner, cameras, now, name="reconfirm-paused", purge_on=purge_on)
    Camera.objects.filter(pk__in=[c.pk for c in cameras]).update(reconfirm_paused_at=now)
    for camera in cameras:
        services.camera_set_paused(camera=camera, paused=True)  # ends its live views, notes the change
    _record_each(cameras, Action.CAMERA_PAUSED_UNCONFIRMED)


def _purge(owner, cameras, now) -> None:
    remaining = owner.cameras.exclude(pk__in=[c.pk for c in cameras]).exists()
    _mail(owner, cameras, now, name="reconfirm-purged", link=False, registration_deleted=not remaining)
    _record_each(cameras, Action.CAMERA_PURGED_UNCONFIRMED)  # before the rows go: the entry names them
    for camera in cameras:
        services.camera_delete(camera=Camera.objects.get(pk=camera.pk))  # the last one deletes the owner too


@transaction.atomic
def cameras_reconfirm(*, owner: Owner, now=None) -> int:
    """The owner says all their cameras still exist and point where they did: a new year starts for each, and a
    camera the cycle paused is active again. Only this owner's cameras, whatever asked. Returns how many."""
    now = now or timezone.now()
    cameras = list(Camera.objects.select_for_update().filter(_IN_PROGRAM, owner=owner))
    for camera in cameras:
        paused_for_silence = camera.reconfirm_paused_at is not None
        asked = camera.reconfirm_asked_at is not None
        Camera.objects.filter(pk=camera.pk).update(reconfirmed_at=now, reconfirm_asked_at=None,
                                                   reconfirm_reminded_at=None, reconfirm_paused_at=None)
        if paused_for_silence:
            services.camera_set_paused(camera=camera, paused=False)
        if asked:
            record(actor="owner", action=Action.CAMERA_RECONFIRMED, target_type="camera", target_code=camera.code,
                   camera_code=camera.code, owner_code=owner.code, kind=owner.kind, level=camera.level)
    return len(cameras)


def cameras_reconfirm_by_link(*, token: str) -> Owner:
    """The one click from a re-confirmation mail: uses the link up and confirms its owner's cameras."""
    with transaction.atomic():
        owner = links.link_use(token=token, purpose=OwnerLink.Purpose.RECONFIRM)
        cameras_reconfirm(owner=owner)
    return owner
