"""Bulletins of a clip segment: composed now, sent once the worker has re-encoded the segment.

The sender names an evidence clip of a case they may view and its in and out points. The bulletin waits, sent to
nobody, while a Celery task reads the clip through requests_app's decrypting reader (no plaintext on disk), cuts
and re-encodes the segment for phones (bulletins.segment) and seals it like a still. Only then are its recipients
written and told; a segment that cannot be made leaves the bulletin 'failed' with the reason on its page."""

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from audit.actions import Action
from audit.ledger import record
from bulletins import case_media, media, segment, services
from bulletins.models import Bulletin
from common.access import is_program_staff
from common.evidence_store import EvidenceStoreError
from common.sealed import EvidenceIntegrityError
from requests_app import selectors as requests_selectors
from requests_app.models import Clip
from requests_app.services import clip_audit_args, clip_reader_for_analysis

logger = logging.getLogger(__name__)

MAX_SEGMENT_BYTES = 24 * 1024 * 1024  # a minute at 640 px is a few MB; anything near this is a wrong clip
MAX_ATTEMPTS = 3  # a worker killed mid-segment (acks_late) brings the task back; not forever


def evidence_clip(*, user, code) -> Clip:
    """A video clip of a case the user may view; ValidationError otherwise (a stranger's case reads as not found)."""
    clip = (Clip.objects.select_related("incident", "request__camera__owner").filter(code=code).first()
            if services._uuid_or_none(code) else None)
    if clip is None or not requests_selectors.can_view_incident(user, clip.incident):
        raise ValidationError("No evidence clip with that code in a case you may view.")
    if clip.wrapped_key is None:
        raise ValidationError("That clip has been purged.")
    if clip.media_format in services.STILL_FORMATS or not clip.duration_s:
        raise ValidationError("That evidence is a still, not a video clip: send it as a still.")
    return clip


def points_check(*, clip: Clip, in_s, out_s) -> tuple[float, float]:
    if in_s is None or out_s is None:
        raise ValidationError("Give the segment's in and out points (seconds into the clip).")
    if in_s < 0 or out_s <= in_s:
        raise ValidationError("The out point must come after the in point.")
    if out_s - in_s > settings.BULLETIN_CLIP_MAX_S:
        raise ValidationError(f"A segment lasts at most {settings.BULLETIN_CLIP_MAX_S} seconds.")
    if clip.duration_s and in_s >= clip.duration_s:
        raise ValidationError(f"The clip lasts {clip.duration_s:.1f} seconds: the in point is past its end.")
    return float(in_s), float(min(out_s, clip.duration_s or out_s))


def bulletin_clip_compose(*, sender, description: str, priority: str = Bulletin.Priority.URGENT, location=None,
                          addressees: services.Addressees, clip_code, in_s, out_s,
                          thread: Bulletin | None = None) -> Bulletin:
    """Checks everything a sender can get wrong now (the clip, the points, who receives), keeps the bulletin unsent
    and queues the re-encoding. The bulletin goes with the clip's case."""
    description = services.description_clean(description)
    clip = evidence_clip(user=sender, code=clip_code)
    in_s, out_s = points_check(clip=clip, in_s=in_s, out_s=out_s)
    root, found = services.addressed(addressees=addressees, thread=thread)
    from bulletins.tasks import bulletin_segment_task

    with transaction.atomic():
        bulletin = services.bulletin_new(
            sender=sender, description=description, priority=priority, incident=clip.incident, location=location,
            root=root, state=Bulletin.State.PREPARING, clip_code=str(clip.code), clip_in_s=in_s, clip_out_s=out_s,
            pending_to=[[user_id, via] for user_id, (_user, via) in found.items()])
        bulletin.save()
        # The worker reads the owner's clip for this sender: the read is theirs, recorded now with its purpose.
        record(actor=sender, action=Action.BULLETIN_SEGMENT_REQUESTED, **clip_audit_args(clip),
               bulletin=str(bulletin.code), in_s=in_s, out_s=out_s)
        transaction.on_commit(lambda: bulletin_segment_task.delay(bulletin.pk))
    return bulletin


