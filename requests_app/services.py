"""Writes for incidents, footage requests and evidence clips."""

import hashlib
import hmac
import logging
import secrets
import uuid
from datetime import UTC, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.gis.measure import D
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, get_users_with_perms, remove_perm

from audit.actions import Action
from audit.ledger import record
from common import outbox
from common import sealed as crypto
from common.change_history import history_note
from common.districts import district_of
from common.evidence_store import EvidenceMissing, EvidenceStoreError, evidence_store
from common.key_service import KeyServiceError, MasterKeyMissing
from common.mail import send_templated
from common.metrics import Operation, evidence_store_error
from common.private_files import leftovers_sweep
from registry.models import Camera
from requests_app import evidence, evidence_keys, resumable, selectors
from requests_app.evidence_out import ClipStream
from requests_app.models import Clip, FootageRequest, Incident, RequestBatch
from requests_app.signals import clip_stored, clips_purged, incident_closed

logger = logging.getLogger(__name__)

OBJECT_PERMS = ("view_incident", "change_incident")
_LINK_SALT = "connect.requests.consent"


# --- incidents ------------------------------------------------------------------------------------------

@transaction.atomic
def incident_investigators_set(*, incident: Incident, users) -> None:
    """Exactly these users hold the incident's object permissions (guardian), and are its investigators."""
    users = set(users)
    incident.investigators.set(users)
    current = set(get_users_with_perms(incident, only_with_perms_in=["view_incident"], with_group_users=False))
    for user in current - users:
        for perm in OBJECT_PERMS:
            remove_perm(f"requests_app.{perm}", user, incident)
    for user in users - current:
        for perm in OBJECT_PERMS:
            assign_perm(f"requests_app.{perm}", user, incident)


def incident_validate(incident: Incident, *, kept_offense_type: str = "") -> None:
    """The agency's limits on the case number, the offense type, the time window and the radius.
    `kept_offense_type`: the case's saved offense type, kept even if the agency's list no longer has it."""
    import re

    errors = {}
    if incident.offense_type not in settings.OFFENSE_TYPES and not (
            kept_offense_type and incident.offense_type == kept_offense_type):
        errors["offense_type"] = f"Choose one of: {', '.join(settings.OFFENSE_TYPES)}."
    if not re.fullmatch(settings.CASE_NUMBER_PATTERN, incident.case_number or ""):
        errors["case_number"] = f"Case numbers look like {settings.CASE_NUMBER_EXAMPLE}."
    if incident.starts_at and incident.ends_at:
        if incident.ends_at <= incident.starts_at:
            errors["ends_at"] = "The window must end after it starts."
        elif incident.ends_at - incident.starts_at > timedelta(hours=settings.INCIDENT_MAX_WINDOW_HOURS):
            errors["ends_at"] = f"The window may be at most {settings.INCIDENT_MAX_WINDOW_HOURS} hours long."
    if incident.radius_m and incident.radius_m > settings.INCIDENT_MAX_RADIUS_M:
        errors["radius_m"] = f"The radius may be at most {settings.INCIDENT_MAX_RADIUS_M} m."
    if errors:
        raise ValidationError(errors)


INCIDENT_EDITABLE = ("offense_type", "address", "starts_at", "ends_at", "radius_m", "owner_summary", "internal_notes")


@transaction.atomic
def incident_create(*, user, case_number: str, offense_type: str, location, starts_at, ends_at, owner_summary: str,
                    radius_m: int = 300, address: str = "", internal_notes: str = "") -> Incident:
    """Opens a case the way the admin does: validated against the agency's limits, worked by its creator."""
    incident = Incident(case_number=case_number, offense_type=offense_type, location=location, address=address,
                        starts_at=starts_at, ends_at=ends_at, radius_m=radius_m, owner_summary=owner_summary,
                        internal_notes=internal_notes, created_by=user)
    incident_validate(incident)
    if Incident.objects.filter(case_number=case_number).exists():
        raise ValidationError({"case_number": "A case with this number exists already."})
    incident.save()
    incident_investigators_set(incident=incident, users={user})
    record(actor=user, action=Action.INCIDENT_OPENED, target_type="incident", target_code=incident.code,
           incident_code=incident.code, case_number=incident.case_number)
    return incident


@transaction.atomic
def incident_update(*, incident: Incident, user, **fields) -> Incident:
    """Changes the editable fields of an open case (not its number, place or status)."""
    if incident.status != Incident.Status.OPEN:
        raise ValidationError("A closed case cannot be changed.")
    unknown = set(fields) - set(INCIDENT_EDITABLE)
    if unknown:
        raise ValidationError(f"These fields cannot be changed: {', '.join(sorted(unknown))}.")
    kept_offense_type = incident.offense_type
    for name, value in fields.items():
        setattr(incident, name, value)
    incident_validate(incident, kept_offense_type=kept_offense_type)
    incident.save(update_fields=[*fields])
    return incident


@transaction.atomic
def incident_close(*, incident: Incident, user) -> bool:
    now = timezone.now()
    closed = Incident.objects.filter(pk=incident.pk, status=Incident.Status.OPEN).update(
        status=Incident.Status.CLOSED, closed_at=now)
    if closed:
        history_note(incident, status=(Incident.Status.OPEN, Incident.Status.CLOSED), closed_at=(None, now))
        record(actor=user, action=Action.INCIDENT_CLOSED, target_type="incident", target_code=incident.code,
               incident_code=incident.code, case_number=incident.case_number)
        # integration ends the case's live views (live_sessions_end_for_case); a signal, as it depends on us
        incident_closed.send(sender=Incident, incident=incident)
    return bool(closed)


