"""Writes of the registry: registration, confirmation, the owner portal's edits, deletion and purges."""

import logging
from datetime import timedelta

from auditlog.context import disable_auditlog
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.gis.geos import Point
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audit.actions import Action
from audit.ledger import entry, record, record_many
from common import outbox
from common.change_history import history_note
from common.mail import send_templated
from registry import links, signals
from registry.models import Camera, DeletionRecord, Owner, OwnerLink
from registry.owner_history import history_rows

logger = logging.getLogger(__name__)

# Fields an owner may set on a camera; everything else (status, level, verified) is the program's.
CAMERA_OWNER_FIELDS = (
    "label", "address", "placement", "faces_public", "direction_deg", "field_of_view_deg", "range_m",
    "records", "retention_days",
)


def camera_build(data: dict, *, owner: Owner) -> Camera:
    """An unsaved camera from cleaned form data."""
    camera = Camera(owner=owner, location=Point(data["longitude"], data["latitude"], srid=4326))
    for field in CAMERA_OWNER_FIELDS:
        if field in data:
            setattr(camera, field, data[field])
    return camera


@transaction.atomic
def owner_register(*, kind: str, name: str, email: str, phone: str, address: str, cameras: list[dict],
                   language: str = "en", invite: str = "") -> Owner:
    """A new, unconfirmed owner with pending cameras; the confirmation mail goes out after commit, in `language`
    (the one the form was filled in). `invite`: the invitation code the person came with, passed on as it is."""
    owner = Owner.objects.create(
        kind=kind, name=name, email=email.lower(), phone=phone, address=address, language=language,
        terms_version=settings.TERMS_VERSION, terms_accepted_at=timezone.now(),
    )
    for data in cameras:
        camera = camera_build(data, owner=owner)
        camera.full_clean()
        camera.save()
    outbox.enqueue("registry.tasks.registration_confirmation_send_task", {"owner_id": owner.pk})
    signals.owner_registered.send(sender=Owner, owner=owner, invite=invite)
    return owner


@transaction.atomic
def registration_confirmation_send(*, owner_id: int) -> str:
    """Mails the confirmation link once: not if the owner confirmed, is gone, or was mailed already. The owner's
    row stays locked while the mail goes out, so a second copy of the task (the outbox queues at least once)
    finds it locked or marked and sends nothing."""
    owner = Owner.objects.select_for_update(skip_locked=True).filter(pk=owner_id, confirmed_at__isnull=True).first()
    if owner is None:
        return "nothing to send"
    if owner.confirmation_sent_at is not None:
        return "already sent"
    url = links.link_issue(owner=owner, purpose=OwnerLink.Purpose.CONFIRM)
    send_templated(
        to=owner.email, language=owner.language,
        name="registration-confirm",
        context={"owner": owner, "cameras": list(owner.cameras.all()), "url": url,
                 "hours": settings.CONFIRM_LINK_HOURS},
    )
    Owner.objects.filter(pk=owner.pk).update(confirmation_sent_at=timezone.now())
    return "sent"


def registration_confirmations_pending() -> list[int]:
    """Owners whose confirmation mail never went out (broker or SMTP was down), oldest first."""
    # Past the last automatic retry of the send task (about 16 minutes), so the two never both send.
    settle = timezone.now() - timedelta(minutes=30)
    return list(
        Owner.objects.filter(confirmed_at__isnull=True, confirmation_sent_at__isnull=True, created_at__lt=settle)
        .order_by("created_at")
        .values_list("pk", flat=True)[:500]
    )


@transaction.atomic
def owner_confirm(*, token: str) -> Owner:
    """Confirms the registration behind a confirmation link: its pending cameras become active."""
    owner = links.link_use(token=token, purpose=OwnerLink.Purpose.CONFIRM)
    if owner.confirmed_at is None:
        owner.confirmed_at = timezone.now()
        owner.save(update_fields=["confirmed_at"])
    activated = list(owner.cameras.filter(status=Camera.Status.PENDING))
    owner.cameras.filter(status=Camera.Status.PENDING).update(status=Camera.Status.ACTIVE, updated_at=timezone.now())
    for camera in activated:
        cameras_registered_record(camera=camera, kind=owner.kind)
    return owner


