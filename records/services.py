"""Writes for public-records releases: every step is refused with a reason when the policy or the case does not
allow it, and recorded in the ledger.

A release of a closed case's clips goes: prepared (each clip queued for redaction, each owner told and given
CONNECT_RECORDS_OBJECTION_DAYS to object) → each redaction reviewed by the officer (boxes added, whole frame
blurred, re-run, approved) → after the window, the officer's decision: release or withhold. Only approved
redactions of a released release can be downloaded; originals never leave through this app."""

import io
import logging
import secrets
import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from audit.actions import Action
from audit.ledger import record
from common import clip_keys, outbox
from common import sealed as crypto
from common.evidence_store import EvidenceStoreError, evidence_store
from common.mail import send_templated
from integration.models import PrivacyMask
from records import policy, redaction, registry_export
from records.models import OwnerNotice, Redaction, Release
from requests_app import evidence, evidence_keys
from requests_app.models import Clip, Incident
from requests_app.services import clip_audit_args

logger = logging.getLogger(__name__)
_OBJECTION_SALT = "connect.records.objection"
STORED_SUFFIX = ".cnrd"  # not ".cnev": the evidence orphan sweep names clips only


class ObjectionLinkError(Exception):
    pass


def _refused(*, user, reason: str, incident: Incident | None = None, doing: str) -> policy.ReleaseRefused:
    fields = {"target_type": "incident", "target_code": incident.code,
              "case_number": incident.case_number} if incident else {"target_type": "records"}
    record(actor=user, action=Action.RECORDS_REFUSED, reason=reason, doing=doing, policy=policy.policy(), **fields)
    return policy.ReleaseRefused(reason)


# --- the registry ---------------------------------------------------------------------------------------

def registry_export_start(*, user) -> registry_export.Cells:
    """Checks the policy and records the export (with how many cameras it leaves out); the caller streams
    records.registry_export.rows() of the cells returned."""
    try:
        policy.release_allowed_check()
    except policy.ReleaseRefused as exc:
        raise _refused(user=user, reason=str(exc), doing="registry export") from None
    counted = registry_export.cells()
    record(actor=user, action=Action.RECORDS_REGISTRY_EXPORTED, target_type="registry",
           grid_m=settings.RECORDS_GRID_M, min_cell_cameras=counted.k,
           suppressed=registry_export.suppressed(counted))
    return counted


def refusal_letter_record(*, user, requester: str, reference: str) -> None:
    record(actor=user, action=Action.RECORDS_REFUSAL_LETTER, target_type="records", reason=reference[:200],
           requester=requester[:200], policy=policy.policy())


# --- preparing a release --------------------------------------------------------------------------------

def _clip_owner(clip: Clip):
    camera = clip.request.camera if clip.request_id else None
    return camera.owner if camera else None


def clip_ownerless(clip: Clip) -> bool:
    """A public upload, or a clip whose camera is gone: no owner to tell and no privacy mask to apply."""
    return _clip_owner(clip) is None


def release_prepare(*, incident: Incident, user, request_reference: str) -> Release:
    """A release of the case's clips: each queued for redaction, each owner told. ReleaseRefused (recorded) in
    confidential mode, for an open case, or a case with no clip left. A clip no owner can be told of, and no
    privacy mask covers, is blurred whole."""
    try:
        policy.release_allowed_check(incident)
    except policy.ReleaseRefused as exc:
        raise _refused(user=user, reason=str(exc), incident=incident, doing="prepare release") from None
    clips = list(Clip.objects.filter(incident=incident, purged_at__isnull=True, wrapped_key__isnull=False)
                 .select_related("request__camera__owner"))
    if not clips:
        raise _refused(user=user, incident=incident, doing="prepare release",
                       reason=f"Case {incident.case_number} has no clip left to release (none shared, or all "
                              "deleted by retention).")
    with transaction.atomic():
        release = Release.objects.create(
            incident=incident, request_reference=request_reference[:120], created_by=user,
            objection_until=timezone.now() + timedelta(days=settings.RECORDS_OBJECTION_DAYS))
        record(actor=user, action=Action.RELEASE_PREPARED, target_type="release", target_code=release.code,
               incident_code=incident.code, case_number=incident.case_number, clips=len(clips),
               reference=release.request_reference, objection_until=release.objection_until)
        for clip in clips:
            item = Redaction.objects.create(release=release, clip=clip, whole_frame=clip_ownerless(clip))
            _redaction_queue(item)
        for owner in {owner.pk: owner for clip in clips if (owner := _clip_owner(clip))}.values():
            notice = OwnerNotice.objects.create(release=release, owner=owner, owner_code=str(owner.code),
                                                nonce=secrets.token_urlsafe(24))
            outbox.enqueue("records.tasks.owner_notice_send_task", {"notice_id": notice.pk})
    return release


