"""Writes for outside agencies: members, requests and their warrants, the legal reviewer's decisions, releases of
clips and cameras within the approved scope, prosecutors' packets, and owners' notices. Every step is a ledger
entry; the transparency report reads them (agency type and legal basis ride in each)."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.gis.measure import D
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from agencies import policy, selectors, warrants
from agencies.models import (
    AgencyMember,
    AgencyRequest,
    CasePacket,
    LegalBasis,
    OutsideAgency,
    OwnerNotice,
    RequestKind,
    UploaderNotice,
    Warrant,
)
from audit.actions import Action
from audit.ledger import record
from common import outbox
from common.access import is_program_staff
from common.mail import send_templated
from integration.outside import OutsideGrant
from integration.services import live_session_open
from public_requests import selectors as public_selectors
from registry.models import Camera
from registry.selectors import cameras_visible_to_staff
from requests_app.models import Clip, Incident
from requests_app.services import clip_open_released

REVIEW = "agencies.review_agencyrequest"


class AgencyRequestRefused(Exception):
    """A request refused as it was filed (no warrant where one is required, an expired warrant, a warrant that
    does not cover the ask): kept as refused and recorded; `reason` says why in plain words."""

    def __init__(self, reason: str, request: AgencyRequest):
        super().__init__(reason)
        self.reason, self.request = reason, request


class OutOfScope(PermissionDenied):
    """Asked for something outside the approved scope, after it expired, or another agency's: recorded."""


def _ledger_args(request: AgencyRequest) -> dict:
    """What every entry about a request carries, for auditors and the transparency report."""
    return {"target_type": "agency_request", "target_code": request.code,
            "incident_code": request.incident.code if request.incident_id else "",
            "case_number": request.case_number, "agency": request.agency.name,
            "agency_type": policy.agency_type_label(request.agency), "legal_basis": request.legal_basis,
            "kind": request.kind}


# --- members ------------------------------------------------------------------------------------------------------

def agency_member_add(*, agency: OutsideAgency, user, actor) -> AgencyMember:
    """Ties a sign-in account to an agency. It signs in like staff (password, second factor, lockout) and reaches
    only its agency's requests: the central guard (common.access) refuses it everything else."""
    if user.is_superuser:
        raise ValidationError("A superuser cannot be tied to an outside agency: take the superuser flag away first.")
    with transaction.atomic():
        member = AgencyMember.objects.create(agency=agency, user=user)
        if not user.is_staff:
            type(user).objects.filter(pk=user.pk).update(is_staff=True)  # to sign in; no role comes with it
        record(actor=actor, action=Action.AGENCY_MEMBER_ADDED, target_type="user", target_code=user.pk,
               agency=agency.name, agency_type=policy.agency_type_label(agency))
    return member


def agency_member_remove(*, member: AgencyMember, actor) -> None:
    """Unties an account from its agency: it keeps no reach into the agency's requests; recorded. The account
    stays (the ledger names it) but loses the staff flag the tie gave it, so it can no longer sign in."""
    user, agency = member.user, member.agency
    with transaction.atomic():
        member.delete()
        type(user).objects.filter(pk=user.pk).update(is_staff=False)
        record(actor=actor, action=Action.AGENCY_MEMBER_REMOVED, target_type="user", target_code=user.pk,
               agency=agency.name, agency_type=policy.agency_type_label(agency))


# --- filing -------------------------------------------------------------------------------------------------------

@dataclass
class WarrantGiven:
    file: object  # the uploaded file
    court: str
    number: str
    judge: str
    signed_on: object
    scope: str
    scope_kinds: list
    scope_case_number: str
    scope_starts_at: object
    scope_ends_at: object
    expires_at: object
    notice_delayed_until: object = None


def _warrant_gap(warrant: WarrantGiven, request: AgencyRequest, now) -> str:
    """Why this warrant does not support this request ('' if it does)."""
    if warrant.expires_at <= now:
        return "The warrant or court order has expired: upload one in force."
    if request.kind not in warrant.scope_kinds:
        return (f"The warrant's scope does not cover {request.get_kind_display().lower()}: it covers "
                + (", ".join(RequestKind(kind).label.lower() for kind in warrant.scope_kinds) or "nothing listed")
                + ".")
    if (request.kind == RequestKind.CASE_FOOTAGE and warrant.scope_case_number
            and warrant.scope_case_number.strip() != request.case_number.strip()):
        return (f"The warrant names case {warrant.scope_case_number}, not case {request.case_number}: its scope "
                "does not cover what is asked.")
    if request.starts_at and request.ends_at:
        if (warrant.scope_starts_at and request.starts_at < warrant.scope_starts_at) or (
                warrant.scope_ends_at and request.ends_at > warrant.scope_ends_at):
            return "The time asked for falls outside the warrant's time window: its scope does not cover it."
    return ""


