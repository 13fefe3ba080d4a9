"""Sending bulletins, recipients' receipts, reading a still, and purging expired stills."""

import io
import math
from dataclasses import dataclass, field, replace
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageOps, UnidentifiedImageError

from audit.actions import Action
from audit.ledger import record
from bulletins import live, media
from bulletins.case_media import STILL_FORMATS, camera_masks, still_masked
from bulletins.models import Bulletin, PatrolOfficer, Recipient
from bulletins.selectors import MODEL_BACKEND, RECEIVE, bulletin_payload, receipt_payload
from common.access import is_program_staff
from dispatch import selectors as dispatch_selectors
from registry import selectors as registry_selectors
from requests_app import selectors as requests_selectors
from requests_app import services as requests_services
from requests_app.models import Clip


@dataclass
class Still:
    """A still to send: its bytes and, when it came from a camera, whose camera (for the owner's history)."""

    jpeg: bytes
    camera_code: str = ""
    owner_code: str = ""
    evidence_code: str = ""  # a still saved as evidence of the case, when it is one


STILL_QUALITY = 90
ORIENTATION = 0x0112  # the EXIF tag saying how the picture is turned
_KEPT_SEGMENTS = {0xE0, 0xEE}  # JFIF, and Adobe's colour transform (needed to decode); an ICC profile is kept too