def _redaction_queue(item: Redaction) -> None:
    # Through the outbox: queued with the commit, or by its sweep if the broker was away (common/outbox.py).
    outbox.enqueue("records.tasks.redaction_run_task", {"redaction_id": item.pk})


def objection_link(notice: OwnerNotice) -> str:
    token = signing.dumps({"n": notice.nonce}, salt=_OBJECTION_SALT)
    return settings.PUBLIC_URL + reverse("records:object", kwargs={"token": token})


@transaction.atomic
def owner_notice_send(*, notice_id: int) -> str:
    """Tells the owner, in their language, that their clips will be released redacted unless they object. The
    notice stays locked while the mail goes out, so a task delivered twice sends once."""
    notice = (OwnerNotice.objects.select_for_update(skip_locked=True, of=("self",))
              .select_related("release__incident", "owner").filter(pk=notice_id).first())
    if notice is None and OwnerNotice.objects.filter(pk=notice_id).exists():
        return "being sent"
    if notice is None or notice.owner is None:
        return "owner gone"
    if notice.sent_at is not None:
        return "already sent"
    release = notice.release
    clips = [item.clip for item in release.redactions.select_related("clip__request__camera")
             if _clip_owner(item.clip) == notice.owner]
    # The owner's days are counted from the sending: a notice that went out late moves the release's window on.
    until = timezone.now() + timedelta(days=settings.RECORDS_OBJECTION_DAYS)
    if until > release.objection_until:
        Release.objects.filter(pk=release.pk, objection_until__lt=until).update(objection_until=until)
        release.objection_until = until
    send_templated(to=notice.owner.email, name="records-release-notice", language=notice.owner.language, context={
        "owner_name": notice.owner.name, "incident": release.incident, "clips": clips,
        "until": release.objection_until, "url": objection_link(notice)})
    OwnerNotice.objects.filter(pk=notice.pk).update(sent_at=timezone.now())
    for clip in clips:
        record(actor=None, action=Action.RELEASE_OWNER_NOTIFIED, release=str(release.code),
               objection_until=release.objection_until, **clip_audit_args(clip))
    return "sent"


def objection_notice(*, token: str) -> OwnerNotice:
    """The notice an objection link names; ObjectionLinkError if the link is bad, used, or its window ended."""
    try:
        nonce = signing.loads(token, salt=_OBJECTION_SALT)["n"]
    except (signing.BadSignature, KeyError, TypeError):
        raise ObjectionLinkError("bad") from None
    notice = OwnerNotice.objects.select_related("release__incident").filter(nonce=nonce).first()
    if notice is None:
        raise ObjectionLinkError("bad")
    if notice.objected_at is not None:
        raise ObjectionLinkError("used")
    if timezone.now() >= notice.release.objection_until or notice.release.decision != Release.Decision.PENDING:
        raise ObjectionLinkError("closed")
    return notice


@transaction.atomic
def objection_record(*, notice: OwnerNotice, text: str) -> None:
    updated = OwnerNotice.objects.filter(pk=notice.pk, objected_at__isnull=True).update(
        objected_at=timezone.now(), objection=text[:4000])
    if updated:
        release = notice.release
        record(actor="owner", action=Action.RELEASE_OBJECTED, target_type="release", target_code=release.code,
               owner_code=notice.owner_code, incident_code=release.incident.code,
               case_number=release.incident.case_number)


# --- redaction ------------------------------------------------------------------------------------------

def _output_destroy(name: str, code) -> None:
    """A redacted output no longer wanted (replaced, or from a failed run): its shred key destroyed, which makes any
    copy unreadable, then its file removed."""
    if code:
        try:
            clip_keys.clip_key_destroy(code)
        except Exception:  # the key store is down: the file goes anyway; its wrapped key went with the row
            logger.warning("shred key of redacted output %s could not be destroyed", code, exc_info=True)
    if name:
        try:
            evidence_store().delete(name)
        except EvidenceStoreError:
            logger.warning("redacted object %s could not be removed", name)