def agency_request_file(*, user, kind: str, legal_basis: str, purpose: str, case_number: str = "",
                        location=None, radius_m=None, starts_at=None, ends_at=None,
                        warrant: WarrantGiven | None = None) -> AgencyRequest:
    """Files an outside agency's request. Refused at once (AgencyRequestRefused, kept and recorded) if the
    program's policy requires a warrant for this agency and none in force covering the ask came with it."""
    agency = selectors.agency_of(user)
    if agency is None:
        raise PermissionDenied("Only an outside agency's account files these requests.")
    now = timezone.now()
    incident = None
    if kind == RequestKind.CASE_FOOTAGE:
        # No answer says whether a case exists: the reviewer sees it, the agency does not (no guessing by filing).
        incident = Incident.objects.filter(case_number=case_number.strip()).first()
    request = AgencyRequest(agency=agency, filed_by=user, kind=kind, legal_basis=legal_basis, purpose=purpose,
                            case_number=case_number.strip(), incident=incident, location=location,
                            radius_m=radius_m, starts_at=starts_at, ends_at=ends_at)
    refusal = ""
    if kind == RequestKind.LIVE_VIEW and not settings.AGENCY_LIVE_VIEWS:
        refusal = ("The program's policy does not allow outside agencies live views "
                   f"(CONNECT_AGENCY_LIVE_VIEWS is off, policy {settings.POLICY['label'] or 'default'}): ask for "
                   "footage instead.")
    elif warrant is None and policy.warrant_required(agency):
        refusal = ("The program's policy requires a warrant or court order for requests from this agency "
                   f"({policy.agency_type_label(agency)}): none was attached.")
    elif warrant is not None:
        refusal = _warrant_gap(warrant, request, now)
    with transaction.atomic():
        if refusal:
            request.state, request.decision_reason, request.reviewed_at = AgencyRequest.State.REFUSED, refusal, now
            request.save()
            record(actor=user, action=Action.AGENCY_REQUEST_FILED, **_ledger_args(request))
            record(actor=None, action=Action.AGENCY_REQUEST_REFUSED, reason=refusal, automatic=True,
                   **_ledger_args(request))
        else:
            if warrant is not None:
                sealed_fields = warrants.seal_upload(warrant.file)
                request.warrant = Warrant.objects.create(
                    court=warrant.court, number=warrant.number, judge=warrant.judge, signed_on=warrant.signed_on,
                    scope=warrant.scope, scope_kinds=list(warrant.scope_kinds),
                    scope_case_number=warrant.scope_case_number, scope_starts_at=warrant.scope_starts_at,
                    scope_ends_at=warrant.scope_ends_at, expires_at=warrant.expires_at,
                    notice_delayed_until=warrant.notice_delayed_until, uploaded_by=user, **sealed_fields)
            request.save()
            record(actor=user, action=Action.AGENCY_REQUEST_FILED, warrant=request.warrant_id is not None,
                   **_ledger_args(request))
    if refusal:
        raise AgencyRequestRefused(refusal, request)
    return request


# --- the legal reviewer -------------------------------------------------------------------------------------------

def _reviewer_check(user) -> None:
    if not (is_program_staff(user) and user.has_perm(REVIEW)):
        raise PermissionDenied("Only the program's legal reviewer decides outside agencies' requests.")


def _pending(request: AgencyRequest) -> AgencyRequest:
    locked = AgencyRequest.objects.select_for_update(of=("self",)).select_related(
        "agency", "warrant", "incident").get(pk=request.pk)
    if locked.state != AgencyRequest.State.PENDING:
        raise ValidationError(f"This request was already {locked.get_state_display().lower()}.")
    return locked


def _in_warrant_window(warrant, clip: Clip) -> bool:
    """Whether the warrant's time window (if it has one) covers when the clip was recorded; an unknown time is not
    covered."""
    if warrant is None or not (warrant.scope_starts_at or warrant.scope_ends_at):
        return True
    if clip.recorded_at is None:
        return False
    return not ((warrant.scope_starts_at and clip.recorded_at < warrant.scope_starts_at)
                or (warrant.scope_ends_at and clip.recorded_at > warrant.scope_ends_at))


