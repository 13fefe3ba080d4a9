"""Writes of live integration: owners' agreements, limits, masks and tokens; opening and ending live sessions.

Every change is recorded in the access ledger; every change that affects open views reaches their sockets
through integration.broadcast once it commits.
"""

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from audit.actions import Action
from audit.ledger import record
from common import outbox
from common.access import is_outside
from common.change_history import history_note
from common.channel_layer import REDIS_DOWN
from common.codes import parse_code
from common.districts import district_of
from integration import broadcast, frames, pilot, selectors
from integration.gating import LiveRefused, live_view_check
from integration.hours import hours_validate
from integration.models import (
    ConnectorToken,
    LiveSession,
    LiveShare,
    LiveShareWaiting,
    OverrideRequest,
    PrivacyMask,
    TrainingRecord,
)
from integration.outside import outside_grant
from integration.overrides import session_override_reason
from registry.models import Camera

TOKEN_PREFIX = "cct_"


def _by_label(by) -> str:
    """'owner', or the staff user's name."""
    return by if isinstance(by, str) else by.get_username()


def _camera_fields(camera: Camera) -> dict:
    return {"camera_code": camera.code, "owner_code": camera.owner.code}


def _report_fields(camera: Camera, incident) -> dict:
    """What the transparency report groups live views by: the case's offense type ("" for a view without an
    incident, which an owner may allow) and the district, of the case or else of the camera."""
    return {"offense_type": incident.offense_type if incident else "",
            "district": district_of(incident.location if incident else camera.location)}


# --- the owner's side ------------------------------------------------------------------------------------

def live_share_sign(*, camera: Camera, signed_name: str, ip: str | None,
                    limits: dict) -> LiveShare | LiveShareWaiting:
    """The owner signs the current terms for this camera; it becomes integrated, or, when the program's limit for
    the owner's kind is reached (or others already wait), the signature waits in the queue (integration/queue.py
    admits it when a place frees)."""
    problem = selectors.live_share_ineligible(camera)
    if problem:
        raise ValidationError(problem)
    if pilot.program_ended():
        raise ValidationError(gettext("The pilot program has ended: no camera can be shared live any more."))
    if len(signed_name.strip()) < 3:
        raise ValidationError("Type your full name to sign.")
    limits = _limits_clean(limits)
    with transaction.atomic():
        camera = Camera.objects.select_for_update().get(pk=camera.pk)
        if selectors.live_share_current(camera) is not None:
            raise ValidationError("This camera is already shared live.")
        if pilot.waiting_of(camera) is not None:
            raise ValidationError(gettext("This camera already waits in the queue for live sharing."))
        kind = camera.owner.kind
        if pilot.limit_of(kind):
            pilot.queue_lock(kind)
            # The queue goes first: a newcomer never takes a place that someone waiting is owed.
            if pilot.places_left(kind) == 0 or LiveShareWaiting.objects.filter(kind=kind).exists():
                waiting = LiveShareWaiting.objects.create(
                    camera=camera, kind=kind, signed_name=signed_name.strip()[:200], signed_at=timezone.now(),
                    signed_ip=ip, limits=limits)
                record(actor="owner", action=Action.LIVE_SHARE_QUEUED, target_type="camera",
                       target_code=camera.code, kind=kind, limit=pilot.limit_of(kind), **_camera_fields(camera))
                return waiting
        return live_share_create(camera=camera, signed_name=signed_name, signed_at=timezone.now(), ip=ip,
                                 limits=limits)


def live_share_waiting_withdraw(*, camera: Camera) -> bool:
    """The owner takes their signature out of the queue; nothing was ever shared."""
    return LiveShareWaiting.objects.filter(camera=camera).delete()[0] > 0


def live_share_create(*, camera: Camera, signed_name: str, signed_at, ip: str | None, limits: dict,
                      admitted: bool = False) -> LiveShare:
    """The share itself, for a camera locked by the caller: signed now, or admitted from the queue."""
    share = LiveShare.objects.create(camera=camera, terms_version=settings.LIVE_TERMS_VERSION,
                                     signed_name=signed_name.strip()[:200], signed_at=signed_at, signed_ip=ip,
                                     **limits)
    Camera.objects.filter(pk=camera.pk).update(level=Camera.Level.INTEGRATED)
    if admitted:  # the owner's history says why sharing began now, long after they signed
        record(actor=None, action=Action.LIVE_SHARE_ADMITTED, target_type="camera", target_code=camera.code,
               kind=camera.owner.kind, **_camera_fields(camera))
    # The transparency report counts shares from this entry, however they began.
    record(actor="owner", action=Action.LIVE_SHARE_SIGNED, target_type="camera", target_code=camera.code,
           terms_version=share.terms_version, kind=camera.owner.kind, from_queue=admitted,
           **_camera_fields(camera), **_limits_detail(share))
    return share