def redaction_run(*, redaction_id: int) -> str:
    """Redacts one clip into a new sealed file. Claimed by a conditional update, so a task delivered twice runs
    once. A failure anywhere leaves no output: the row says why, and the release cannot go ahead."""
    if not Redaction.objects.filter(pk=redaction_id, state=Redaction.State.QUEUED).update(
            state=Redaction.State.RUNNING, failure_reason="", started_at=timezone.now()):
        return "not queued"
    item = Redaction.objects.select_related("clip__incident", "clip__request__camera__owner", "release").get(
        pk=redaction_id)
    clip = item.clip
    previous = (item.stored_name, item.output_code)
    output_code = uuid.uuid4()  # each run's output has its own file and its own shred key
    name = f"{output_code}{STORED_SUFFIX}"
    try:
        out = io.BytesIO()  # the redacted plaintext stays in memory: nothing unredacted or half-done touches disk
        reader = _original_reader(clip)
        try:
            camera = clip.request.camera if clip.request_id else None
            polygons = [mask.points for mask in PrivacyMask.objects.filter(camera=camera)] if camera else []
            result = redaction.redact_video(reader, out, polygons=polygons, added=item.added_boxes,
                                            whole_frame=item.whole_frame)
        finally:
            reader.close()
        writer = crypto.EncryptingWriter(str(evidence.evidence_dir() / f"incoming-{uuid.uuid4().hex}.cnev"))
        try:
            writer.write(out.getvalue())
            writer.close()
            evidence_store().adopt(Path(writer.path), name)
        except BaseException:
            writer.abort()  # the staging file goes, and its lease
            raise
        writer.lease.release()
        master_id, wrapped = clip_keys.clip_key_wrap(writer.data_key, code=output_code)
    except Exception as exc:  # any failure: the reason is kept for the officer, nothing is left behind
        logger.warning("redaction %s of clip %s failed", item.code, clip.code, exc_info=True)
        reason = _failure_reason(exc)
        _output_destroy(name, output_code)
        Redaction.objects.filter(pk=item.pk).update(
            state=Redaction.State.FAILED, failure_reason=reason[:300], stored_name="", output_code=None, sha256="",
            size=None, wrapped_key=None, finished_at=timezone.now())
        _output_destroy(*previous)
        record(actor=None, action=Action.REDACTION_FAILED, reason=reason, release=str(item.release.code),
               redaction=str(item.code), **clip_audit_args(clip))
        return "failed"
    with transaction.atomic():
        Redaction.objects.filter(pk=item.pk).update(
            state=Redaction.State.DONE, stored_name=name, output_code=output_code, master_key_id=master_id,
            wrapped_key=wrapped,
            sha256=writer.sha256.hexdigest(), size=writer.size, keyframes=result.keyframes,
            runs=item.runs + 1, finished_at=timezone.now(), reviewed_by=None)
        faces = sum(1 for k in result.keyframes for box in k["boxes"] if box[4] == redaction.FACE)
        plates = sum(1 for k in result.keyframes for box in k["boxes"] if box[4] == redaction.PLATE)
        # The link the custody report of the original follows (requests_app/custody.py reads this entry).
        record(actor=None, action=Action.REDACTION_STORED, release=str(item.release.code), redaction=str(item.code),
               redacted_sha256=writer.sha256.hexdigest(), redacted_size=writer.size, original_sha256=clip.sha256,
               frames=result.frames, face_boxes_in_keyframes=faces, plate_boxes_in_keyframes=plates,
               added_boxes=len(item.added_boxes), whole_frame=item.whole_frame, **clip_audit_args(clip))
    _output_destroy(*previous)
    return "done"


def _original_reader(clip: Clip) -> crypto.DecryptingReader:
    data_key = evidence_keys.clip_data_key(clip, user=None)
    reader = crypto.DecryptingReader(evidence_store().open(clip.stored_name, from_start=True), data_key)
    if reader.size != clip.size:
        reader.close()
        raise crypto.EvidenceIntegrityError("the stored original's size differs from the one taken at upload")
    return reader


def _failure_reason(exc: Exception) -> str:
    if isinstance(exc, redaction.RedactionError):
        return f"The clip could not be redacted: {exc}."
    if isinstance(exc, crypto.EvidenceIntegrityError):
        return f"The original clip failed its integrity check while being read ({exc}); nothing was released."
    if isinstance(exc, EvidenceStoreError | OSError):
        return f"The evidence store failed during the redaction ({exc.__class__.__name__}); run it again."
    if isinstance(exc, evidence_keys.KEY_FAILURES + (evidence_keys.ClipDestroyed,)):
        return "The clip's key could not be had (the key service did not answer, or the clip was destroyed)."
    return f"The redaction stopped on an unexpected error ({exc.__class__.__name__}); run it again."


