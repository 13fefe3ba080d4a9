"""Writes of detections: queue and run a clip's indexing (one transaction per clip), purge with the clips, record
searches and thumbnail views in the ledger."""

import logging
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from audit.actions import Action
from audit.ledger import record
from common import outbox
from detections import indexing
from detections.detector import DetectorUnavailable
from detections.models import ClipIndex, Detection, LiveWatch, LiveWatchMatch
from requests_app.models import Clip
from requests_app.services import clip_audit_args, clip_reader_for_analysis

logger = logging.getLogger(__name__)
STILL_FORMATS = ("image2", "jpeg_pipe", "png_pipe", "webp_pipe", "mjpeg")


def clip_index_queue(*, clip_id: int, camera_id: int | None) -> None:
    """Called in the transaction that stores the clip: its index row, and the task queued once that commits."""
    clip = Clip.objects.only("incident_id").get(pk=clip_id)
    ClipIndex.objects.get_or_create(clip_id=clip_id, defaults={"incident_id": clip.incident_id,
                                                               "camera_id": camera_id})
    outbox.enqueue("detections.tasks.clip_index_task", {"clip_id": clip_id})


class IndexFailed(Exception):
    """The clip was not indexed; `retry` says whether another attempt is worth it."""

    def __init__(self, reason: str, *, retry: bool):
        super().__init__(reason)
        self.retry = retry


def clip_index(*, clip_id: int, max_attempts: int) -> int:
    """Indexes one clip: reads it through the decrypting reader, detects, and stores its detections and its
    indexed state in one transaction (a crash or a timeout leaves none of them). Returns the detections stored;
    raises IndexFailed after marking the clip "not indexed: reason" (retried up to `max_attempts`)."""
    # RUNNING too: a worker that died mid-clip (killed, or the detector crashed the process) left it so, and its
    # task comes back (acks_late); each claim counts as an attempt, so such a clip is not tried forever.
    claimed = ClipIndex.objects.filter(clip_id=clip_id, attempts__lt=max_attempts, state__in=(
        ClipIndex.State.PENDING, ClipIndex.State.FAILED, ClipIndex.State.RUNNING))
    if not claimed.update(attempts=F("attempts") + 1, state=ClipIndex.State.RUNNING):
        ClipIndex.objects.filter(clip_id=clip_id, state=ClipIndex.State.RUNNING).update(
            state=ClipIndex.State.FAILED, reason="the indexer stopped before it finished, at every attempt")
        return 0  # indexed already, purged, or out of attempts
    index = ClipIndex.objects.select_related("clip__incident", "clip__request__camera__owner").get(clip_id=clip_id)
    clip = index.clip
    try:
        reader = clip_reader_for_analysis(clip=clip)
        try:
            result = indexing.index_source(reader, still=clip.media_format in STILL_FORMATS)
        finally:
            reader.close()
    except Exception as exc:  # the detector or the decoder crashed, timed out, or the clip cannot be read
        reason = f"{type(exc).__name__}: {exc}"[:300]
        retry = index.attempts < max_attempts and not isinstance(exc, DetectorUnavailable)
        _index_failed(index, reason)
        logger.warning("clip %s not indexed (attempt %d): %s", clip.code, index.attempts, reason)
        raise IndexFailed(reason, retry=retry) from exc
    with transaction.atomic():
        if not ClipIndex.objects.filter(pk=index.pk).exclude(state=ClipIndex.State.PURGED).exists():
            return 0  # purged while it was being read
        Detection.objects.filter(clip=clip).delete()
        base = clip.recorded_at
        Detection.objects.bulk_create([_row(clip, index, item, base) for item in result.found])
        ClipIndex.objects.filter(pk=index.pk).update(
            state=ClipIndex.State.INDEXED, reason="", indexed_at=timezone.now(), detector=result.detector[:120],
            frames=result.frames)
        people = sum(item.kind == Detection.Kind.PERSON for item in result.found)
        record(actor=None, action=Action.DETECTIONS_INDEXED, detector=result.detector, frames=result.frames,
               people=people, vehicles=len(result.found) - people, **clip_audit_args(clip))
    return len(result.found)