def _notice_delay_check(request: AgencyRequest, delay) -> None:
    """A delay of the owners' notice needs a court order that orders one, and never outlasts what it orders."""
    if delay is None:
        return
    ordered = request.warrant.notice_delayed_until if request.warrant_id else None
    if ordered is None:
        raise ValidationError("Owner notice can be delayed only by a court order that says so: this request's "
                              "warrant or order gives no date to delay it to.")
    if delay > ordered:
        raise ValidationError(f"The court order delays owner notice until {ordered:%Y-%m-%d} at most: choose that "
                              "date or an earlier one.")
    if delay <= timezone.localdate():
        raise ValidationError("A delay of owner notice must end after today; leave it empty to tell the owners now.")


def agency_request_approve(*, request: AgencyRequest, reviewer, reason: str, until, clip_codes=None,
                           radius_m: int | None = None, notice_delayed_until=None) -> AgencyRequest:
    """Approves the request within the scope given (narrower than asked if the reviewer wants): the chosen clips of
    the case, or cameras within `radius_m`; reachable until `until`, never past the warrant's expiry. Owners of the
    released clips are told now, or when the court's delay of notice ends: a delay the reviewer confirms here
    (`notice_delayed_until`), within the date the order gives; the agency's word alone delays nothing."""
    _reviewer_check(reviewer)
    if not reason.strip():
        raise ValidationError("Give the reason for the approval: the agency and auditors read it.")
    now = timezone.now()
    given = request
    with transaction.atomic():
        request = _pending(request)
        if until <= now:
            raise ValidationError("The approved access must end in the future.")
        if request.warrant_id is None and policy.warrant_required(request.agency):
            raise ValidationError("The program's policy now requires a warrant or court order for requests from "
                                  f"this agency ({policy.agency_type_label(request.agency)}) and none came with "
                                  "this one: refuse the request instead.")
        if request.warrant_id is not None:
            if request.warrant.expires_at <= now:
                raise ValidationError("The warrant or court order has expired: refuse the request instead.")
            if until > request.warrant.expires_at:
                raise ValidationError("The approved access cannot outlast the warrant, which expires "
                                      f"{timezone.localtime(request.warrant.expires_at):%Y-%m-%d %H:%M}.")
        _notice_delay_check(request, notice_delayed_until)
        clips, cameras = [], []
        if request.kind == RequestKind.CASE_FOOTAGE:
            if request.incident_id is None:
                raise ValidationError("No case of the program has this number: refuse the request.")
            wanted = {str(code) for code in clip_codes or []}
            clips = list(Clip.objects.filter(incident=request.incident, purged_at__isnull=True)
                         .select_related("request__camera__owner", "incident"))
            clips = [clip for clip in clips if str(clip.code) in wanted]
            if not clips or len(clips) != len(wanted):
                raise ValidationError("Choose one or more clips of this case to release.")
            outside = [clip for clip in clips if not _in_warrant_window(request.warrant, clip)]
            if outside:
                raise ValidationError(
                    "The warrant's time window does not cover "
                    + ", ".join(clip.original_name for clip in outside)
                    + " (recorded outside it, or when it was recorded is not known): leave them out.")
        elif request.kind == RequestKind.CAMERAS_NEAR:
            radius_m = radius_m or request.radius_m
            if not radius_m or radius_m > (request.radius_m or 0):
                raise ValidationError("The approved radius cannot exceed the radius asked for.")
            request.approved_radius_m = radius_m
            cameras = list(cameras_visible_to_staff().filter(
                location__dwithin=(request.location, D(m=radius_m))).order_by("code"))
        elif request.kind == RequestKind.LIVE_VIEW:
            radius_m = radius_m or request.radius_m
            if not radius_m or radius_m > (request.radius_m or 0):
                raise ValidationError("The approved radius cannot exceed the radius asked for.")
            if request.ends_at and until > request.ends_at:
                raise ValidationError("Live viewing cannot be approved past the end of the window asked for "
                                      f"({timezone.localtime(request.ends_at):%Y-%m-%d %H:%M}).")
            request.approved_radius_m = radius_m
            # Only cameras connected for live viewing; the owner's sharing and hours still decide each view.
            cameras = list(cameras_visible_to_staff().filter(
                level=Camera.Level.INTEGRATED, location__dwithin=(request.location, D(m=radius_m))).order_by("code"))
            if not cameras:
                raise ValidationError("No camera connected for live viewing lies within that radius: refuse the "
                                      "request instead.")
        request.state, request.reviewed_by, request.reviewed_at = AgencyRequest.State.APPROVED, reviewer, now
        request.decision_reason, request.approved_until = reason.strip(), until
        request.notice_delayed_until = notice_delayed_until
        request.save()
        request.approved_clips.set(clips)
        request.approved_cameras.set(cameras)
        args = _ledger_args(request)
        record(actor=reviewer, action=Action.AGENCY_REQUEST_APPROVED, reason=reason.strip(), clips=len(clips),
               cameras=[str(camera.code) for camera in cameras], radius_m=request.approved_radius_m,
               until=until.isoformat(),
               notice_delayed_until=notice_delayed_until.isoformat() if notice_delayed_until else "", **args)
        _releases_record(request, clips, reviewer)
    given.refresh_from_db()  # the caller's copy says what was decided
    return request