def cameras_registered_record(*, camera: Camera, kind: str) -> None:
    """Each camera joining the program, for the transparency report (which reads only the ledger)."""
    record(actor="owner" if kind != "agency" else None, action=Action.CAMERA_REGISTERED, target_type="camera",
           target_code=camera.code, camera_code=camera.code, owner_code=camera.owner.code, kind=kind,
           level=camera.level)


def sign_in_link_request(*, email: str) -> None:
    """Queues the same work whether or not the email is registered; the worker looks it up. So neither the
    answer nor its timing says whether an address belongs to an owner."""
    outbox.enqueue("registry.tasks.sign_in_links_send_task", {"email": email.strip().lower()})


def sign_in_links_send(*, email: str) -> int:
    """Mails a sign-in link to each confirmed owner with this email (usually one, often none)."""
    owner_ids = list(Owner.objects.filter(email=email, confirmed_at__isnull=False).values_list("pk", flat=True))
    for owner_id in owner_ids:
        sign_in_link_send(owner_id=owner_id)
    return len(owner_ids)


def sign_in_link_send(*, owner_id: int) -> str:
    owner = Owner.objects.filter(pk=owner_id).first()
    if owner is None:
        return "owner gone"
    url = links.link_issue(owner=owner, purpose=OwnerLink.Purpose.SIGN_IN)
    send_templated(to=owner.email, name="portal-sign-in", language=owner.language,
                   context={"owner": owner, "url": url, "minutes": settings.SIGNIN_LINK_MINUTES})
    return "sent"


def owner_sign_in(*, token: str) -> Owner:
    return links.link_use(token=token, purpose=OwnerLink.Purpose.SIGN_IN)


@transaction.atomic
def owner_update(*, owner: Owner, name: str, phone: str, address: str, daily_digest: bool = False,
                 language: str = "") -> Owner:
    owner.name, owner.phone, owner.address, owner.daily_digest = name, phone, address, daily_digest
    owner.language = language or owner.language
    owner.full_clean()
    owner.save(update_fields=["name", "phone", "address", "daily_digest", "language"])
    return owner


def map_search_record(*, actor, cameras, case_number: str = "", **detail) -> None:
    """A radius search on the map or the API: one entry naming the owners and cameras it returned, so that each
    owner sees it (summarised per camera and day in their history and digest; audit/selectors.py). One entry,
    not one per camera: per-camera entries halved the nearby endpoint's throughput (bench/api_nearby.py)."""
    record_many([map_search_entry(actor=actor, cameras=cameras, case_number=case_number, **detail)])


def map_search_entry(*, actor, cameras, case_number: str = "", **detail) -> dict:
    """map_search_record's entry, not yet written: the API's fast route hands it to the ledger's group commit
    (api.nearby_route), which writes it together with other searches' entries."""
    found: dict[str, list[str]] = {}
    for camera in cameras:
        found.setdefault(camera.owner_code, []).append(camera.code)
    return entry(actor=actor, action=Action.MAP_SEARCH, target_type="map", case_number=case_number,
                 results=len(cameras), owners=sorted(found), cameras=found, **detail)


def map_view_record(*, actor, west: float, south: float, east: float, north: float, kinds, levels) -> None:
    """A staff map viewport load: one entry with its box. Owners see per camera and day how often the map showed
    their cameras (audit.selectors.map_views_of matches the box against each camera's point when they read it,
    through an index), so the write stays one small INSERT whatever the number of cameras in view."""
    record_many([map_view_entry(actor=actor, west=west, south=south, east=east, north=north, kinds=kinds,
                                levels=levels)])


def map_view_entry(*, actor, west: float, south: float, east: float, north: float, kinds, levels) -> dict:
    """map_view_record's entry, not yet written: the staff map's fast route (api.map_route) hands it to the ledger's
    group commit."""
    return entry(actor=actor, action=Action.MAP_VIEWED, target_type="map", west=west, south=south, east=east,
                 north=north, kinds=sorted(kinds), levels=sorted(levels))