def still_clean(data: bytes) -> bytes:
    """The picture without its metadata: an owner's upload or a camera's frame may carry the phone's position, its
    owner's name or the camera's name, which must not go to patrol with it. A JPEG loses its metadata segments and
    nothing else (the same bytes when it had none); a turned JPEG or another format is re-encoded upright as a JPEG.
    ValidationError if it is not a picture."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            upright = image.format == "JPEG" and image.getexif().get(ORIENTATION, 1) == 1
            stripped = _jpeg_stripped(data) if upright else None
            if stripped is not None:
                return stripped
            picture = ImageOps.exif_transpose(image).convert("RGB")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError("The still could not be read as a picture.") from None
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=STILL_QUALITY)
    return out.getvalue()


def _jpeg_stripped(data: bytes) -> bytes | None:
    """The JPEG without its APP1-APP15 (EXIF, XMP, makers' notes) and comment segments, but JFIF, Adobe's and an
    ICC profile; None when its segments cannot be walked (then it is re-encoded)."""
    out, at = [data[:2]], 2
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker == 0xDA:  # start of scan: the picture itself, to the end
            out.append(data[at:])
            return b"".join(out)
        length = int.from_bytes(data[at + 2:at + 4], "big")
        if length < 2 or at + 2 + length > len(data):
            return None
        segment = data[at:at + 2 + length]
        metadata = 0xE1 <= marker <= 0xEF or marker == 0xFE
        if not metadata or marker in _KEPT_SEGMENTS or (marker == 0xE2 and segment[4:16] == b"ICC_PROFILE\0"):
            out.append(segment)
        at += 2 + length
    return None


def evidence_still(*, user, code):
    """(Still, incident) of a still saved as evidence of a case the user may view; ValidationError otherwise (a
    stranger's case reads as not found). Read through requests_app's evidence access, which checks the case. The
    camera's current privacy masks are painted on it (bulletins.case_media.still_masked)."""
    clip = (Clip.objects.select_related("incident", "camera__owner", "request__camera__owner").filter(code=code).first()
            if _uuid_or_none(code) else None)
    if clip is None or not requests_selectors.can_view_incident(user, clip.incident):
        raise ValidationError("No saved still with that evidence code in a case you may view.")
    if clip.media_format not in STILL_FORMATS or clip.duration_s:
        raise ValidationError("That evidence is a video clip, not a still.")
    if clip.size > media.MAX_BYTES:
        raise ValidationError("The still is larger than 4 MB.")
    stream = requests_services.clip_open(clip=clip, user=user, action=None)  # recorded as the bulletin's send
    try:
        data = b"".join(stream)
    finally:
        stream.close()
    camera = requests_selectors.clip_camera(clip)
    try:
        data = still_masked(data, camera_masks(camera))
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    return Still(jpeg=data, camera_code=str(camera.code) if camera else "",
                 owner_code=str(camera.owner.code) if camera else "", evidence_code=str(clip.code)), clip.incident


def _uuid_or_none(value):
    import uuid

    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


@dataclass
class Addressees:
    units: list[str] = field(default_factory=list)  # unit ids, each must have an officer
    near: Point | None = None  # with within_km: every unit whose last position is that close
    within_km: float | None = None
    zone: str = ""
    usernames: list[str] = field(default_factory=list)

    def any(self) -> bool:
        """Whether anyone is addressed (a point alone addresses nobody)."""
        return bool(self.units or self.within_km is not None or self.zone or self.usernames)


def _km_between(lat1, lng1, lat2, lng2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0088 * 2 * math.asin(math.sqrt(a))


def units_within(*, point: Point, km: float) -> list[str]:
    """The units whose last reported position (dispatch) lies within `km` of the point, nearest first."""
    found = [(_km_between(point.y, point.x, p["lat"], p["lng"]), p["unit"])
             for p in dispatch_selectors.positions_latest()]
    return [unit for distance, unit in sorted(found) if distance <= km]


def recipients_resolve(addressees: Addressees) -> dict[int, tuple[object, str]]:
    """{user id: (user, how they were addressed)}. Raises ValidationError naming every addressee that cannot
    receive (a unit nobody rides in, a gone account): nothing is sent then."""
    found: dict[int, tuple[object, str]] = {}
    problems: list[str] = []

    def add(user, via: str):
        if not is_program_staff(user):
            problems.append(f"{user.get_username()} cannot receive bulletins (the account is not active staff).")
        else:
            found.setdefault(user.pk, (user, via))

    # A unit's officer who lost the Patrol officer role (or the account) is no longer in it: nobody rides in it.
    receiving = get_user_model().objects.with_perm(RECEIVE, is_active=True, include_superusers=True,
                                                   backend=MODEL_BACKEND).values("pk")
    officers = {o.unit: o for o in PatrolOfficer.objects.select_related("user").filter(user__in=receiving)}
    for unit in addressees.units:
        officer = officers.get(unit)
        if officer is None:
            problems.append(f"Unit {unit} does not exist or has no patrol officer assigned.")
        else:
            add(officer.user, f"unit {unit}")
    if addressees.within_km is not None:
        if addressees.near is None:
            problems.append("Units within a distance need a location: put the point on the map.")
        else:
            nearby = [u for u in units_within(point=addressees.near, km=addressees.within_km) if u in officers]
            if not nearby:
                problems.append("No unit with a patrol officer reported a position within "
                                f"{addressees.within_km:g} km.")
            for unit in nearby:
                add(officers[unit].user, f"unit {unit} within {addressees.within_km:g} km")
    if addressees.zone:
        in_zone = [o for o in officers.values() if o.zone == addressees.zone]
        if not in_zone:
            problems.append(f"No patrol officer is assigned to zone {addressees.zone}.")
        for officer in in_zone:
            add(officer.user, f"zone {addressees.zone}")
    users = {u.get_username(): u for u in get_user_model().objects.filter(username__in=addressees.usernames)}
    for name in addressees.usernames:
        if name not in users:
            problems.append(f"There is no account named {name}.")
        else:
            add(users[name], "named")
    if problems:
        raise ValidationError(problems)
    if not found:
        raise ValidationError("Choose who receives the bulletin: units near the point, a zone, units or people.")
    return found


def addressed(*, addressees: Addressees, thread: Bulletin | None) -> tuple[Bulletin | None, dict]:
    """(the thread's first bulletin, {user id: (user, how addressed)}): an update (`thread`) goes to the first
    bulletin's recipients as well as any added."""
    root = (thread.thread or thread) if thread is not None else None
    found = recipients_resolve(addressees) if root is None or addressees.any() else {}
    if root is not None:  # the first bulletin's recipients hear of every update
        found = {**{r.user_id: (r.user, r.via) for r in root.recipients.select_related("user")}, **found}
    return root, found


def description_clean(description: str) -> str:
    description = (description or "").strip()
    if not description:
        raise ValidationError("Say what to look for: the description is empty.")
    return description


def bulletin_new(*, sender, description, priority, incident, location, root, **fields) -> Bulletin:
    """An unsaved bulletin: its case from the thread when not given, its expiry from now."""
    incident = incident if incident is not None else (root.incident if root is not None else None)
    return Bulletin(sender=sender, thread=root, incident=incident,
                    case_number=incident.case_number if incident is not None else "",
                    location=location if location is not None else (root.location if root else None),
                    description=description, priority=priority,
                    expires_at=timezone.now() + timedelta(hours=settings.BULLETIN_HOURS), **fields)


def recipients_deliver(*, bulletin: Bulletin, found: dict, media: str = "", evidence: str = "") -> None:
    """In the caller's transaction: the recipients' rows, the ledger's send entry, and the sockets once it commits."""
    Recipient.objects.bulk_create([Recipient(bulletin=bulletin, user=user, via=via)
                                   for user, via in found.values()])
    record(actor=bulletin.sender, action=Action.BULLETIN_SENT, **audit_args(bulletin), recipients=len(found),
           addressed=sorted({via for _, via in found.values()})[:50], still=media == "still", media=media,
           evidence=evidence, thread=str(bulletin.thread.code) if bulletin.thread_id else "")
    payload = bulletin_payload(bulletin, state="sent")
    live.after_commit(live.PATROL_GROUP, {"type": "bulletin.new", "to": sorted(found), "bulletin": payload})
    if settings.WEBPUSH_ENABLED:  # phones whose page is closed: a notice with no content (bulletins.push)
        from bulletins.tasks import bulletin_push_task

        transaction.on_commit(lambda: bulletin_push_task.delay(bulletin.pk))


def audit_args(bulletin: Bulletin) -> dict:
    return {"target_type": "bulletin", "target_code": bulletin.code, "case_number": bulletin.case_number,
            "incident_code": bulletin.incident.code if bulletin.incident_id else ""}


def bulletin_send(*, sender, description: str, priority: str = Bulletin.Priority.URGENT, incident=None,
                  location: Point | None = None, addressees: Addressees, still: Still | None = None,
                  thread: Bulletin | None = None) -> Bulletin:
    """Sends a bulletin to every addressee, or to nobody: all rows, the sealed still and the ledger in one
    transaction; the sockets hear of it once it commits. An update (`thread`) goes to the first bulletin's
    recipients as well as any added."""
    description = description_clean(description)
    if still is not None and not still.jpeg:
        raise ValidationError("The still is empty.")
    if still is not None and len(still.jpeg) > media.MAX_BYTES:
        raise ValidationError("The still is larger than 4 MB.")
    if still is not None:
        still = replace(still, jpeg=still_clean(still.jpeg))
    root, found = addressed(addressees=addressees, thread=thread)
    with transaction.atomic():
        bulletin = bulletin_new(sender=sender, description=description, priority=priority, incident=incident,
                                location=location, root=root)
        if still is not None:
            bulletin.save()  # the code binds the sealed still
            bulletin.media_sealed, bulletin.media_key_wrapped, bulletin.media_key_id = media.media_seal(
                still.jpeg, code=bulletin.code)
            bulletin.media_type = "image/jpeg"
            bulletin.camera_code, bulletin.owner_code = still.camera_code, still.owner_code
        bulletin.save()
        recipients_deliver(bulletin=bulletin, found=found, media="still" if still is not None else "",
                           evidence=still.evidence_code if still is not None else "")
        if still is not None and still.camera_code:
            record(actor=sender, action=Action.BULLETIN_STILL_SHARED, **audit_args(bulletin),
                   camera_code=still.camera_code, owner_code=still.owner_code, recipients=len(found),
                   evidence=still.evidence_code)
    return bulletin


_STAMPS = {"received": "received_at", "opened": "opened_at", "acknowledged": "acknowledged_at"}
_STAMP_ACTIONS = {"opened": Action.BULLETIN_VIEWED, "acknowledged": Action.BULLETIN_ACKNOWLEDGED}


def receipt_mark(*, user, code, step: str) -> Recipient | None:
    """Stamps a recipient's receipt (received, opened, acknowledged; an acknowledgement implies the others) once,
    records opening and acknowledging in the ledger and tells the sender's page. None if not a recipient."""
    recipient = Recipient.objects.select_related("bulletin", "bulletin__thread", "user").filter(
        user=user, bulletin__code=code).first()
    if recipient is None:
        return None
    now = timezone.now()
    steps = list(_STAMPS)[:list(_STAMPS).index(step) + 1]
    changed = [name for name in (_STAMPS[s] for s in steps) if getattr(recipient, name) is None]
    if not changed:
        return recipient
    with transaction.atomic():
        # Conditional: two windows of one officer cannot stamp twice.
        for name in changed:
            if Recipient.objects.filter(pk=recipient.pk, **{f"{name}__isnull": True}).update(**{name: now}):
                setattr(recipient, name, now)
                action = _STAMP_ACTIONS.get(next(s for s, n in _STAMPS.items() if n == name))
                if action is not None:
                    bulletin = recipient.bulletin
                    record(actor=user, action=action, target_type="bulletin", target_code=bulletin.code,
                           case_number=bulletin.case_number)
        bulletin = recipient.bulletin
        root = bulletin.thread or bulletin
        live.after_commit(live.receipts_group(root.code), {"type": "bulletin.receipt",
                                                           "receipt": receipt_payload(recipient)})
    return recipient


def receipts_mark_received(asked: list[tuple[str, int]]) -> dict:
    """Stamps many receipts received at once ((bulletin code, user id) pairs: patrol sockets that got a bulletin at
    the same moment, bulletins.consumers), as receipt_mark's first step does for one: each once, in one transaction,
    the senders' pages told in one message per thread. Returns {} (nothing to answer each asker)."""
    wanted: dict[str, set[int]] = {}
    for code, user_id in asked:
        wanted.setdefault(code, set()).add(user_id)
    now = timezone.now()
    with transaction.atomic():
        for code, user_ids in wanted.items():
            # Locked, and read again if another window stamped one meanwhile: each is stamped once.
            due = list(Recipient.objects.select_for_update(of=("self",))
                       .select_related("bulletin", "bulletin__thread", "user")
                       .filter(bulletin__code=code, user_id__in=user_ids, received_at__isnull=True))
            if not due:
                continue
            Recipient.objects.filter(pk__in=[recipient.pk for recipient in due]).update(received_at=now)
            for recipient in due:
                recipient.received_at = now
            root = due[0].bulletin.thread or due[0].bulletin
            live.after_commit(live.receipts_group(root.code), {
                "type": "bulletin.receipts", "receipts": [receipt_payload(recipient) for recipient in due]})
    return {}


def media_read(*, user, bulletin: Bulletin, record_view: bool = True) -> bytes:
    """The still or clip segment, for someone the view already allowed (bulletins.selectors.bulletin_readable);
    recorded unless `record_view` is False (a player's later ranges of one viewing)."""
    if not bulletin.has_media:
        raise ValidationError(_media_gone(bulletin))
    data = media.media_open(bulletin.media_sealed, wrapped=bulletin.media_key_wrapped, key_id=bulletin.media_key_id,
                            code=bulletin.code)
    if record_view:
        record(actor=user, action=Action.BULLETIN_MEDIA_VIEWED, target_type="bulletin", target_code=bulletin.code,
               case_number=bulletin.case_number, size=len(data), media="clip" if bulletin.is_clip else "still")
    return data


def _media_gone(bulletin: Bulletin) -> str:
    if bulletin.is_clip and bulletin.state == Bulletin.State.PREPARING:
        return "This bulletin's clip segment is still being made."
    if bulletin.is_clip and bulletin.state == Bulletin.State.FAILED:
        return "This bulletin's clip segment could not be made."
    return f"This bulletin's {'clip segment' if bulletin.is_clip else 'still'} has expired and was destroyed."


def bulletin_media_save(*, user, bulletin: Bulletin) -> None:
    """Keeps a bulletin's still as evidence of its case (requests_app's still store: sealed, hashed, recorded, the
    owner told as for any saved still) and past the bulletin's expiry. For its sender or a supervisor, whom the view
    checked (bulletins.selectors.bulletin_supervisable)."""
    if bulletin.is_clip:
        raise ValidationError("A clip segment is cut from a clip that is already evidence of the case: it is not "
                              "saved again.")
    if bulletin.media_saved_to_case:
        raise ValidationError("This still is already saved to the case.")
    if not bulletin.has_media:
        raise ValidationError("This bulletin's still has expired and was destroyed.")
    if bulletin.incident is None:
        raise ValidationError("This bulletin names no case to save its still to.")
    camera = registry_selectors.camera_visible_to_staff(code=bulletin.camera_code) if bulletin.camera_code else None
    if camera is None:
        raise ValidationError("The camera this still came from is no longer registered; it cannot be saved.")
    jpeg = media.media_open(bulletin.media_sealed, wrapped=bulletin.media_key_wrapped, key_id=bulletin.media_key_id,
                            code=bulletin.code)
    with transaction.atomic():
        requests_services.still_store(incident=bulletin.incident, camera=camera, jpeg=jpeg, user=user,
                                      name=f"bulletin-still-{bulletin.created_at:%Y%m%dT%H%M%SZ}.jpg",
                                      session_code=bulletin.code)
        Bulletin.objects.filter(pk=bulletin.pk).update(media_saved_to_case=True)
        bulletin.media_saved_to_case = True


def bulletins_media_purge(*, now=None) -> int:
    """Destroys the stills of bulletins past their expiry (the key and the ciphertext: crypto-shredding), unless
    saved to the case; records the purge. The bulletins' text and receipts stay for the record."""
    now = now or timezone.now()
    due = Bulletin.objects.filter(expires_at__lte=now, media_purged_at__isnull=True, media_key_wrapped__isnull=False,
                                  media_saved_to_case=False)
    codes = [str(code) for code in due.values_list("code", flat=True)[:1000]]
    if not codes:
        return 0
    with transaction.atomic():
        count = Bulletin.objects.filter(code__in=codes, media_purged_at__isnull=True).update(
            media_sealed=None, media_key_wrapped=None, media_key_id="", media_purged_at=now)
        record(actor=None, action=Action.BULLETINS_MEDIA_PURGED, target_type="bulletin", count=count,
               cutoff=now.isoformat(), bulletins=codes[:100])
    return count