def clip_index_stopped(*, clip_id: int, seconds: int) -> None:
    """The worker indexing the clip was killed at its hard time limit (the detector stopped answering): the clip is
    not indexed, says why, and the failure is recorded. Not tried again: a file that hangs the decoder or the
    detector hangs it every time, and each try would hold a worker as long."""
    index = (ClipIndex.objects.select_related("clip__incident", "clip__request__camera__owner")
             .filter(clip_id=clip_id, state=ClipIndex.State.RUNNING).first())
    if index is None:
        return  # finished, purged or marked meanwhile
    reason = f"the indexer stopped answering and was stopped after {seconds} s"
    _index_failed(index, reason)
    logger.warning("clip %s not indexed (attempt %d): %s", index.clip.code, index.attempts, reason)


def _index_failed(index: ClipIndex, reason: str) -> None:
    with transaction.atomic():
        ClipIndex.objects.filter(pk=index.pk).exclude(state=ClipIndex.State.PURGED).update(
            state=ClipIndex.State.FAILED, reason=reason)
        record(actor=None, action=Action.DETECTIONS_INDEX_FAILED, reason=reason, attempt=index.attempts,
               **clip_audit_args(index.clip))


def _row(clip: Clip, index: ClipIndex, item: indexing.Described, base) -> Detection:
    x, y, w, h = item.box
    return Detection(clip=clip, incident_id=clip.incident_id, camera_id=index.camera_id, kind=item.kind, t_s=item.t_s,
                     first_s=item.first_s, last_s=item.last_s, x=x, y=y, w=w, h=h, score=item.score,
                     seen_at=base + timedelta(seconds=item.t_s) if base else None,
                     upper_colour=item.upper_colour, lower_colour=item.lower_colour, hat=item.hat,
                     hat_colour=item.hat_colour, bag=item.bag, vehicle_type=item.vehicle_type,
                     vehicle_colour=item.vehicle_colour, direction=item.direction)


def detections_purge(*, clip_ids: list[int]) -> int:
    """In the purge's transaction: the clips' detections go with them, recorded with their count per clip."""
    deleted = 0
    for index in ClipIndex.objects.filter(clip_id__in=clip_ids).select_related("clip__incident",
                                                                               "clip__request__camera__owner"):
        count, _by_model = Detection.objects.filter(clip_id=index.clip_id).delete()
        ClipIndex.objects.filter(pk=index.pk).update(state=ClipIndex.State.PURGED, reason="")
        record(actor=None, action=Action.DETECTIONS_PURGED, detections=count, **clip_audit_args(index.clip))
        deleted += count
    return deleted


def search_record(*, user, incident, reason: str, criteria: dict, results: int) -> None:
    record(actor=user, action=Action.DETECTIONS_SEARCHED, target_type="incident", target_code=incident.code,
           incident_code=incident.code, case_number=incident.case_number, reason=reason, criteria=criteria,
           results=results)


def thumbnail(*, detection: Detection, user) -> bytes:
    """The crop of the detection's whole body or vehicle, cut from the clip as it is read (nothing stored), and
    recorded as a view of the owner's clip. The caller checked that `user` may see the case's clips."""
    clip = detection.clip
    reader = clip_reader_for_analysis(clip=clip)
    try:
        jpeg = indexing.crop_at(reader, t_s=detection.t_s, box=(detection.x, detection.y, detection.w, detection.h))
    finally:
        reader.close()
    record(actor=user, action=Action.DETECTION_THUMBNAIL_VIEWED, detection=str(detection.code), kind=detection.kind,
           t_s=detection.t_s, **clip_audit_args(clip))
    return jpeg


# --- live watches ("alert me when a match appears") ---------------------------------------------------------

WATCH_MINUTES_MAX = 240