def owner_digests_send(*, now=None) -> int:
    """The daily summary for owners who asked: the last day's ledger entries about their cameras, with one line
    per camera for the map searches that returned it."""
    now = now or timezone.now()
    sent = 0
    for owner in Owner.objects.filter(daily_digest=True, confirmed_at__isnull=False).iterator():
        rows = history_rows(owner=owner, since=now - timedelta(days=1), until=now)
        if not rows:
            continue
        send_templated(to=owner.email, name="owner-digest", language=owner.language, context={
            "owner": owner, "rows": list(reversed(rows)), "url": settings.PUBLIC_URL + "/owner/"})
        sent += 1
    return sent


@transaction.atomic
def camera_add(*, owner: Owner, data: dict) -> Camera:
    """An owner adds a camera from the portal; their email is already confirmed, so it is active."""
    camera = camera_build(data, owner=owner)
    camera.status = Camera.Status.ACTIVE if owner.is_confirmed else Camera.Status.PENDING
    camera.full_clean()
    camera.save()
    if camera.status == Camera.Status.ACTIVE:
        cameras_registered_record(camera=camera, kind=owner.kind)
    return camera


@transaction.atomic
def camera_update(*, camera: Camera, data: dict) -> Camera:
    camera.location = Point(data["longitude"], data["latitude"], srid=4326)
    for field in CAMERA_OWNER_FIELDS:
        if field in data:
            setattr(camera, field, data[field])
    if camera.placement == Camera.Placement.INDOOR:
        camera.level = Camera.Level.REGISTERED  # indoor cameras are never shared live
    # Editing is the other way to answer the yearly question: the owner has just said where it is and points.
    asked, paused_for_silence = camera.reconfirm_asked_at is not None, camera.reconfirm_paused_at is not None
    camera.reconfirmed_at = timezone.now()
    camera.reconfirm_asked_at = camera.reconfirm_reminded_at = camera.reconfirm_paused_at = None
    camera.full_clean()
    camera.save()
    if paused_for_silence:  # the cycle paused it, not the owner: confirming resumes it
        camera_set_paused(camera=camera, paused=False)
    if asked:
        record(actor="owner", action=Action.CAMERA_RECONFIRMED, target_type="camera", target_code=camera.code,
               camera_code=camera.code, owner_code=camera.owner.code, by="edit")
    signals.camera_changed.send(sender=Camera, camera=camera)
    return camera


def camera_set_paused(*, camera: Camera, paused: bool) -> Camera:
    """Pausing hides the camera from searches and requests until the owner resumes it."""
    allowed_from = Camera.Status.ACTIVE if paused else Camera.Status.PAUSED
    target = Camera.Status.PAUSED if paused else Camera.Status.ACTIVE
    changed = Camera.objects.filter(pk=camera.pk, status=allowed_from).update(status=target, updated_at=timezone.now())
    camera.refresh_from_db()
    if changed:
        history_note(camera, status=(allowed_from, target))
    if changed and paused:
        _live_views_end(camera)
    return camera


def camera_changed_by_staff(*, camera: Camera, status_before: str) -> None:
    """A supervisor or administrator changed a camera in the admin: the same consequences as the owner's own
    changes. A camera no longer active ends its live views at once; one no longer eligible stops its share."""
    if status_before == Camera.Status.ACTIVE and camera.status != Camera.Status.ACTIVE:
        _live_views_end(camera)
    signals.camera_changed.send(sender=Camera, camera=camera)


def _live_views_end(camera: Camera, *, deleted: bool = False) -> None:
    signals.camera_withdrawn.send(sender=Camera, camera=camera, deleted=deleted)


def _forget_admin_history(model, object_ids: list) -> None:
    """Django's admin log keeps object names and change messages: they go with the personal data."""
    if not object_ids:
        return
    content_type = ContentType.objects.get_for_model(model)
    ids = [str(pk) for pk in object_ids]
    LogEntry.objects.filter(content_type=content_type, object_id__in=ids).delete()
    from auditlog.models import LogEntry as AuditLogEntry

    AuditLogEntry.objects.filter(content_type=content_type, object_id__in=object_ids).delete()