@transaction.atomic
def redaction_adjust(*, item: Redaction, user, box=None, whole_frame: bool | None = None) -> None:
    """Adds a box (fractions x, y, w, h) or sets whole-frame blur, and runs the redaction again."""
    _editable_check(item)
    if box is not None:
        item.added_boxes = [*item.added_boxes, [round(v, 4) for v in box]]
    if whole_frame is not None:
        item.whole_frame = whole_frame
    item.state = Redaction.State.QUEUED
    item.reviewed_by = None
    item.save(update_fields=["added_boxes", "whole_frame", "state", "reviewed_by"])
    record(actor=user, action=Action.REDACTION_ADJUSTED, release=str(item.release.code), redaction=str(item.code),
           box=box, whole_frame=item.whole_frame, **clip_audit_args(item.clip))
    _redaction_queue(item)


def redaction_retry(*, item: Redaction, user) -> None:
    _editable_check(item)
    if item.state != Redaction.State.FAILED:
        raise policy.ReleaseRefused("Only a failed redaction is run again as it is; add a box to change one.")
    redaction_adjust(item=item, user=user)


@transaction.atomic
def redaction_approve(*, item: Redaction, user) -> None:
    _editable_check(item)
    if not Redaction.objects.filter(pk=item.pk, state=Redaction.State.DONE).update(
            state=Redaction.State.APPROVED, reviewed_by=user):
        raise policy.ReleaseRefused("Only a finished redaction can be approved: wait for it, or run it again.")
    record(actor=user, action=Action.REDACTION_REVIEWED, release=str(item.release.code), redaction=str(item.code),
           redacted_sha256=item.sha256, **clip_audit_args(item.clip))


def _editable_check(item: Redaction) -> None:
    policy.release_allowed_check(item.release.incident)  # a policy now confidential, or the case reopened
    if item.release.decision != Release.Decision.PENDING:
        raise policy.ReleaseRefused("This release has been decided; its redactions no longer change.")


# --- the decision ---------------------------------------------------------------------------------------

def release_decide(*, release: Release, user, decision: str, note: str) -> None:
    """Records the officer's decision once the objection window has ended. Release needs every clip's redaction
    approved; the redacted clips become downloadable then, and their owners see it in their history."""
    incident = release.incident
    try:
        policy.release_allowed_check(incident)
        if release.decision != Release.Decision.PENDING:
            raise policy.ReleaseRefused("This release has already been decided.")
        if timezone.now() < release.objection_until:
            raise policy.ReleaseRefused(
                f"Owners may object until {timezone.localtime(release.objection_until):%Y-%m-%d %H:%M %Z}: "
                "nothing is released before their time is up.")
        if decision not in (Release.Decision.RELEASE, Release.Decision.WITHHOLD):
            raise policy.ReleaseRefused("Choose to release or to withhold.")
        items = list(release.redactions.select_related("clip__incident", "clip__request__camera__owner"))
        if decision == Release.Decision.RELEASE:
            unsent = release.notices.filter(sent_at__isnull=True).count()
            if unsent:
                raise policy.ReleaseRefused(f"{unsent} owner notice(s) have not been sent yet: nothing is released "
                                            "before every owner was told and had their time to object.")
            waiting = [item for item in items if item.state != Redaction.State.APPROVED]
            if waiting:
                raise policy.ReleaseRefused(f"{len(waiting)} clip(s) have no approved redaction (failed, running or "
                                            "not yet reviewed): nothing was released.")
            if release.notices.filter(objected_at__isnull=False).exists() and not note.strip():
                raise policy.ReleaseRefused("Owners objected: say in the note why the release goes ahead.")
    except policy.ReleaseRefused as exc:
        raise _refused(user=user, reason=str(exc), incident=incident, doing="decide release") from None
    now = timezone.now()
    with transaction.atomic():
        if not Release.objects.filter(pk=release.pk, decision=Release.Decision.PENDING).update(
                decision=decision, decision_note=note[:4000], decided_by=user, decided_at=now,
                released_at=now if decision == Release.Decision.RELEASE else None):
            raise policy.ReleaseRefused("This release has already been decided.")
        record(actor=user, action=Action.RELEASE_DECIDED, target_type="release", target_code=release.code,
               incident_code=incident.code, case_number=incident.case_number, decision=decision, reason=note[:500],
               objections=release.notices.filter(objected_at__isnull=False).count())
        if decision == Release.Decision.WITHHOLD:  # nothing of a withheld release is kept beyond the decision
            for item in items:
                transaction.on_commit(lambda item=item: _outputs_clear([item.pk]))
        if decision == Release.Decision.RELEASE:
            for item in items:
                record(actor=user, action=Action.RELEASE_PUBLISHED, release=str(release.code),
                       redaction=str(item.code), redacted_sha256=item.sha256, **clip_audit_args(item.clip))
    release.refresh_from_db()