def _releases_record(request: AgencyRequest, clips: list[Clip], reviewer) -> None:
    """One entry per released clip, and a notice per owner: due today, or when the court's delay ends."""
    due_on = timezone.localdate()
    if request.notice_delayed_until:  # confirmed by the reviewer (_notice_delay_check)
        due_on = max(due_on, request.notice_delayed_until)
    owners: dict[int, OwnerNotice] = {}
    for clip in clips:
        camera = clip.request.camera if clip.request_id else None
        record(actor=reviewer, action=Action.AGENCY_CLIP_RELEASED, **{
            **_ledger_args(request), "target_type": "clip", "target_code": clip.code,
            "camera_code": camera.code if camera else "", "owner_code": camera.owner.code if camera else "",
            "agency_request": str(request.code), "notice_due_on": due_on.isoformat()})
        if camera is None:
            continue
        notice = owners.setdefault(camera.owner_id, OwnerNotice(request=request, owner=camera.owner, due_on=due_on))
        if str(camera.code) not in notice.camera_codes:
            notice.camera_codes.append(str(camera.code))
    OwnerNotice.objects.bulk_create(owners.values())
    uploaders: dict[str, UploaderNotice] = {}
    for clip_id, answer_code in public_selectors.answer_codes_of_clips(clip.pk for clip in clips).items():
        notice = uploaders.setdefault(answer_code, UploaderNotice(request=request, answer_code=answer_code,
                                                                  due_on=due_on))
        notice.clip_codes.append(str(next(clip.code for clip in clips if clip.pk == clip_id)))
    UploaderNotice.objects.bulk_create(uploaders.values())
    if due_on <= timezone.localdate():
        for notice in owners.values():
            outbox.enqueue("agencies.tasks.owner_notice_send_task", {"notice_id": notice.pk})
        for notice in uploaders.values():
            outbox.enqueue("agencies.tasks.uploader_notice_send_task", {"notice_id": notice.pk})


def agency_request_refuse(*, request: AgencyRequest, reviewer, reason: str) -> AgencyRequest:
    _reviewer_check(reviewer)
    if not reason.strip():
        raise ValidationError("Give the reason for the refusal: the agency reads it.")
    given = request
    with transaction.atomic():
        request = _pending(request)
        request.state, request.reviewed_by, request.reviewed_at = (AgencyRequest.State.REFUSED, reviewer,
                                                                   timezone.now())
        request.decision_reason = reason.strip()
        request.save()
        record(actor=reviewer, action=Action.AGENCY_REQUEST_REFUSED, reason=reason.strip(), **_ledger_args(request))
    given.refresh_from_db()
    return request


def agency_request_revoke(*, request: AgencyRequest, reviewer, reason: str) -> None:
    """Ends an approved request's access at once, and every packet of it."""
    _reviewer_check(reviewer)
    with transaction.atomic():
        changed = AgencyRequest.objects.filter(pk=request.pk, state=AgencyRequest.State.APPROVED).update(
            state=AgencyRequest.State.REVOKED)
        if not changed:
            raise ValidationError("Only an approved request can be revoked.")
        CasePacket.objects.filter(request=request, revoked_at__isnull=True).update(revoked_at=timezone.now())
        record(actor=reviewer, action=Action.AGENCY_REQUEST_REVOKED, reason=reason, **_ledger_args(request))