@transaction.atomic
def camera_delete(*, camera: Camera, by=None) -> None:
    """Deletes one camera at once; deleting the last one deletes the owner's personal data too.

    `by`: the staff member deleting it from the admin (the ledger names them); None when the owner does."""
    owner = camera.owner
    if not owner.cameras.exclude(pk=camera.pk).exists():
        owner_delete(owner=owner, by=by)
        return
    if by is not None:
        record(actor=by, action=Action.CAMERA_DELETED_BY_STAFF, target_type="camera", target_code=camera.code,
               camera_code=camera.code, owner_code=owner.code)
    _live_views_end(camera, deleted=True)
    _forget_admin_history(Camera, [camera.pk])
    signals.cameras_deleted.send(sender=Camera, camera_ids=[camera.pk])
    with disable_auditlog():  # the change history would otherwise keep the deleted camera's label and address
        camera.delete()
    DeletionRecord.objects.create(scope=DeletionRecord.Scope.CAMERA, owner_kind=owner.kind, cameras=1)


@transaction.atomic
def owner_delete(*, owner: Owner, scope: str = DeletionRecord.Scope.OWNER, by=None) -> None:
    """Removes the owner, their cameras and links; keeps only a record that a deletion happened.

    `by`: the staff member deleting from the admin (the ledger names them); None when the owner does."""
    camera_ids = list(owner.cameras.values_list("pk", flat=True))
    if by is not None:
        record(actor=by, action=Action.OWNER_DELETED_BY_STAFF, target_type="owner", target_code=owner.code,
               owner_code=owner.code, cameras=len(camera_ids))
    signals.owner_deleted.send(sender=Owner, owner=owner, camera_ids=camera_ids)
    _forget_admin_history(Camera, camera_ids)
    _forget_admin_history(Owner, [owner.pk])
    signals.cameras_deleted.send(sender=Camera, camera_ids=camera_ids)
    kind = owner.kind
    with disable_auditlog():
        owner.delete()
    DeletionRecord.objects.create(scope=scope, owner_kind=kind, cameras=len(camera_ids))


def registrations_unconfirmed_purge(*, batch: int = 200) -> int:
    """Deletes registrations never confirmed within CONNECT_UNCONFIRMED_PURGE_DAYS; idempotent."""
    cutoff = timezone.now() - timedelta(days=settings.UNCONFIRMED_PURGE_DAYS)
    purged = 0
    while True:
        stale = Owner.objects.filter(confirmed_at__isnull=True, created_at__lt=cutoff)
        ids = list(stale.values_list("pk", flat=True)[:batch])
        if not ids:
            if purged:
                record(actor=None, action=Action.REGISTRATIONS_PURGED, target_type="owner", count=purged,
                       reason=f"never confirmed within {settings.UNCONFIRMED_PURGE_DAYS} days")
            return purged
        for owner in Owner.objects.filter(pk__in=ids):
            owner_delete(owner=owner, scope=DeletionRecord.Scope.UNCONFIRMED)
            purged += 1


def links_lapsed_purge() -> int:
    """Deletes emailed owner links that were used or lapsed more than CONNECT_LINK_PURGE_DAYS ago."""
    cutoff = timezone.now() - timedelta(days=settings.LINK_PURGE_DAYS)
    longest = timedelta(hours=settings.CONFIRM_LINK_HOURS)
    # An unused re-confirmation link works for the whole cycle (months): it stays until it lapses.
    reconfirm_span = timedelta(days=settings.RECONFIRM_PAUSE_DAYS + settings.RECONFIRM_PURGE_DAYS)
    still_working = Q(purpose=OwnerLink.Purpose.RECONFIRM, used_at__isnull=True,
                      created_at__gte=cutoff - reconfirm_span)
    purged = OwnerLink.objects.filter(created_at__lt=cutoff - longest).exclude(still_working).delete()[0]
    if purged:
        record(actor=None, action=Action.LINKS_PURGED, target_type="owner_link", count=purged)
    return purged