# --- sending requests -----------------------------------------------------------------------------------

@transaction.atomic
def footage_requests_send(*, incident: Incident, camera_codes, user) -> RequestBatch:
    """One request per chosen camera, never twice for the same camera; mail is queued after commit.

    Cameras that are not active (paused, pending, removed) get nothing.
    """
    if incident.status != Incident.Status.OPEN:
        raise ValidationError("Requests can be sent only for an open incident.")
    from requests_app.tasks import footage_requests_mail_queue

    batch = RequestBatch.objects.create(incident=incident, created_by=user)
    # Only cameras inside the incident's own radius: a case is no licence to mail anyone in the city.
    cameras = Camera.objects.filter(code__in=list(camera_codes), status=Camera.Status.ACTIVE,
                                    location__dwithin=(incident.location, D(m=incident.radius_m))).only("pk", "label")
    # One INSERT; a camera this incident has asked already (earlier, or in a second click at the same moment)
    # is skipped by the unique constraint. The mail goes out from the workers, in batches, after commit.
    FootageRequest.objects.bulk_create([
        FootageRequest(incident=incident, batch=batch, camera=camera, camera_label=camera.label,
                       nonce=secrets.token_urlsafe(24)) for camera in cameras], ignore_conflicts=True)
    created = list(batch.requests.order_by("pk").values_list("pk", flat=True))
    footage_requests_mail_queue(created)
    record(actor=user, action=Action.REQUESTS_SENT, target_type="incident", target_code=incident.code,
           incident_code=incident.code, case_number=incident.case_number, cameras=len(created))
    return batch


def footage_requests_listed(*, incident: Incident, user) -> int:
    """Records that `user` saw the incident's requests listed (camera labels often name their owners): one
    entry per camera shown, which its owner sees in their history. Requests of deleted cameras show no label."""
    from audit.ledger import entry, record_many

    requests = list(incident.requests.filter(camera__isnull=False).select_related("camera__owner")
                    .only("code", "camera__code", "camera__owner__code"))
    record_many([entry(actor=user, action=Action.REQUESTS_LISTED, target_type="footage_request",
                       target_code=request.code, camera_code=request.camera.code,
                       owner_code=request.camera.owner.code, incident_code=incident.code,
                       case_number=incident.case_number, via="admin") for request in requests])
    return len(requests)


def clips_read(*, clips, user, action: Action, via: str = "admin") -> int:
    """Records that `user` saw these clips' details (the owner's file name, size, case) or their custody report:
    one entry per clip, which the clip's owner sees in their history."""
    from audit.ledger import entry, record_many

    entries = []
    for clip in clips:
        camera = clip.request.camera if clip.request_id and clip.request.camera_id else None
        entries.append(entry(actor=user, action=action, target_type="clip", target_code=clip.code,
                             camera_code=camera.code if camera else "", owner_code=camera.owner.code if camera else "",
                             incident_code=clip.incident.code, case_number=clip.incident.case_number, via=via))
    record_many(entries)
    return len(entries)


def consent_link(request: FootageRequest) -> str:
    token = signing.dumps({"r": str(request.code), "n": request.nonce}, salt=_LINK_SALT, compress=True)
    return settings.PUBLIC_URL + reverse("requests_app:consent", kwargs={"token": token})


@transaction.atomic
def footage_requests_resend_failed(*, incident: Incident, user) -> int:
    from requests_app.tasks import footage_requests_mail_queue

    ids = list(incident.requests.filter(state=FootageRequest.State.FAILED, camera__status=Camera.Status.ACTIVE)
               .order_by("pk").values_list("pk", flat=True))
    FootageRequest.objects.filter(pk__in=ids).update(state=FootageRequest.State.QUEUED, failure_reason="")
    footage_requests_mail_queue(ids)
    return len(ids)


def footage_requests_lapse() -> int:
    """Closes requests past their time for answers: unanswered ones lapse, and declined ones are recorded exactly
    as if they had, in the ledger and the change history, so no police role can tell the two apart (the terms
    promise it). `final_at` marks both; the transparency report counts the declines from it."""
    lapsed = 0
    now = timezone.now()
    for request in FootageRequest.objects.filter(state__in=_CLOSED_AT_LAPSE, final_at__isnull=True,
                                                 expires_at__lte=now).select_related("incident"):
        declined = request.state == FootageRequest.State.DECLINED
        fields = {"final_at": now} if declined else {"final_at": now, "state": FootageRequest.State.LAPSED}
        if FootageRequest.objects.filter(pk=request.pk, state=request.state, final_at__isnull=True).update(**fields):
            shown_before = FootageRequest.State.OPENED if request.opened_at else FootageRequest.State.SENT
            history_note(request, state=(shown_before, FootageRequest.State.LAPSED))
            record(actor=None, action=Action.REQUEST_LAPSED, target_type="footage_request", target_code=request.code,
                   incident_code=request.incident.code, case_number=request.incident.case_number,
                   offense_type=request.incident.offense_type, district=district_of(request.incident.location))
            lapsed += 1
    return lapsed


_CLOSED_AT_LAPSE = (*FootageRequest.AWAITING, FootageRequest.State.DECLINED)


def footage_declines_by_month(*, since) -> list[dict]:
    """Declines the ledger records as lapses, per month, offense type and district, for the transparency report
    (the ledger has no decline entry: it would tell auditors which request it was). Declines from before that
    (final at their answer, migration 0006) are still "request.answered" entries, so they are left out here."""
    from collections import Counter

    counts = Counter()
    for request in (FootageRequest.objects.filter(state=FootageRequest.State.DECLINED, final_at__gte=since,
                                                  final_at__gt=models.F("answered_at"))
                    .select_related("incident").only("final_at", "answered_at", "incident__offense_type",
                                                      "incident__location")):
        month = request.final_at.astimezone(UTC).date().replace(day=1)
        counts[(month, request.incident.offense_type, district_of(request.incident.location))] += 1
    return [{"month": month, "offense_type": offense, "district": district, "n": n}
            for (month, offense, district), n in counts.items()]