def _limits_clean(limits: dict) -> dict:
    try:
        hours = hours_validate(limits["hours"])
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    if not any(hours.values()):
        raise ValidationError("Allow at least one day's hours, or stop sharing instead.")
    return {"hours": hours, "incident_required": bool(limits["incident_required"]),
            "incident_radius_m": int(limits["incident_radius_m"]),
            "max_session_minutes": int(limits["max_session_minutes"]),
            "notify_each_view": bool(limits["notify_each_view"])}


def _limits_detail(share: LiveShare) -> dict:
    return {"hours": share.hours, "incident_required": share.incident_required,
            "incident_radius_m": share.incident_radius_m, "max_session_minutes": share.max_session_minutes,
            "notify_each_view": share.notify_each_view}


def live_share_limits_set(*, share: LiveShare, limits: dict) -> LiveShare:
    """New limits apply at once: open views that break them end, the others keep their (shorter) end."""
    for field, value in _limits_clean(limits).items():
        setattr(share, field, value)
    with transaction.atomic():
        share.save()
        record(actor="owner", action=Action.LIVE_LIMITS_CHANGED, target_type="camera", target_code=share.camera.code,
               **_camera_fields(share.camera), **_limits_detail(share))
        for session in selectors.open_sessions(share.camera):
            try:
                ends_by = live_view_check(session.analyst, share.camera, session.incident, session.reason,
                                          session.override_reason, opening=False,
                                          approved=session.override_id is not None)
            except LiveRefused as refused:
                live_session_end(session=session, reason=refused.end_reason, note=refused.message)
                continue
            if ends_by < session.ends_by:
                LiveSession.objects.filter(pk=session.pk).update(ends_by=ends_by)
        broadcast.sessions_changed(share.camera.code)
    return share


def live_share_stop(*, camera: Camera, by="owner") -> bool:
    """'Stop sharing now': the share is revoked, open views end and the connector is told to stop."""
    with transaction.atomic():
        share = LiveShare.objects.select_for_update().filter(camera=camera, revoked_at__isnull=True).first()
        if share is None:
            return False
        share.revoked_at, share.revoked_by = timezone.now(), _by_label(by)
        share.save(update_fields=["revoked_at", "revoked_by"])
        Camera.objects.filter(pk=camera.pk).update(level=Camera.Level.REGISTERED)
        ended = _sessions_end_all(camera, LiveSession.EndReason.OWNER_STOPPED)
        record(actor=by, action=Action.LIVE_SHARE_STOPPED, target_type="camera", target_code=camera.code,
               sessions_ended=ended, **_camera_fields(camera))
        broadcast.camera_closed(camera.code, reason="The owner stopped sharing this camera.")
    return True


def live_share_pause(*, camera: Camera, until, by="owner") -> None:
    """Pauses live sharing until `until` (None resumes); views end now, like stopping."""
    with transaction.atomic():
        share = LiveShare.objects.select_for_update().filter(camera=camera, revoked_at__isnull=True).first()
        if share is None:
            raise ValidationError("This camera is not shared live.")
        share.paused_until = until
        share.save(update_fields=["paused_until"])
        if until is None:
            record(actor=by, action=Action.LIVE_SHARE_RESUMED, target_type="camera", target_code=camera.code,
                   **_camera_fields(camera))
            return
        ended = _sessions_end_all(camera, LiveSession.EndReason.OWNER_PAUSED)
        record(actor=by, action=Action.LIVE_SHARE_PAUSED, target_type="camera", target_code=camera.code,
               until=until.isoformat(), sessions_ended=ended, **_camera_fields(camera))
        broadcast.camera_closed(camera.code, reason=f"The owner paused sharing until "
                                                    f"{timezone.localtime(until):%Y-%m-%d %H:%M}.")


def camera_changed(*, camera: Camera) -> bool:
    """The owner edited the camera (registry): if it can no longer be shared live (made indoor, no longer
    facing public space), its share stops now, with every view."""
    if selectors.live_share_current(camera) is None or not selectors.live_share_ineligible(camera):
        return False
    return live_share_stop(camera=camera)