def watch_set(*, user, incident, criteria: dict, reason: str, minutes: int) -> LiveWatch:
    """A watch on the case's open live views. The caller checked that `user` may search the case."""
    if incident.status != incident.Status.OPEN:
        raise ValidationError("The case is closed: its live views have ended.")
    if not 1 <= minutes <= WATCH_MINUTES_MAX:
        raise ValidationError(f"A watch lasts 1 to {WATCH_MINUTES_MAX} minutes.")
    with transaction.atomic():
        watch = LiveWatch.objects.create(incident=incident, set_by=user, reason=reason, criteria=criteria,
                                         ends_at=timezone.now() + timedelta(minutes=minutes))
        record(actor=user, action=Action.LIVE_WATCH_SET, target_type="incident", target_code=incident.code,
               incident_code=incident.code, case_number=incident.case_number, watch=str(watch.code), reason=reason,
               criteria=criteria, minutes=minutes)
    return watch


def watch_end(*, watch: LiveWatch, note: str, actor=None) -> bool:
    """Ends a watch once (its time limit, the case closing, or its setter); False if it had ended already."""
    with transaction.atomic():
        if not LiveWatch.objects.filter(pk=watch.pk).exclude(state=LiveWatch.State.ENDED).update(
                state=LiveWatch.State.ENDED, note=note[:300]):
            return False
        record(actor=actor, action=Action.LIVE_WATCH_ENDED, target_type="incident", target_code=watch.incident.code,
               incident_code=watch.incident.code, case_number=watch.incident.case_number, watch=str(watch.code),
               note=note, matches=watch.matches.count())
    return True


def watches_expire(*, incident=None) -> int:
    """Ends the watches past their time limit (asked whenever watches are read: no beat needed for a flag)."""
    overdue = LiveWatch.objects.exclude(state=LiveWatch.State.ENDED).filter(ends_at__lte=timezone.now())
    if incident is not None:
        overdue = overdue.filter(incident=incident)
    overdue = overdue.select_related("incident")
    return sum(watch_end(watch=watch, note="its time limit was reached") for watch in overdue)


def watches_end_for_case(*, incident) -> None:
    """In the transaction that closes the case (requests_app.signals.incident_closed)."""
    for watch in LiveWatch.objects.filter(incident=incident).exclude(state=LiveWatch.State.ENDED):
        watch_end(watch=watch, note="the case was closed")


def watch_pause(*, watch_code: str, reason: str) -> bool:
    """A detector that crashed on a frame: the watch says "paused: reason"; the live views go on."""
    with transaction.atomic():
        watch = LiveWatch.objects.select_related("incident").filter(code=watch_code,
                                                                    state=LiveWatch.State.ON).first()
        if watch is None or not LiveWatch.objects.filter(pk=watch.pk, state=LiveWatch.State.ON).update(
                state=LiveWatch.State.PAUSED, note=reason[:300]):
            return False
        record(actor=None, action=Action.LIVE_WATCH_PAUSED, target_type="incident", target_code=watch.incident.code,
               incident_code=watch.incident.code, case_number=watch.incident.case_number, watch=str(watch.code),
               reason=reason)
    return True


def _live_fields(session) -> dict:
    incident = session.incident
    return {"target_type": "live_session", "target_code": session.code, "incident_code": incident.code,
            "case_number": incident.case_number, "camera_code": session.camera.code,
            "owner_code": session.camera.owner.code}


def watch_checked(*, watch_codes: list[str], session, user) -> None:
    """Once per watch and live view: the camera's owner reads that their live picture was checked for a case."""
    record(actor=user, action=Action.LIVE_WATCH_CHECKED, watches=watch_codes, **_live_fields(session))


def watch_match_record(*, watch_code: str, session, user, kind: str, box, label: str) -> LiveWatchMatch:
    """A match shown on `user`'s live view: kept as words and a box (no picture), and in the ledger for the owner."""
    watch = LiveWatch.objects.get(code=watch_code)
    x, y, w, h = box
    with transaction.atomic():
        match = LiveWatchMatch.objects.create(watch=watch, camera=session.camera, camera_label=session.camera.label,
                                              session_code=session.code, shown_to=user, kind=kind, x=x, y=y, w=w,
                                              h=h, label=label[:200])
        record(actor=user, action=Action.LIVE_WATCH_MATCH_SHOWN, watch=watch_code, kind=kind, label=label,
               **_live_fields(session))
    return match