def record_review_view(*, request: AgencyRequest, user) -> None:
    record(actor=user, action=Action.AGENCY_REQUEST_VIEWED, **_ledger_args(request))


def warrant_read(*, request: AgencyRequest, user) -> bytes:
    """The sealed warrant, for the legal reviewer or the agency that filed it; recorded."""
    agency = selectors.agency_of(user)
    if not ((agency is not None and agency.pk == request.agency_id)
            or (is_program_staff(user) and user.has_perm(REVIEW))):
        raise PermissionDenied("Not yours to read.")
    if request.warrant_id is None:
        raise ValidationError("This request carries no warrant.")
    record(actor=user, action=Action.AGENCY_WARRANT_VIEWED, sha256=request.warrant.sha256, **_ledger_args(request))
    return warrants.read(request.warrant)


# --- what an agency reaches ---------------------------------------------------------------------------------------

def _refuse_access(*, user, request: AgencyRequest | None, asked: str, why: str):
    extra = _ledger_args(request) if request is not None else {"target_type": "agency_request"}
    record(actor=user, action=Action.AGENCY_ACCESS_REFUSED, reason=why, asked=asked, **extra)
    raise OutOfScope(why)


def scope_check(*, user, request: AgencyRequest | None, asked: str) -> AgencyRequest:
    """The request, if this user's agency filed it and its approved scope is reachable now; else recorded and
    refused."""
    agency = selectors.agency_of(user)
    if request is None or agency is None or request.agency_id != agency.pk:
        _refuse_access(user=user, request=None, asked=asked, why="No such request of your agency.")
    why = selectors.unreachable_reason(request)
    if why:
        _refuse_access(user=user, request=request, asked=asked, why=why)
    return request


def approved_clip(*, user, request: AgencyRequest | None, clip_code) -> Clip:
    request = scope_check(user=user, request=request, asked=f"clip {clip_code}")
    clip = request.approved_clips.select_related("incident", "request__camera__owner").filter(
        code=clip_code).first()
    if clip is None:
        _refuse_access(user=user, request=request, asked=f"clip {clip_code}",
                       why="This clip is not within the approved scope of the request.")
    return clip


def agency_clip_open(*, user, request: AgencyRequest | None, clip_code):
    """(clip, its plaintext stream): an approved clip of an approved request, recorded."""
    clip = approved_clip(user=user, request=request, clip_code=clip_code)
    stream = clip_open_released(clip=clip, actor=user, action=Action.AGENCY_CLIP_DOWNLOADED,
                                agency=request.agency.name, agency_request=str(request.code))
    return clip, stream


def agency_cameras_near(*, user, request: AgencyRequest | None) -> list[dict]:
    """The cameras within the approved radius of an approved 'cameras near' request: code, kind and position to
    about 100 m; no owner's details. Each camera listed is a ledger entry."""
    request = scope_check(user=user, request=request, asked="cameras near")
    if request.kind != RequestKind.CAMERAS_NEAR or request.location is None:
        _refuse_access(user=user, request=request, asked="cameras near", why="This request is not for cameras.")
    # The list frozen at approval, less any camera no longer in the program (withdrawn, paused, pending).
    cameras = list(cameras_visible_to_staff().select_related("owner").filter(
        pk__in=request.approved_cameras.values("pk")).order_by("code"))
    args = _ledger_args(request)
    for camera in cameras:
        record(actor=user, action=Action.AGENCY_CAMERAS_LISTED, **{**args, "target_type": "camera",
               "target_code": camera.code, "camera_code": camera.code, "owner_code": camera.owner.code,
               "agency_request": str(request.code)})
    return [{"code": str(camera.code), "kind": camera.owner.kind, "lat": round(camera.location.y, 3),
             "lon": round(camera.location.x, 3)} for camera in cameras]


# --- live views -------------------------------------------------------------------------------------------------

def live_window_reason(request: AgencyRequest, *, now) -> str:
    """Why an approved live-view request's window is not open now ('' when it is)."""
    why = selectors.unreachable_reason(request, now=now)
    if why:
        return why
    if request.kind != RequestKind.LIVE_VIEW:
        return "This request is not for a live view."
    if request.starts_at and now < request.starts_at:
        return (f"The approved window for live viewing opens at "
                f"{timezone.localtime(request.starts_at):%Y-%m-%d %H:%M}.")
    return ""