def camera_withdrawn(*, camera: Camera, deleted: bool = False) -> int:
    """The owner paused or deleted the camera itself (registry): its live views end now, like stopping."""
    reason = LiveSession.EndReason.OWNER_STOPPED if deleted else LiveSession.EndReason.OWNER_PAUSED
    with transaction.atomic():
        ended = _sessions_end_all(camera, reason)
        if deleted and selectors.live_share_current(camera) is not None:
            # The share goes with the camera: said in the ledger, or the camera would count as integrated for ever
            record(actor=None, action=Action.LIVE_SHARE_STOPPED, target_type="camera", target_code=camera.code,
                   sessions_ended=ended, camera_deleted=True, **_camera_fields(camera))
        broadcast.camera_closed(camera.code, reason="The owner deleted this camera." if deleted
                                else "The owner paused this camera.")
    return ended


def owner_cameras_withdrawn(*, owner) -> int:
    """The owner is being deleted (registry): every view of their integrated cameras ends now, as for a deleted
    camera."""
    return sum(camera_withdrawn(camera=camera, deleted=True)
               for camera in owner.cameras.filter(level=Camera.Level.INTEGRATED))


def cameras_history_forget(*, camera_ids: list[int]) -> None:
    """Called as an owner deletes cameras: the change history of their sharing terms (which carry the owner's
    signed name) and connector tokens goes with them. The ledger keeps the facts, without the name."""
    from auditlog.models import LogEntry

    for model in (LiveShare, ConnectorToken):
        LogEntry.objects.get_for_objects(model.objects.filter(camera_id__in=camera_ids)).delete()


def _sessions_end_all(camera: Camera, reason: str) -> int:
    sessions = selectors.open_sessions(camera)
    for session in sessions:
        live_session_end(session=session, reason=reason, notify=False)
    return len(sessions)


def privacy_masks_set(*, camera: Camera, masks: list) -> int:
    """Replaces the camera's masks; the connector's socket applies the new ones from the next frame."""
    try:
        polygons = frames.masks_validate(masks)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    with transaction.atomic():
        PrivacyMask.objects.filter(camera=camera, held_for="").delete()  # masks held for a concern stay
        PrivacyMask.objects.bulk_create([PrivacyMask(camera=camera, points=points) for points in polygons])
        record(actor="owner", action=Action.LIVE_MASKS_CHANGED, target_type="camera", target_code=camera.code,
               masks=len(polygons), **_camera_fields(camera))
        broadcast.masks_changed(camera.code)
    return len(polygons)


def pending_mask_place(*, camera: Camera, points: list, held_for: str) -> None:
    """A mask put over a neighbour's home until the owner answers their concern (the concerns app records why)."""
    try:
        (polygon,) = frames.masks_validate([points])
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    with transaction.atomic():
        PrivacyMask.objects.create(camera=camera, points=polygon, held_for=held_for, label="neighbour (pending)")
        broadcast.masks_changed(camera.code)


def pending_masks_lift(*, held_for: str) -> int:
    """Removes the masks held for `held_for` (the owner answered); the cameras' connectors reload their masks."""
    with transaction.atomic():
        codes = set(PrivacyMask.objects.filter(held_for=held_for).values_list("camera__code", flat=True))
        deleted, _rows = PrivacyMask.objects.filter(held_for=held_for).delete()
        for code in codes:
            broadcast.masks_changed(code)
    return deleted


STILL_WANTED_SECONDS = 120


def still_wanted_key(camera_code) -> str:
    return f"live-still-wanted:{camera_code}"


def still_for_masks_request(*, camera: Camera) -> None:
    """Asks the camera's connector for one frame, kept briefly for the owner's mask editor. The wish is
    remembered for two minutes, so a connector that connects only afterwards still answers it."""
    cache.set(still_wanted_key(camera.code), True, STILL_WANTED_SECONDS)
    broadcast.snapshot_wanted(camera.code)


# --- connector tokens -------------------------------------------------------------------------------------

def _token_hash(token: str) -> str:
    # Tokens carry 256 random bits, so a plain SHA-256 is as good as a slow hash here.
    return hashlib.sha256(token.encode()).hexdigest()