def bulletin_segment_make(*, bulletin_id: int, max_attempts: int = MAX_ATTEMPTS) -> str:
    """Makes the segment and sends the bulletin, or marks it failed with the reason. Returns the new state."""
    # PREPARING only; each claim is an attempt, so a segment that kills its worker is not tried forever.
    claimed = Bulletin.objects.filter(pk=bulletin_id, state=Bulletin.State.PREPARING,
                                      transcode_attempts__lt=max_attempts)
    if not claimed.update(transcode_attempts=F("transcode_attempts") + 1):
        bulletin = Bulletin.objects.filter(pk=bulletin_id, state=Bulletin.State.PREPARING).first()
        if bulletin is not None:
            return _failed(bulletin, "The worker stopped while re-encoding the segment, at every attempt.")
        return "gone"
    bulletin = Bulletin.objects.select_related("sender", "incident", "thread").get(pk=bulletin_id)
    clip = (Clip.objects.select_related("incident", "camera__owner", "request__camera__owner")
            .filter(code=bulletin.clip_code).first())
    if clip is None or clip.wrapped_key is None:
        return _failed(bulletin, "The evidence clip has been purged since the bulletin was composed.")
    masks = case_media.camera_masks(requests_selectors.clip_camera(clip))  # current ones, as the relay paints now
    try:
        reader = clip_reader_for_analysis(clip=clip)
        try:
            mp4 = segment.transcode(reader, in_s=bulletin.clip_in_s, out_s=bulletin.clip_out_s, masks=masks)
        finally:
            reader.close()
    except segment.SegmentError as exc:
        return _failed(bulletin, str(exc))
    except (EvidenceIntegrityError, EvidenceStoreError) as exc:
        return _failed(bulletin, f"The evidence clip could not be read: {exc}")
    except Exception as exc:  # a decoder crash or a store that is down: the sender must hear of it, not wait
        logger.exception("bulletin %s: segment failed", bulletin.code)
        return _failed(bulletin, f"The segment could not be made ({type(exc).__name__}).")
    if len(mp4) > MAX_SEGMENT_BYTES:
        return _failed(bulletin, "The re-encoded segment is too large to send to phones: choose a shorter one.")
    return _send(bulletin, clip, mp4)


def _send(bulletin: Bulletin, clip: Clip, mp4: bytes) -> str:
    sealed_bytes, wrapped, key_id = media.media_seal(mp4, code=bulletin.code)
    users = {u.pk: u for u in get_user_model().objects.filter(pk__in=[uid for uid, _via in bulletin.pending_to])}
    found = {uid: (users[uid], via) for uid, via in bulletin.pending_to
             if uid in users and is_program_staff(users[uid])}  # an account gone or demoted meanwhile gets nothing
    if not found:
        return _failed(bulletin, "None of the recipients can receive bulletins any longer.")
    camera = requests_selectors.clip_camera(clip)
    with transaction.atomic():
        if not Bulletin.objects.filter(pk=bulletin.pk, state=Bulletin.State.PREPARING).update(
                state=Bulletin.State.SENT, media_type="video/mp4", media_sealed=sealed_bytes,
                media_key_wrapped=wrapped, media_key_id=key_id, pending_to=[],
                camera_code=str(camera.code) if camera else "", owner_code=str(camera.owner.code) if camera else ""):
            return "gone"  # sent by another delivery of the task
        bulletin.refresh_from_db()
        services.recipients_deliver(bulletin=bulletin, found=found, media="clip", evidence=bulletin.clip_code)
        if camera is not None:
            record(actor=bulletin.sender, action=Action.BULLETIN_CLIP_SHARED, **services.audit_args(bulletin),
                   camera_code=camera.code, owner_code=camera.owner.code, recipients=len(found),
                   evidence=bulletin.clip_code, in_s=bulletin.clip_in_s, out_s=bulletin.clip_out_s)
    return Bulletin.State.SENT


def _failed(bulletin: Bulletin, reason: str) -> str:
    with transaction.atomic():
        if Bulletin.objects.filter(pk=bulletin.pk, state=Bulletin.State.PREPARING).update(
                state=Bulletin.State.FAILED, failure=reason[:500], pending_to=[]):
            record(actor=None, action=Action.BULLETIN_SEGMENT_FAILED, **services.audit_args(bulletin),
                   reason=reason[:300], evidence=bulletin.clip_code, attempt=bulletin.transcode_attempts)
    return Bulletin.State.FAILED