def live_grant(user, camera, now) -> OutsideGrant | str:
    """integration's rule for an outside person's live view (integration/outside.py): the camera must be one
    frozen into an approved live-view request this user filed, inside its window; else the reason it is not."""
    agency = selectors.agency_of(user)
    if agency is None:
        return "Live views are for the program's crime analysts only."
    if not settings.AGENCY_LIVE_VIEWS:
        return "The program's policy does not allow outside agencies live views."
    requests = (AgencyRequest.objects.select_related("agency", "warrant")
                .filter(agency=agency, filed_by=user, kind=RequestKind.LIVE_VIEW, approved_cameras=camera))
    reasons = []
    for request in requests:
        why = live_window_reason(request, now=now)
        if not why:
            until = selectors.reachable_until(request)
            return OutsideGrant(agency=agency.name, request_code=str(request.code), until=until)
        reasons.append(why)
    return reasons[0] if reasons else "No approved live-view request of yours covers this camera."


def agency_live_open(*, user, request: AgencyRequest | None, camera_code, reason: str):
    """Opens a live session of one approved camera of an approved live-view request (integration's gating does
    the rest: training, the owner's sharing, hours and limits, the program's policy). OutOfScope, recorded, for
    another camera or outside the window; LiveRefused for a rule of integration's (recorded there)."""
    request = scope_check(user=user, request=request, asked=f"live view of camera {camera_code}")
    if request.kind != RequestKind.LIVE_VIEW:
        _refuse_access(user=user, request=request, asked=f"live view of camera {camera_code}",
                       why="This request is not for a live view.")
    if request.filed_by_id != user.pk:
        _refuse_access(user=user, request=request, asked=f"live view of camera {camera_code}",
                       why="Only the person who filed the request, whom the approval names, may watch.")
    why = live_window_reason(request, now=timezone.now())
    if why:
        _refuse_access(user=user, request=request, asked=f"live view of camera {camera_code}", why=why)
    camera = request.approved_cameras.select_related("owner").filter(code=camera_code).first()
    if camera is None:
        _refuse_access(user=user, request=request, asked=f"live view of camera {camera_code}",
                       why="This camera is not within the approved scope of the request.")
    return live_session_open(user=user, camera=camera, incident=None, reason=reason)


def live_cameras_of(request: AgencyRequest) -> list[dict]:
    """The approved cameras of a live-view request, as the agency sees them: code and kind, no owner's details."""
    return [{"code": str(camera.code), "kind": camera.owner.kind}
            for camera in request.approved_cameras.select_related("owner").order_by("code")]


# --- prosecutors' packets ---------------------------------------------------------------------------------------

def packet_issue(*, request: AgencyRequest, user, days: int = 14) -> CasePacket:
    """A case packet of an approved case-footage request, for the prosecutor's office that filed it."""
    if not (is_program_staff(user) and user.has_perm("agencies.add_casepacket")):
        raise PermissionDenied("Only the legal reviewer issues case packets.")
    if request.agency.type != OutsideAgency.Type.PROSECUTOR or request.kind != RequestKind.CASE_FOOTAGE:
        raise ValidationError("Case packets are for a prosecutor's approved request for a case's footage.")
    why = selectors.unreachable_reason(request)
    if why:
        raise ValidationError(why)
    expires_at = min(timezone.now() + timedelta(days=days), selectors.reachable_until(request))
    packet = CasePacket.objects.create(request=request, created_by=user, expires_at=expires_at)
    record(actor=user, action=Action.AGENCY_PACKET_ISSUED, packet=str(packet.code),
           expires_at=expires_at.isoformat(), **_ledger_args(request))
    return packet


def packet_revoke(*, packet: CasePacket, user) -> None:
    if not (is_program_staff(user) and user.has_perm("agencies.change_casepacket")):
        raise PermissionDenied("Only the legal reviewer revokes case packets.")
    if CasePacket.objects.filter(pk=packet.pk, revoked_at__isnull=True).update(revoked_at=timezone.now()):
        record(actor=user, action=Action.AGENCY_PACKET_REVOKED, packet=str(packet.code),
               **_ledger_args(packet.request))