def connector_token_issue(*, camera: Camera, by) -> str:
    """A new token for the camera's connector (the old one stops working at once); returned only here."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        _tokens_revoke(camera)
        ConnectorToken.objects.create(camera=camera, prefix=token[:10], token_hash=_token_hash(token),
                                      created_by=_by_label(by))
        record(actor=by, action=Action.CONNECTOR_TOKEN_ISSUED, target_type="camera", target_code=camera.code,
               **_camera_fields(camera))
        broadcast.connector_kicked(camera.code, reason="A new connector token was issued.")
    return token


def connector_token_revoke(*, camera: Camera, by) -> bool:
    with transaction.atomic():
        revoked = _tokens_revoke(camera)
        if revoked:
            record(actor=by, action=Action.CONNECTOR_TOKEN_REVOKED, target_type="camera", target_code=camera.code,
                   **_camera_fields(camera))
            broadcast.connector_kicked(camera.code, reason="The connector token was revoked.")
    return bool(revoked)


def _tokens_revoke(camera: Camera) -> int:
    return ConnectorToken.objects.filter(camera=camera, revoked_at__isnull=True).update(revoked_at=timezone.now())


def connector_authenticate(*, camera_code, token: str) -> Camera | None:
    """The camera whose current token this is, or None (unknown camera and wrong token look the same)."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    current = (ConnectorToken.objects.select_related("camera", "camera__owner")
               .filter(camera__code=camera_code, token_hash=_token_hash(token), revoked_at__isnull=True).first())
    if current is None:
        return None
    ConnectorToken.objects.filter(pk=current.pk).update(last_used_at=timezone.now())
    return current.camera


def connector_token_valid(*, camera_id: int, token: str) -> bool:
    """Whether this is still the camera's current token (a connection re-checks it while it runs)."""
    return ConnectorToken.objects.filter(camera_id=camera_id, token_hash=_token_hash(token),
                                         revoked_at__isnull=True).exists()


def connector_refused(*, camera_code: str, reason: str, detail: str = "", kind: str = "") -> bool:
    """Records a refused or contained connector of a registered camera, once a minute per camera and reason
    (a connector retries; anyone can knock). Knocks on unknown cameras are not recorded. No actor: the
    connector proves no identity."""
    code = parse_code(camera_code)
    camera = Camera.objects.select_related("owner").filter(code=code).first() if code else None
    key = hashlib.sha256((kind or reason).encode()).hexdigest()[:16]
    if camera is None:
        return False
    try:
        if not cache.add(f"live-refused:{camera_code}:{key}", True, 60):
            return False
    except REDIS_DOWN:
        pass  # Redis away: recorded each time rather than not at all
    record(actor=None, action=Action.CONNECTOR_REFUSED, target_type="camera", target_code=camera.code,
           reason=reason, detail=detail[:200], **_camera_fields(camera))
    return True



# --- training ---------------------------------------------------------------------------------------------

def training_record_add(*, user, course: str, completed_on, hours, by) -> TrainingRecord:
    with transaction.atomic():
        training = TrainingRecord.objects.create(user=user, course=course, completed_on=completed_on, hours=hours,
                                                 recorded_by=by.get_username() if by else "system")
        record(actor=by, action=Action.TRAINING_RECORDED, target_type="user", target_code=user.pk,
               user=user.get_username(), course=course, completed_on=completed_on.isoformat(), hours=float(hours))
    return training


# --- live sessions ----------------------------------------------------------------------------------------

def live_session_open(*, user, camera: Camera, incident, reason: str, override_reason: str = "",
                      override: OverrideRequest | None = None) -> LiveSession:
    """Opens a live session after every rule passed; a refusal is recorded and raised as LiveRefused. `override`:
    a second person's approval for this analyst, camera and case (integration/overrides.py), still good."""
    if override is not None:
        override_reason = session_override_reason(override)
    try:
        ends_by = live_view_check(user, camera, incident, reason, override_reason, approved=override is not None)
        if override is not None:
            ends_by = min(ends_by, override.valid_until)
    except LiveRefused as refused:
        record(actor=user, action=Action.LIVE_REFUSED, target_type="camera", target_code=camera.code,
               incident_code=incident.code if incident else "", case_number=incident.case_number if incident else "",
               reason=reason[:500], refusal=refused.message, **_camera_fields(camera))
        raise
    with transaction.atomic():
        # Stopping or pausing takes the same lock: a session cannot slip in beside a stop that is committing.
        share = LiveShare.objects.select_for_update().filter(camera=camera, revoked_at__isnull=True).first()
        if share is None or (share.paused_until and share.paused_until > timezone.now()):
            raise LiveRefused("The owner stopped or paused live sharing just now.",
                              LiveSession.EndReason.OWNER_STOPPED)
        grant = outside_grant(user, camera, timezone.now()) if is_outside(user) else None
        if isinstance(grant, str):
            raise LiveRefused(grant)
        session = LiveSession.objects.create(analyst=user, camera=camera, incident=incident, reason=reason.strip(),
                                             override_reason=override_reason.strip(), override=override,
                                             ends_by=ends_by, outside_agency=grant.agency if grant else "",
                                             outside_request=grant.request_code if grant else None)
        common = {"target_type": "live_session", "target_code": session.code, "reason": session.reason,
                  "incident_code": incident.code if incident else "",
                  "case_number": incident.case_number if incident else "", **_camera_fields(camera),
                  **_report_fields(camera, incident)}
        if grant is not None:  # the owner's history says who: an outside agency, under which request
            common.update(outside_agency=grant.agency, agency_request=grant.request_code)
        record(actor=user, action=Action.LIVE_STARTED, incident=incident.case_number if incident else None,
               ends_by=ends_by.isoformat(), **common)
        if session.override_reason:
            approval = ({"approved_by": override.decided_by.get_username(), "override_request": str(override.code)}
                        if override else {"self_override": True})  # a supervisor's own: the review flags it
            record(actor=user, action=Action.LIVE_OVERRIDE, override_reason=session.override_reason, **approval,
                   **common)
        if share.notify_each_view:
            outbox.enqueue("integration.tasks.live_view_notice_send_task", {"session_id": session.pk})
    return session