def release_viewed(*, release: Release, user) -> None:
    """The review page shows owners' objections and keyframes of their redacted clips: a read, recorded."""
    record(actor=user, action=Action.RELEASE_VIEWED, target_type="release", target_code=release.code,
           incident_code=release.incident.code, case_number=release.incident.case_number)


# --- the sweep ----------------------------------------------------------------------------------------------

STUCK_AFTER = timedelta(hours=1)
STUCK_REASON = "The redaction job stopped without finishing (its worker was lost); run it again."


def _outputs_clear(ids: list[int]) -> int:
    """Destroys the redacted outputs of these redactions (shred key, then file) and clears them from the rows."""
    cleared = 0
    for item in Redaction.objects.filter(pk__in=ids).exclude(stored_name=""):
        _output_destroy(item.stored_name, item.output_code)
        cleared += Redaction.objects.filter(pk=item.pk, stored_name=item.stored_name).update(
            stored_name="", output_code=None, wrapped_key=None)
    return cleared


def redactions_sweep() -> tuple[int, int]:
    """Beat's records sweep: (1) a job whose worker died mid-run is marked failed with a reason, its partial output
    never stored (the officer runs it again); (2) redacted copies of clips purged by retention are destroyed unless
    they were released (a released copy is a public record by then). Returns (stuck, destroyed)."""
    stuck = list(Redaction.objects.filter(state=Redaction.State.RUNNING,
                                          started_at__lt=timezone.now() - STUCK_AFTER)
                 .select_related("clip__incident", "clip__request__camera__owner", "release"))
    for item in stuck:
        if Redaction.objects.filter(pk=item.pk, state=Redaction.State.RUNNING).update(
                state=Redaction.State.FAILED, failure_reason=STUCK_REASON, finished_at=timezone.now()):
            record(actor=None, action=Action.REDACTION_FAILED, reason=STUCK_REASON, release=str(item.release.code),
                   redaction=str(item.code), **clip_audit_args(item.clip))
    purged = list(Redaction.objects.filter(clip__purged_at__isnull=False, release__released_at__isnull=True)
                  .exclude(stored_name="").values_list("pk", flat=True))
    return len(stuck), _outputs_clear(purged)


# --- reading the redacted output ------------------------------------------------------------------------

def redacted_reader(item: Redaction) -> crypto.DecryptingReader:
    data_key = clip_keys.clip_key_unwrap(bytes(item.wrapped_key), master_id=item.master_key_id,
                                         code=item.output_code)
    return crypto.DecryptingReader(evidence_store().open(item.stored_name, from_start=True), data_key)


def redacted_download(*, item: Redaction, user) -> crypto.DecryptingReader:
    """The released redacted clip, recorded; ReleaseRefused before the release was decided for release, and once
    the policy turned confidential or the case was reopened."""
    try:
        policy.release_allowed_check(item.release.incident)
    except policy.ReleaseRefused as exc:
        raise _refused(user=user, reason=str(exc), incident=item.release.incident,
                       doing="download redacted clip") from None
    if item.release.released_at is None or item.state != Redaction.State.APPROVED:
        raise _refused(user=user, incident=item.release.incident, doing="download redacted clip",
                       reason="This clip has not been released: only approved redactions of a released case can "
                              "be downloaded.")
    record(actor=user, action=Action.REDACTED_CLIP_DOWNLOADED, release=str(item.release.code),
           redaction=str(item.code), redacted_sha256=item.sha256, **clip_audit_args(item.clip))
    return redacted_reader(item)


def keyframe_jpeg(*, item: Redaction, index: int, user) -> bytes:
    """One keyframe of the redacted output, boxes outlined, for the officer's review (never of the original);
    ReleaseRefused when the policy or the case no longer allows a release. A look at an owner's footage: recorded."""
    policy.release_allowed_check(item.release.incident)
    keyframe = item.keyframes[index]
    record(actor=user, action=Action.REDACTION_KEYFRAME_VIEWED, release=str(item.release.code),
           redaction=str(item.code), keyframe=index, **clip_audit_args(item.clip))
    reader = redacted_reader(item)
    try:
        return redaction.keyframe_image(reader, at=keyframe["t"], boxes=keyframe["boxes"])
    finally:
        reader.close()