def packet_open(*, user, code) -> CasePacket:
    """A packet this user's agency may download now: not revoked, not expired, its request still reachable."""
    agency = selectors.agency_of(user)
    packet = CasePacket.objects.select_related("request__agency", "request__warrant", "request__incident").filter(
        code=code).first()
    if packet is None or agency is None or packet.request.agency_id != agency.pk:
        _refuse_access(user=user, request=None, asked=f"packet {code}", why="No such packet for your agency.")
    if packet.revoked_at is not None:
        _refuse_access(user=user, request=packet.request, asked=f"packet {code}", why="This packet was revoked.")
    if packet.expires_at <= timezone.now():
        _refuse_access(user=user, request=packet.request, asked=f"packet {code}", why="This packet's link expired.")
    scope_check(user=user, request=packet.request, asked=f"packet {code}")
    return packet


def packet_downloaded(*, packet: CasePacket, user) -> None:
    CasePacket.objects.filter(pk=packet.pk).update(downloads=F("downloads") + 1)
    record(actor=user, action=Action.AGENCY_PACKET_DOWNLOADED, packet=str(packet.code),
           clips=packet.request.approved_clips.count(), **_ledger_args(packet.request))


# --- owners told --------------------------------------------------------------------------------------------------

def owner_notice_send(*, notice_id: int) -> str:
    """Emails the owner (in their language) that an outside agency received their footage, and puts it in their
    history. Claimed with a conditional update, so it is sent once; a failed send rolls the claim back."""
    notice = (OwnerNotice.objects.select_related("owner", "request__agency", "request__warrant")
              .filter(pk=notice_id).first())
    if notice is None:
        return "gone"
    if notice.due_on > timezone.localdate():
        return "not due"
    request, owner = notice.request, notice.owner
    delayed_until = request.notice_delayed_until
    with transaction.atomic():
        if not OwnerNotice.objects.filter(pk=notice.pk, sent_at__isnull=True).update(sent_at=timezone.now()):
            return "already sent"
        send_templated(to=owner.email, name="agency-footage-notice", language=owner.language, context={
            "owner_name": owner.name, "agency": request.agency.name,
            # Lazy labels: rendered in the owner's language.
            "agency_type": OutsideAgency.Type(request.agency.type).label,
            "legal_basis": LegalBasis(request.legal_basis).label,
            "clips": request.approved_clips.filter(request__camera__owner=owner).count(),
            "delayed": bool(delayed_until and delayed_until > timezone.localdate(request.reviewed_at))})
        for camera_code in notice.camera_codes or [""]:
            record(actor=None, action=Action.AGENCY_OWNER_TOLD, **{
                **_ledger_args(request), "target_type": "owner", "target_code": owner.code,
                "owner_code": owner.code, "camera_code": camera_code})
    return "sent"


def uploader_notice_send(*, notice_id: int) -> str:
    """Emails a member of the public whose clip an outside agency received, as owner_notice_send does an owner,
    with the link to their own page; their page's history shows it (an entry per clip, as owners' history has)."""
    notice = UploaderNotice.objects.select_related("request__agency", "request__warrant").filter(pk=notice_id).first()
    if notice is None:
        return "gone"
    if notice.due_on > timezone.localdate():
        return "not due"
    request = notice.request
    delayed_until = request.notice_delayed_until  # the reviewer's, as for owners
    contact = public_selectors.answer_contact(notice.answer_code)
    with transaction.atomic():
        if not UploaderNotice.objects.filter(pk=notice.pk, sent_at__isnull=True).update(sent_at=timezone.now()):
            return "already sent"
        if contact is not None:
            send_templated(to=contact.email, name="public-agency-notice", language=contact.language, context={
                "agency": request.agency.name, "agency_type": OutsideAgency.Type(request.agency.type).label,
                "legal_basis": LegalBasis(request.legal_basis).label, "clips": len(notice.clip_codes),
                "url": contact.history_url,
                "delayed": bool(delayed_until and delayed_until > timezone.localdate(request.reviewed_at))})
        for clip_code in notice.clip_codes:
            record(actor=None, action=Action.AGENCY_OWNER_TOLD, **{
                **_ledger_args(request), "target_type": "clip", "target_code": clip_code,
                "public_answer": str(notice.answer_code), "emailed": contact is not None})
    return "sent" if contact is not None else "no address kept"


def uploader_notices_due() -> list[int]:
    return list(UploaderNotice.objects.filter(sent_at__isnull=True, due_on__lte=timezone.localdate())
                .values_list("pk", flat=True)[:1000])


def owner_notices_due() -> list[int]:
    return list(OwnerNotice.objects.filter(sent_at__isnull=True, due_on__lte=timezone.localdate())
                .values_list("pk", flat=True)[:1000])