def _outside_fields(session: LiveSession) -> dict:
    """An outside agency's view says so in each of its entries: the owner's history names the agency."""
    if not session.outside_agency:
        return {}
    return {"outside_agency": session.outside_agency, "agency_request": str(session.outside_request)}


def live_session_end(*, session: LiveSession, reason: str, note: str = "", notify: bool = True) -> bool:
    """Ends a session once (later calls change nothing) and records how long it lasted and why."""
    now = timezone.now()
    with transaction.atomic():
        if not LiveSession.objects.filter(pk=session.pk, ended_at__isnull=True).update(ended_at=now,
                                                                                        end_reason=reason):
            return False
        session.ended_at, session.end_reason = now, reason
        history_note(session, ended_at=(None, now), end_reason=("", reason))
        incident = session.incident
        record(actor=session.analyst, action=Action.LIVE_ENDED, target_type="live_session", target_code=session.code,
               incident_code=incident.code if incident else "", case_number=incident.case_number if incident else "",
               reason=session.reason, minutes=session.minutes, end_reason=reason, note=note,
               **_camera_fields(session.camera), **_report_fields(session.camera, incident), **_outside_fields(session))
        if notify:
            broadcast.session_closed(session.camera.code, session_code=session.code,
                                     reason=note or LiveSession.EndReason(reason).label)
            broadcast.sessions_changed(session.camera.code)
    return True


def live_sessions_end_for_case(*, incident, **_signal) -> int:
    """A closed case ends live viewing under it at once, not at the viewers' next re-check."""
    ended = 0
    for session in LiveSession.objects.filter(incident=incident, ended_at__isnull=True).select_related(
            "camera", "incident"):
        ended += live_session_end(session=session, reason=LiveSession.EndReason.CASE_CLOSED,
                                  note=f"Case {incident.case_number} is closed.")
    return ended


def live_session_expire(*, session: LiveSession) -> str:
    """Ends a session that reached its end; says whether the session limit or the allowed hours ended it."""
    share = selectors.live_share_current(session.camera)
    full = share is not None and session.ends_by >= session.started_at + timedelta(
        minutes=share.max_session_minutes, seconds=-1)
    reason = LiveSession.EndReason.TIME_LIMIT if full or share is None else LiveSession.EndReason.HOURS_ENDED
    live_session_end(session=session, reason=reason)
    return LiveSession.EndReason(reason).label + "."


def live_sessions_sweep(*, now=None) -> int:
    """Ends sessions past their end (a server that died cannot end them) and views never opened."""
    now = now or timezone.now()
    ended = 0
    for session in selectors.sessions_overdue(now=now):
        if session.ends_by <= now:
            live_session_expire(session=session)
        else:
            live_session_end(session=session, reason=LiveSession.EndReason.NEVER_OPENED)
        ended += 1
    return ended


def live_sessions_purge(*, now=None) -> int:
    """Deletes session rows older than CONNECT_LIVE_SESSION_KEEP_DAYS; the ledger keeps the facts."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.LIVE_SESSION_KEEP_DAYS)
    old = LiveSession.objects.filter(ended_at__lt=cutoff)
    count = old.count()
    if count:
        with transaction.atomic():
            old.delete()
            record(actor=None, action=Action.LIVE_SESSIONS_PURGED, target_type="live_session", count=count,
                   cutoff=cutoff.isoformat())
    return count


def live_still_take(*, session: LiveSession, frame: bytes, user):
    """Saves the frame the analyst is looking at as evidence for the session's case (encrypted, hashed)."""
    from requests_app.services import still_store

    if session.incident is None:
        raise ValidationError("A still is evidence for a case: this view has no incident.")
    clip = still_store(incident=session.incident, camera=session.camera, jpeg=frame, user=user,
                       name=f"live-still-{timezone.now():%Y%m%dT%H%M%SZ}.jpg", session_code=session.code)
    return clip