# --- the owner's answer ---------------------------------------------------------------------------------

class ConsentLinkError(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def consent_request(*, token: str) -> FootageRequest:
    """The request behind a consent link, or ConsentLinkError saying why it cannot be used."""
    try:
        payload = signing.loads(token, salt=_LINK_SALT, max_age=timedelta(days=settings.REQUEST_LINK_DAYS))
    except signing.SignatureExpired:
        raise ConsentLinkError(_("This request has expired.")) from None
    except signing.BadSignature:
        raise ConsentLinkError(_("This link is not valid. It may have been copied incompletely.")) from None
    request = (FootageRequest.objects.select_related("incident", "camera")
               .filter(code=payload.get("r")).first())
    if request is None or not hmac.compare_digest(request.nonce, str(payload.get("n"))):
        raise ConsentLinkError(_("This link is no longer valid."))
    # An owner who answered (clips, no footage or a decline) may still share clips through the same link until the
    # request lapses; a second "no footage" or decline is refused by _answer.
    if request.camera is None:
        raise ConsentLinkError(_("This camera has been removed from the program; no answer is needed."))
    if request.state not in (*FootageRequest.AWAITING, *FootageRequest.ANSWERED, FootageRequest.State.LAPSED):
        raise ConsentLinkError(_("This request is not open for answers. Please write to us if you want to help."))
    if request.state == FootageRequest.State.LAPSED or (request.expires_at and request.expires_at <= timezone.now()):
        raise ConsentLinkError(_("This request has expired."))
    if request.incident.status != Incident.Status.OPEN:
        raise ConsentLinkError(_("This case is closed; no footage is needed any more. Thank you."))
    return request


def consent_opened(*, request: FootageRequest) -> None:
    FootageRequest.objects.filter(pk=request.pk, state=FootageRequest.State.SENT).update(
        state=FootageRequest.State.OPENED, opened_at=timezone.now())


def _answer(request: FootageRequest, state: str, **fields) -> None:
    """Records the answer once: a second answer to the same request is refused."""
    now = timezone.now()
    answered = FootageRequest.objects.filter(pk=request.pk, state__in=FootageRequest.AWAITING).update(
        state=state, answered_at=now, **fields)
    if not answered:
        raise ConsentLinkError(_("You have already answered this request. Thank you."))
    if state == FootageRequest.State.DECLINED:
        # Nothing police can read, now: no change history, no ledger entry (auditors are police-side staff, and
        # an entry's time alone would point at the request just opened). The lapse sweep records it as a lapse.
        return
    history_note(request, state=(request.state, state), answered_at=(None, now))
    # No owner or camera codes: the answer is counted for the public report, never tied to who gave it.
    record(actor=None, action=Action.REQUEST_ANSWERED, target_type="footage_request", target_code=request.code,
           incident_code=request.incident.code, case_number=request.incident.case_number, answer=state,
           offense_type=request.incident.offense_type, district=district_of(request.incident.location),
           answer_seconds=int((now - request.sent_at).total_seconds()) if request.sent_at else None)


@transaction.atomic
def consent_no_footage(*, request: FootageRequest) -> None:
    _answer(request, FootageRequest.State.NO_FOOTAGE)


@transaction.atomic
def consent_decline(*, request: FootageRequest, reason: str) -> None:
    _answer(request, FootageRequest.State.DECLINED, decline_reason=reason[:2000])


def consent_upload(*, request: FootageRequest, uploads: list[evidence.SealedUpload], keep_days: int) -> list[Clip]:
    """Turns sealed uploads into clips and answers the request, or adds them to the clips already shared (until the
    request lapses: `consent_request` checks); rejects the lot if any is not media."""

    def store_failed(exc, count):
        camera = request.camera
        record(actor="owner", action=Action.EVIDENCE_STORE_FAILED, target_type="footage_request",
               target_code=request.code, incident_code=request.incident.code,
               case_number=request.incident.case_number, camera_code=camera.code if camera else "",
               owner_code=camera.owner.code if camera else "", reason=str(exc), files=count)

    def save(probed):
        # Locked, so two uploads at once are one answer and one addition, never a refused second upload.
        state = FootageRequest.objects.select_for_update().values_list("state", flat=True).get(pk=request.pk)
        addition = state == FootageRequest.State.UPLOADED
        if state in (FootageRequest.State.NO_FOOTAGE, FootageRequest.State.DECLINED):
            _answer_with_clips_after_all(request, was=state)
        elif not addition:
            _answer(request, FootageRequest.State.UPLOADED)
        return [_clip_store(request=request, upload=upload, info=info, keep_days=keep_days, addition=addition)
                for upload, info in probed]

    return _uploads_ingest(uploads=uploads, keep_days=keep_days, store_failed=store_failed, save=save,
                           doing="sealing an owner's upload")


def public_clips_store(*, incident: Incident, uploads: list[evidence.SealedUpload], keep_days: int,
                       answer_code) -> list[Clip]:
    """Clips a member of the public shared for `incident` in answer to a public request (public_requests), checked
    and stored exactly as an owner's: the lot refused if any is not media. `answer_code` names the answer in the
    ledger, where the uploader reads their clips' history."""

    def store_failed(exc, count):
        record(actor="public", action=Action.EVIDENCE_STORE_FAILED, target_type="public_answer",
               target_code=answer_code, incident_code=incident.code, case_number=incident.case_number,
               reason=str(exc), files=count)

    def save(probed):
        clips = []
        for upload, info in probed:
            clip = _clip_row(upload=upload, info=info, incident=incident, request=None, keep_days=keep_days,
                             uploaded_by="public")
            record(actor="public", action=Action.CLIP_UPLOADED, target_type="clip", target_code=clip.code,
                   incident_code=incident.code, case_number=incident.case_number, sha256=clip.sha256,
                   size=clip.size, public_answer=str(answer_code))
            clips.append(clip)
        return clips

    return _uploads_ingest(uploads=uploads, keep_days=keep_days, store_failed=store_failed, save=save,
                           doing="sealing a public upload")


def _uploads_ingest(*, uploads, keep_days: int, store_failed, save, doing: str) -> list[Clip]:
    """Every upload probed (the lot refused if one is not media), moved into the evidence store, then `save`d as
    clips in one transaction; on any failure nothing is kept."""
    if not uploads:
        raise ValidationError(_("Choose at least one video or photo file."))
    if not settings.CLIP_KEEP_DAYS_MIN <= keep_days <= settings.CLIP_KEEP_DAYS_MAX:
        raise ValidationError(_("Choose between %(min)d and %(max)d days.")
                              % {"min": settings.CLIP_KEEP_DAYS_MIN, "max": settings.CLIP_KEEP_DAYS_MAX})
    try:
        probes = []
        for upload in uploads:
            if upload.size == 0:
                raise ValidationError(_("“%(name)s” is empty.") % {"name": upload.name})
            try:
                probes.append(upload.media())
            except evidence.NotMediaError as exc:
                raise ValidationError(_("“%(name)s” was not accepted: %(why)s.")
                                      % {"name": upload.name, "why": exc}) from None
        try:  # into the store before any row names it: a failed or cut transfer leaves no clip behind
            for upload in uploads:
                upload.store()
        except EvidenceStoreError as exc:
            store_failed(exc, len(uploads))
            raise
        with transaction.atomic():
            clips = save(list(zip(uploads, probes, strict=True)))
    except BaseException as exc:
        if isinstance(exc, OSError):  # the evidence folder refused the rename
            evidence_store_error(Operation.WRITE, exc)
        for upload in uploads:
            upload.kept = False  # kept or not: nothing was committed
            upload.close()
        if isinstance(exc, evidence_keys.KEY_FAILURES):
            evidence_keys.key_failure_record(actor="owner", error=exc, doing=doing)
            raise ValidationError(_("Your files could not be stored safely just now, and nothing was kept. "
                                    "Please try again in a few minutes.")) from None
        raise
    return clips


def _answer_with_clips_after_all(request: FootageRequest, *, was: str) -> None:
    """An owner who said "no footage" or declined shares clips after all: the request becomes "uploaded", answered
    now. A decline was never shown to police (see selectors.police_state), so after one this reads, in the change
    history and the ledger, exactly like a first answer; the reminders police are shown stay those an unanswered
    request would have had."""
    now = timezone.now()
    request = FootageRequest.objects.select_related("incident").get(pk=request.pk)
    shown_before = was in FootageRequest.SHOWN_ANSWERS
    FootageRequest.objects.filter(pk=request.pk, state=was).update(
        state=FootageRequest.State.UPLOADED, answered_at=now, decline_reason="",
        reminders_sent=selectors.police_reminders_sent(request, now=now))
    police_saw = was if shown_before else selectors.police_state(request, now=now)
    history_note(request, state=(police_saw, FootageRequest.State.UPLOADED),
                 answered_at=(request.answered_at if shown_before else None, now))
    incident = request.incident
    # After "no footage" the request was counted as answered once already: this entry says what it replaces.
    again = {"earlier_answer": was} if shown_before else {
        "answer_seconds": int((now - request.sent_at).total_seconds()) if request.sent_at else None}
    record(actor=None, action=Action.REQUEST_ANSWERED, target_type="footage_request", target_code=request.code,
           incident_code=incident.code, case_number=incident.case_number, answer=FootageRequest.State.UPLOADED,
           offense_type=incident.offense_type, district=district_of(incident.location), **again)


def _clip_row(*, upload, info, incident: Incident, request: FootageRequest | None, keep_days: int,
              uploaded_by: str) -> Clip:
    clip = Clip(code=upload.code, request=request, incident=incident, original_name=upload.name[:255],
                media_format=info.media_format, size=upload.size, sha256=upload.sha256,
                duration_s=info.duration_s, width=info.width, height=info.height, recorded_at=info.recorded_at,
                keep_days_after_close=keep_days, uploaded_by=uploaded_by)
    clip.stored_name = upload.stored_as
    evidence_keys.clip_key_seal(clip, upload.data_key)
    clip.save()
    upload.kept = True  # from here the request's end must not delete it; a rollback below still does
    clip_stored.send(sender=Clip, clip_id=clip.pk, camera_id=request.camera_id if request else None)
    return clip


def _clip_store(*, request: FootageRequest, upload, info, keep_days: int, addition: bool = False) -> Clip:
    clip = _clip_row(upload=upload, info=info, incident=request.incident, request=request, keep_days=keep_days,
                     uploaded_by="owner")
    camera = request.camera
    record(actor="owner", action=Action.CLIP_UPLOADED, target_type="clip", target_code=clip.code,
           camera_code=camera.code if camera else "", owner_code=camera.owner.code if camera else "",
           incident_code=request.incident.code, case_number=request.incident.case_number,
           sha256=clip.sha256, size=clip.size, addition=addition)
    return clip


def sealed_upload_from_bytes(*, name: str, data: bytes) -> evidence.SealedUpload:
    """A file made on the server (the demo's generated clip) sealed as an upload is: encrypted as it is written,
    hashed, ready for consent_upload or public_clips_store. NotMediaError is theirs to raise."""
    writer = crypto.EncryptingWriter(str(evidence.evidence_dir() / f"incoming-{uuid.uuid4().hex}.cnev"))
    try:
        writer.write(data)
        writer.close()
    except BaseException:
        writer.abort()
        raise
    return evidence.SealedUpload(name=name, path=Path(writer.path), size=writer.size,
                                 sha256=writer.sha256.hexdigest(), data_key=writer.data_key, lease=writer.lease)


def still_store(*, incident: Incident, camera, jpeg: bytes, user, name: str, session_code) -> Clip:
    """A still an analyst took from a live view: hashed, sealed and kept like any clip of the case.
    The clip's retention is the agency's maximum after the case closes (no owner chose one)."""
    writer = None
    try:
        writer = crypto.EncryptingWriter(str(evidence.evidence_dir() / f"incoming-{uuid.uuid4().hex}.cnev"))
        writer.write(jpeg)
        writer.close()
    except OSError as exc:  # the evidence folder is full, gone or not writable: nothing half-written stays
        evidence_store_error(Operation.WRITE, exc)
        if writer is not None:
            writer.abort()
        raise
    try:
        upload = evidence.SealedUpload(name=name, path=Path(writer.path), size=writer.size,
                                       sha256=writer.sha256.hexdigest(), data_key=writer.data_key, lease=writer.lease)
        info = evidence.media_probe(upload.path, upload.data_key)
    except evidence.NotMediaError as exc:
        Path(writer.path).unlink(missing_ok=True)
        raise ValidationError(f"The still was not a picture: {exc}.") from None
    try:
        upload.store()
        with transaction.atomic():
            clip = Clip(code=upload.code, incident=incident, camera=camera, original_name=name,
                        media_format=info.media_format,
                        size=upload.size, sha256=upload.sha256, width=info.width, height=info.height,
                        recorded_at=timezone.now(), keep_days_after_close=settings.CLIP_KEEP_DAYS_MAX,
                        uploaded_by=user.get_username())
            clip.stored_name = upload.stored_as
            evidence_keys.clip_key_seal(clip, upload.data_key)
            clip.save()
            record(actor=user, action=Action.CLIP_STILL_TAKEN, target_type="clip", target_code=clip.code,
                   camera_code=camera.code, owner_code=camera.owner.code, incident_code=incident.code,
                   case_number=incident.case_number, sha256=clip.sha256, size=clip.size, session=str(session_code))
            clip_stored.send(sender=Clip, clip_id=clip.pk, camera_id=camera.pk)
    except BaseException as exc:
        upload.close()
        if isinstance(exc, evidence_keys.KEY_FAILURES):
            evidence_keys.key_failure_record(actor=user, error=exc, doing="sealing a still")
            raise ValidationError("The still could not be stored safely just now (the evidence key service did not "
                                  "answer); nothing was kept.") from None
        raise
    upload.kept = True
    return clip


# --- evidence access ------------------------------------------------------------------------------------

def clip_audit_args(clip: Clip) -> dict:
    camera = selectors.clip_camera(clip)
    return {"target_type": "clip", "target_code": clip.code, "incident_code": clip.incident.code,
            "case_number": clip.incident.case_number, "camera_code": camera.code if camera else "",
            "owner_code": camera.owner.code if camera else ""}


def _clip_read_failed(clip: Clip, user, exc: Exception) -> None:
    """A read that failed: altered or missing evidence is flagged and recorded as an integrity failure; a store
    that is down or cut the transfer is recorded as such, and the clip is not flagged (nothing is wrong with it)."""
    evidence_store_error(Operation.READ, exc)  # the metric operators alert on
    audit_args = clip_audit_args(clip)
    if isinstance(exc, EvidenceStoreError) and not isinstance(exc, EvidenceMissing):
        record(actor=user, action=Action.EVIDENCE_STORE_FAILED, reason=str(exc), **audit_args)
        return
    Clip.objects.filter(pk=clip.pk).update(integrity_failed_at=timezone.now())
    record(actor=user, action=Action.CLIP_INTEGRITY_FAILED, reason=str(exc), **audit_args)


def _clip_reader(clip: Clip, *, user, from_start: bool = True, mark_destroyed: bool = True) -> crypto.DecryptingReader:
    """The clip opened in the evidence store (`from_start`: to be read from its first record on, which a bucket
    serves from one request). Its data key first: ClipDestroyed if its shred key is gone (a restored backup),
    EvidenceKeyUnavailable (recorded) if the key service or key store cannot answer."""
    data_key = evidence_keys.clip_data_key(clip, user=user, mark_destroyed=mark_destroyed)
    reader = crypto.DecryptingReader(evidence_store().open(clip.stored_name, from_start=from_start), data_key)
    if reader.size != clip.size:
        reader.close()
        raise crypto.EvidenceIntegrityError("the file's size differs from the one taken at upload")
    return reader


def clip_reader_for_analysis(*, clip: Clip) -> crypto.DecryptingReader:
    """The clip's plaintext as a seekable file object, decrypted as it is read and never written anywhere, for a
    machine reader the caller answers for (detections' indexer records its read). Refused if purged. A missing shred
    key only refuses the read here (evidence_keys.clip_data_key says why)."""
    if clip.wrapped_key is None:
        raise crypto.EvidenceIntegrityError("This clip has been purged.")
    return _clip_reader(clip, user=None, from_start=True, mark_destroyed=False)


def clip_open(*, clip: Clip, user, action: str | None, reason: str = "", byte_range=None,
              once_per_window: bool = False) -> ClipStream:
    """Checks access, opens the clip in the evidence store and records the access; returns its plaintext as a
    ClipStream, whole or the [start, stop) of `byte_range`. Every record is authenticated, in its place, as it is
    read, and the file's size checked first (evidence_out.py); the whole SHA-256 is checked at rest, not here. A
    missing, truncated or altered file is refused, flagged and recorded (EvidenceIntegrityError); a store that is
    down is recorded and refused (EvidenceStoreError). A clip flagged before is not served in ranges, and a whole
    read of it re-checks the SHA-256 taken at upload before its last record is sent.

    `once_per_window`: record `action` once per clip, user and action per CONNECT_EVIDENCE_RANGE_LEDGER_MINUTES
    (the ranges a player or a download manager sends for one viewing are one entry)."""
    on_incident = selectors.incident_access(user, clip.incident)
    if not on_incident.viewable:
        raise PermissionDenied("You are not assigned to this case.")
    if clip.wrapped_key is None:
        raise crypto.EvidenceIntegrityError("This clip has been purged.")
    if byte_range is not None and clip.integrity_failed_at is not None:
        reason = "it failed an integrity check before; download it whole to check it again"
        record(actor=user, action=Action.CLIP_INTEGRITY_FAILED, reason=f"ranged read refused: {reason}",
               **clip_audit_args(clip))
        raise crypto.EvidenceIntegrityError(reason)
    try:
        # One request to a bucket when the read runs from the first record to the end (a player asks `bytes=0-`).
        from_start = byte_range is None or (byte_range[0] < crypto.CHUNK and byte_range[1] == clip.size)
        reader = _clip_reader(clip, user=user, from_start=from_start)
        start, stop = byte_range or (0, reader.size)
        try:
            stream = ClipStream(reader, start=start, stop=stop, sha256=clip.sha256,
                                on_failure=lambda exc: _clip_read_failed(clip, user, exc),
                                rehash=clip.integrity_failed_at is not None)
        except BaseException:
            reader.close()
            raise
    except (crypto.EvidenceIntegrityError, EvidenceStoreError) as exc:
        _clip_read_failed(clip, user, exc)
        if isinstance(exc, EvidenceMissing):  # evidence gone is evidence altered, not a store that is down
            raise crypto.EvidenceIntegrityError(str(exc)) from None
        raise
    if action is not None and (not once_per_window or _first_in_window(clip, user, action)):
        # Whether the user was on the case: the weekly review lists evidence opened by anyone who was not.
        assigned = on_incident.assigned
        extra = {"range": f"{stream.start}-{stream.stop - 1}"} if byte_range is not None else {}
        record(actor=user, action=action, reason=reason, sha256=clip.sha256, assigned=assigned,
               **clip_audit_args(clip), **extra)
    return stream


def clip_open_released(*, clip: Clip, actor, action: Action, reason: str = "", **detail) -> ClipStream:
    """The whole clip for a release whose scope the caller checked (an outside agency's approved request, in
    agencies/: no staff role is involved). Read, authenticated and recorded as clip_open does."""
    if clip.wrapped_key is None:
        raise crypto.EvidenceIntegrityError("This clip has been purged.")
    try:
        reader = _clip_reader(clip, user=actor)
        try:
            stream = ClipStream(reader, start=0, stop=reader.size, sha256=clip.sha256,
                                on_failure=lambda exc: _clip_read_failed(clip, actor, exc),
                                rehash=clip.integrity_failed_at is not None)
        except BaseException:
            reader.close()
            raise
    except (crypto.EvidenceIntegrityError, EvidenceStoreError) as exc:
        _clip_read_failed(clip, actor, exc)
        if isinstance(exc, EvidenceMissing):
            raise crypto.EvidenceIntegrityError(str(exc)) from None
        raise
    record(actor=actor, action=action, reason=reason, sha256=clip.sha256, **clip_audit_args(clip), **detail)
    return stream


def _first_in_window(clip: Clip, user, action: str) -> bool:
    from django.core.cache import cache

    return cache.add(f"connect:clip-read:{clip.code}:{user.pk}:{action}", 1,
                     timeout=settings.EVIDENCE_RANGE_LEDGER_MINUTES * 60)


def clip_verify(*, clip: Clip, user=None) -> bool:
    """Reads the whole clip from the store and checks its SHA-256 against the upload's: recorded either way
    (CLIP_VERIFIED, or flagged and CLIP_INTEGRITY_FAILED). False when it failed; a store that is down raises
    EvidenceStoreError, a key service that is down EvidenceKeyUnavailable (both recorded), and a clip whose shred
    key is gone ClipDestroyed (it is marked purged: nothing is left to check)."""
    try:
        reader = _clip_reader(clip, user=user)
        digest = hashlib.sha256()
        try:
            for record_plaintext in reader.chunks():
                digest.update(record_plaintext)
        finally:
            reader.close()
        if not hmac.compare_digest(digest.hexdigest(), clip.sha256):
            raise crypto.EvidenceIntegrityError("the SHA-256 differs from the one taken at upload")
    except EvidenceStoreError as exc:
        _clip_read_failed(clip, user, exc)
        if not isinstance(exc, EvidenceMissing):
            raise
        return False
    except crypto.EvidenceIntegrityError as exc:
        _clip_read_failed(clip, user, exc)
        return False
    Clip.objects.filter(pk=clip.pk).update(verified_at=timezone.now())
    record(actor=user, action=Action.CLIP_VERIFIED, sha256=clip.sha256, store=evidence_store().name,
           **clip_audit_args(clip))
    return True


def clips_verify_due(*, budget_bytes: int) -> tuple[int, int]:
    """(verified, failed): the at-rest check. Re-hashes whole clips, those checked longest ago (never: first),
    until `budget_bytes` of plaintext have been read, so each run's load is bounded and every clip comes round
    in turn. A store or key service that is down ends the run (recorded); the next run starts where this one
    stopped."""
    verified = failed = spent = 0
    due = (Clip.objects.filter(wrapped_key__isnull=False).select_related("incident", "request__camera__owner")
           .order_by(models.F("verified_at").asc(nulls_first=True), "pk"))
    for clip in due.iterator(chunk_size=100):
        if spent and spent + clip.size > budget_bytes:
            break
        spent += clip.size
        try:
            ok = clip_verify(clip=clip)
        except evidence_keys.ClipDestroyed:
            continue  # found destroyed (a restored backup): purged and recorded now, not an integrity failure
        verified += ok
        failed += not ok
    return verified, failed


def clip_keys_rewrap(*, batch: int = 500) -> tuple[int, int]:
    """(re-wrapped, unreadable): moves every clip's data key to the current master key, in batches."""
    current = crypto.current_key_id()
    done = unreadable = 0
    last_pk = 0
    while True:
        clips = list(Clip.objects.filter(pk__gt=last_pk, wrapped_key__isnull=False).exclude(master_key_id=current)
                     .order_by("pk")[:batch])
        if not clips:
            return done, unreadable
        for clip in clips:
            last_pk = clip.pk
            try:
                data_key = crypto.unwrap_key(bytes(clip.wrapped_key), master_id=clip.master_key_id,
                                             context=clip.code.bytes)  # the outer layer only: shred keys stay
            except (crypto.EvidenceIntegrityError, MasterKeyMissing):
                unreadable += 1
                continue
            except KeyServiceError as exc:
                raise evidence_keys.key_failure_record(actor=None, error=exc, doing="rotating the master key") from None
            key_id, wrapped = crypto.wrap_key(data_key, context=clip.code.bytes)
            Clip.objects.filter(pk=clip.pk, master_key_id=clip.master_key_id).update(
                master_key_id=key_id, wrapped_key=wrapped)
            done += 1
        record(actor=None, action=Action.EVIDENCE_KEY_ROTATED, target_type="evidence", clips=done)


# --- retention ------------------------------------------------------------------------------------------

def _expired_clips():
    """Clips whose owner-chosen period after the case closed has run out, and that no court holds."""
    keep = models.Func(models.F("keep_days_after_close"), function="make_interval",
                       template="make_interval(days => %(expressions)s)")
    return (Clip.objects.filter(purged_at__isnull=True, legal_hold=False, incident__closed_at__isnull=False)
            .annotate(expires=models.ExpressionWrapper(models.F("incident__closed_at") + keep,
                                                       output_field=models.DateTimeField()))
            .filter(expires__lt=timezone.now())
            .order_by("pk"))  # not the model's uploaded_at: sorting every candidate spilled to disk (bench)


def clips_expired_purge(*, batch: int = 1000) -> int:
    """Crypto-shreds expired clips, a batch at a time: the data keys are destroyed first (that alone makes a clip
    unreadable), then the files are removed, the batch is recorded in the ledger and the owners get receipts.
    Idempotent; an interrupted run leaves at worst unreadable files that the next run removes."""
    from audit.ledger import entry, record_many

    purged = 0
    while True:
        with transaction.atomic():
            # Locked and skipped by concurrent runs, so two purges never record the same clip twice.
            clips = list(_expired_clips().select_related("incident", "request__camera__owner")
                         .select_for_update(skip_locked=True, of=("self",))[:batch])
            ids = [clip.pk for clip in clips]
            Clip.objects.filter(pk__in=ids, purged_at__isnull=True, legal_hold=False).update(
                wrapped_key=None, purged_at=timezone.now())
            shredded = set(Clip.objects.filter(pk__in=ids, wrapped_key__isnull=True).values_list("pk", flat=True))
            done = [clip for clip in clips if clip.pk in shredded]
            entries = []
            for clip in done:
                camera = clip.request.camera if clip.request_id else None
                entries.append(entry(actor=None, action=Action.CLIP_PURGED, target_type="clip", target_code=clip.code,
                                     incident_code=clip.incident.code, case_number=clip.incident.case_number,
                                     camera_code=camera.code if camera else "",
                                     owner_code=camera.owner.code if camera else "", sha256=clip.sha256))
            record_many(entries)
            if done:
                clips_purged.send(sender=Clip, clip_ids=[clip.pk for clip in done])
            receipts = [clip.pk for clip in done if clip.request_id and clip.request.camera_id]
            if receipts:
                outbox.enqueue("requests_app.tasks.clip_deletion_receipts_task", {"clip_ids": receipts})
        evidence_keys.shred_keys_destroy(clip.code for clip in done)  # the clip is gone for good from here
        for clip in done:
            _clip_object_delete(clip)
        purged += len(done)
        if len(clips) < batch:
            break
    # Files left by a run that stopped between destroying a key and removing the file (recent runs only), and
    # shred keys left by one that stopped before destroying them.
    for clip in Clip.objects.filter(purged_at__gte=timezone.now() - timedelta(days=2)).only("stored_name"):
        _clip_object_delete(clip)
    evidence_keys.shred_keys_sweep()
    try:
        evidence_orphans_purge()
    except EvidenceStoreError as exc:  # the clips are shredded either way; the sweep runs again next hour
        logger.warning("evidence store sweep skipped: %s", exc)
    return purged


def evidence_orphans_purge(*, older_than=timedelta(hours=1)) -> int:
    """Objects in the evidence store that no clip names (a process that died between storing an upload and
    committing its clip), and multipart uploads never finished: removed once older than `older_than`, so an
    upload being accepted right now is never touched. Staging files are upload_leftovers_sweep's."""
    store = evidence_store()
    cutoff = timezone.now() - older_than
    store.abandoned_uploads_abort(cutoff)
    removed = 0
    batch: list[str] = []

    def sweep() -> int:
        named = set(Clip.objects.filter(stored_name__in=batch).values_list("stored_name", flat=True))
        for name in batch:
            if name not in named:
                store.delete(name)
        return len(batch) - len(named)

    for name, modified in store.entries():
        if name.startswith("incoming-") or not name.endswith(".cnev") or modified >= cutoff:
            continue
        batch.append(name)
        if len(batch) == 500:
            removed += sweep()
            batch = []
    if batch:
        removed += sweep()
    return removed


def clip_path(clip: Clip) -> Path:
    """The clip's file in the local evidence folder (the local store; bench/retention.py times its unlinks)."""
    return evidence.evidence_dir() / clip.stored_name


def _clip_object_delete(clip: Clip) -> None:
    """The shredded clip's object goes too; a store that is down now is tried again by the next run (the
    closing loop above), and the clip is unreadable either way since its key is gone."""
    store = evidence_store()
    try:
        if store.name == "local":
            clip_path(clip).unlink(missing_ok=True)
        else:
            store.delete(clip.stored_name)
    except EvidenceStoreError as exc:
        logger.warning("purged clip %s: its evidence object stays until the next run: %s", clip.code, exc)


def upload_leftovers_sweep(*, grace_s: float = 60.0) -> int:
    """Sealed uploads in the staging folder and spooled request bodies that a stopped web process left behind
    (killed mid-upload): removed once no live process holds them (common.private_files), so an upload still
    under way, however slow, is never touched; and resumable uploads abandoned for a day. Runs when web starts and
    hourly on beat; returns how many."""
    spool = settings.SPOOL_DIR
    removed = leftovers_sweep(evidence.evidence_dir(), "incoming-*.cnev", grace_s=grace_s)
    removed += leftovers_sweep(spool, "connect-body-*.sealed", grace_s=grace_s)
    return len(removed) + resumable.abandoned_sweep()


@transaction.atomic
def clip_deletion_receipt_send(*, clip_id: int) -> str:
    """Sends the owner's receipt for a purged clip, once it is delivered to the mail server; marked as sent only
    then, so a lost task or a dead mail server ends in a resend (`clip_deletion_receipts_unsent`), not silence.

    The clip's row stays locked while the mail goes out, so the purge's retrying task and the sweep never both
    send it; whichever finds it locked leaves it to the other."""
    clip = (Clip.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("incident", "request__camera__owner").filter(pk=clip_id).first())
    if clip is None:
        return "being sent" if Clip.objects.filter(pk=clip_id).exists() else "clip gone"
    camera = clip.request.camera if clip.request_id else None
    if camera is None:
        return "owner gone"
    if clip.receipt_sent_at is not None:
        return "already sent"
    send_templated(to=camera.owner.email, name="clip-deleted", language=camera.owner.language, context={
        "clip": clip, "camera": camera, "owner_name": camera.owner.name, "incident": clip.incident})
    Clip.objects.filter(pk=clip.pk).update(receipt_sent_at=timezone.now())
    return "sent"


RECEIPT_GRACE = timedelta(minutes=10)  # the purge's own task goes first; retries back off up to 15 minutes


def clip_deletion_receipts_unsent(*, limit: int = 1000) -> list[int]:
    """Purged clips whose owner (still registered) has had no receipt: the broker was down when the purge
    queued it, or the mail server stayed down through every retry, or a worker died holding the task."""
    return list(Clip.objects.filter(purged_at__lt=timezone.now() - RECEIPT_GRACE, receipt_sent_at__isnull=True,
                                    request__camera__isnull=False)
                .order_by("purged_at").values_list("pk", flat=True)[:limit])


@transaction.atomic
def clip_legal_hold_set(*, clip: Clip, hold: bool, reason: str, user) -> None:
    Clip.objects.filter(pk=clip.pk).update(legal_hold=hold, legal_hold_reason=reason[:300] if hold else "")
    camera = clip.request.camera if clip.request_id else None
    record(actor=user, action=Action.CLIP_LEGAL_HOLD_SET if hold else Action.CLIP_LEGAL_HOLD_RELEASED,
           target_type="clip", target_code=clip.code, incident_code=clip.incident.code,
           case_number=clip.incident.case_number, camera_code=camera.code if camera else "",
           owner_code=camera.owner.code if camera else "", reason=reason)


def requests_orphaned_scrub() -> int:
    """Leftovers of deleted owners: a request whose camera was deleted keeps its state for the case, but not
    the camera's label, which owners often write with their name in it."""
    return FootageRequest.objects.filter(camera__isnull=True).exclude(camera_label=DELETED_CAMERA).update(
        camera_label=DELETED_CAMERA)


DELETED_CAMERA = "(camera deleted by its owner)"


def requests_of_cameras_scrub(*, camera_ids: list[int]) -> int:
    """Called as an owner deletes cameras: their requests keep their state for the case, but lose the
    label and the owner's own words, here and in the change history."""
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    requests = FootageRequest.objects.filter(camera_id__in=camera_ids)
    ids = list(requests.values_list("pk", flat=True))
    requests.update(camera_label=DELETED_CAMERA, decline_reason="")
    LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(FootageRequest),
                            object_id__in=ids).delete()
    return len(ids)
