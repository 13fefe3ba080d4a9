"""The outside agencies' pages (their own requests, approved clips and cameras, packets) and the legal reviewer's.
Deny by default: an agency's pages need its member, the reviewer's need program staff with the reviewer's
permission; anything else is refused, and an agency's reach beyond its approved scope is recorded."""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from agencies import policy, selectors, services
from agencies.forms import AgencyRequestForm, ApproveForm, RefuseForm
from agencies.models import AgencyRequest, CasePacket, RequestKind
from agencies.packet_zip import packet_chunks
from common.access import staff_permission_required
from common.streamed_response import streamed
from integration.gating import LiveRefused
from requests_app.clip_types import container_of
from requests_app.custody import custody_report
from requests_app.custody_pdf import custody_pdf


def download_name(clip) -> str:
    """Named by the container PyAV found at ingest, never by the owner's file name."""
    return f"{clip.code}.{container_of(clip.media_format).extension}"


def agency_member_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("admin:login"))
        agency = selectors.agency_of(request.user)
        if agency is None:
            raise PermissionDenied("These pages are for outside agencies' accounts.")
        request.agency = agency
        return view(request, *args, **kwargs)

    return wrapper


def _out_of_scope(request, exc):
    return render(request, "agencies/refused.html", {"reason": str(exc)}, status=403)


@agency_member_required
def home(request):
    return render(request, "agencies/home.html", {
        "agency": request.agency, "requests": selectors.requests_of_agency(request.agency)})


@agency_member_required
@require_http_methods(["GET", "POST"])
def request_new(request):
    form = AgencyRequestForm(request.POST or None, request.FILES or None)
    if getattr(request, "upload_skipped", None):  # common/upload_handlers.py: too large to parse in memory
        form.add_error("warrant_file", f"The file is over {settings.UPLOAD_IN_MEMORY_MAX_MB} MB: attach a smaller "
                                       "scan (the signed pages are enough).")
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        warrant = None
        if data.get("warrant_file"):
            warrant = services.WarrantGiven(
                file=data["warrant_file"], court=data["court"], number=data["number"], judge=data["judge"],
                signed_on=data["signed_on"], scope=data["scope"], scope_kinds=data["scope_kinds"],
                scope_case_number=data["scope_case_number"], scope_starts_at=data["scope_starts_at"],
                scope_ends_at=data["scope_ends_at"], expires_at=data["expires_at"],
                notice_delayed_until=data["notice_delayed_until"])
        try:
            filed = services.agency_request_file(
                user=request.user, kind=data["kind"], legal_basis=data["legal_basis"], purpose=data["purpose"],
                case_number=data["case_number"], location=form.location(), radius_m=data["radius_m"],
                starts_at=data["starts_at"], ends_at=data["ends_at"], warrant=warrant)
        except services.AgencyRequestRefused as exc:
            form.add_error(None, f"Refused: {exc.reason} Nothing was released; the refusal is recorded.")
        else:
            messages.success(request, "Filed: the program's legal reviewer will decide.")
            return redirect("agencies:request", code=filed.code)
    return render(request, "agencies/request_new.html", {"form": form, "agency": request.agency}, status=(
        400 if request.method == "POST" else 200))


@agency_member_required
def request_detail(request, code):
    filed = selectors.request_of_agency(request.agency, code)
    if filed is None:
        try:
            services.scope_check(user=request.user, request=None, asked=f"request {code}")
        except services.OutOfScope as exc:
            return _out_of_scope(request, exc)
    reachable = not selectors.unreachable_reason(filed)
    cameras = None
    if reachable and filed.kind == RequestKind.CAMERAS_NEAR:
        cameras = services.agency_cameras_near(user=request.user, request=filed)
    live_cameras = services.live_cameras_of(filed) if reachable and filed.kind == RequestKind.LIVE_VIEW else None
    return render(request, "agencies/request_detail.html", {
        "filed": filed, "reachable": reachable, "until": selectors.reachable_until(filed),
        "live_cameras": live_cameras,
        "live_window_reason": services.live_window_reason(filed, now=timezone.now()) if live_cameras else "",
        "clips": filed.approved_clips.all() if reachable else [], "cameras": cameras,
        "packets": filed.packets.filter(revoked_at__isnull=True) if reachable else []})


@agency_member_required
def clip_download(request, code, clip):
    filed = selectors.request_of_agency(request.agency, code)
    try:
        found, stream = services.agency_clip_open(user=request.user, request=filed, clip_code=clip)
    except services.OutOfScope as exc:
        return _out_of_scope(request, exc)
    response = StreamingHttpResponse(iter(stream), content_type="application/octet-stream")
    response._resource_closers.append(stream.close)
    response["Content-Length"] = str(stream.length)
    response["Content-Disposition"] = f'attachment; filename="{download_name(found)}"'
    return response


@agency_member_required
@require_POST
def live_open(request, code, camera):
    """Opens a live view of one approved camera, then the page that shows it; refused with the reason."""
    filed = selectors.request_of_agency(request.agency, code)
    try:
        session = services.agency_live_open(user=request.user, request=filed, camera_code=camera,
                                            reason=request.POST.get("reason", "")[:500])
    except services.OutOfScope as exc:
        return _out_of_scope(request, exc)
    except LiveRefused as refused:
        return render(request, "agencies/refused.html", {"reason": refused.message}, status=403)
    return render(request, "agencies/live.html", {"filed": filed, "session": session})


@agency_member_required
def own_warrant(request, code):
    filed = selectors.request_of_agency(request.agency, code)
    if filed is None or filed.warrant_id is None:
        raise Http404("No such warrant.")
    return _warrant_response(services.warrant_read(request=filed, user=request.user), filed)


def _warrant_response(data: bytes, filed: AgencyRequest) -> HttpResponse:
    response = HttpResponse(data, content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="warrant-{filed.code}"'
    return response


@agency_member_required
@require_http_methods(["GET", "POST"])
def packet(request, code):
    """GET shows what the packet holds (mail scanners open links); POST downloads it."""
    try:
        found = services.packet_open(user=request.user, code=code)
    except services.OutOfScope as exc:
        return _out_of_scope(request, exc)
    clips = list(found.request.approved_clips.select_related("incident", "request__camera"))
    if request.method == "GET":
        return render(request, "agencies/packet.html", {"packet": found, "clips": clips})
    services.packet_downloaded(packet=found, user=request.user)
    response = StreamingHttpResponse(streamed(request, packet_chunks(_packet_entries(request.user, found, clips)),
                                              batch=4),
                                     content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="case-packet-{found.code}.zip"'
    return response


def _packet_entries(user, found: CasePacket, clips: list):
    """What the packet holds, in order: each clip (read and recorded when its turn comes), its custody report, and
    the SHA-256 list of the clips."""
    sums = []
    for clip in clips:
        name = download_name(clip)

        def clip_pieces(clip=clip):
            _clip, stream = services.agency_clip_open(user=user, request=found.request, clip_code=clip.code)
            return stream

        yield f"clips/{name}", clip_pieces
        report = custody_pdf(custody_report(clip=clip, user=user, outside=True))
        yield f"custody/{clip.code}.pdf", lambda report=report: [report]
        sums.append(f"{clip.sha256}  clips/{name}")
    yield "SHA256SUMS", lambda: [("\n".join(sums) + "\n").encode()]


# --- the legal reviewer -------------------------------------------------------------------------------------------

@staff_permission_required("agencies.view_agencyrequest")
def review_list(request):
    return render(request, "agencies/review_list.html", {"requests": selectors.requests_to_review()[:200]})


@staff_permission_required("agencies.view_agencyrequest")
def review_detail(request, code):
    filed = get_object_or_404(selectors.requests_to_review(), code=code)
    services.record_review_view(request=filed, user=request.user)
    clip_choices = []
    if filed.incident_id is not None:
        clip_choices = [(str(clip.code), f"{clip.original_name} ({clip.sha256[:12]}…)")
                        for clip in filed.incident.clips.filter(purged_at__isnull=True)]
    approve = ApproveForm(clip_choices=clip_choices, prefix="approve",
                          initial={"until": filed.warrant.expires_at if filed.warrant_id else None,
                                   "clips": [code for code, _label in clip_choices], "radius_m": filed.radius_m})
    return render(request, "agencies/review_detail.html", {
        "filed": filed, "approve": approve, "refuse": RefuseForm(prefix="refuse"),
        "warrant_required": policy.warrant_required(filed.agency),
        "packets": filed.packets.all(), "until": selectors.reachable_until(filed)})


@staff_permission_required("agencies.review_agencyrequest")
@require_POST
def review_decide(request, code):
    filed = get_object_or_404(selectors.requests_to_review(), code=code)
    try:
        if "refuse" in request.POST:
            form = RefuseForm(request.POST, prefix="refuse")
            if not form.is_valid():
                raise ValidationError("Give the reason for the refusal.")
            services.agency_request_refuse(request=filed, reviewer=request.user, reason=form.cleaned_data["reason"])
            messages.success(request, "Refused; the agency sees the reason.")
        else:
            choices = [(str(clip.code), "") for clip in filed.incident.clips.all()] if filed.incident_id else []
            form = ApproveForm(request.POST, clip_choices=choices, prefix="approve")
            if not form.is_valid():
                raise ValidationError("; ".join(f"{field}: {' '.join(errors)}"
                                                for field, errors in form.errors.items()))
            services.agency_request_approve(
                request=filed, reviewer=request.user, reason=form.cleaned_data["reason"],
                until=form.cleaned_data["until"], clip_codes=form.cleaned_data["clips"],
                radius_m=form.cleaned_data["radius_m"], notice_delayed_until=form.cleaned_data["notice_delayed_until"])
            messages.success(request, "Approved within the scope chosen.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("agencies:review_detail", code=filed.code)


@staff_permission_required("agencies.review_agencyrequest")
@require_POST
def review_revoke(request, code):
    filed = get_object_or_404(selectors.requests_to_review(), code=code)
    try:
        services.agency_request_revoke(request=filed, reviewer=request.user, reason=request.POST.get("reason", ""))
        messages.success(request, "Revoked: nothing of it is reachable any more.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("agencies:review_detail", code=filed.code)


@staff_permission_required("agencies.review_agencyrequest")
def review_warrant(request, code):
    filed = get_object_or_404(selectors.requests_to_review(), code=code)
    if filed.warrant_id is None:
        raise Http404("This request carries no warrant.")
    return _warrant_response(services.warrant_read(request=filed, user=request.user), filed)


@staff_permission_required("agencies.add_casepacket")
@require_POST
def packet_issue(request, code):
    filed = get_object_or_404(selectors.requests_to_review(), code=code)
    try:
        issued = services.packet_issue(request=filed, user=request.user)
        link = request.build_absolute_uri(reverse("agencies:packet", kwargs={"code": issued.code}))
        messages.success(request, f"Packet issued; send the prosecutor this link: {link}")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("agencies:review_detail", code=filed.code)


@staff_permission_required("agencies.change_casepacket")
@require_POST
def packet_revoke(request, code):
    found = get_object_or_404(CasePacket.objects.select_related("request__agency"), code=code)
    services.packet_revoke(packet=found, user=request.user)
    messages.success(request, "Packet revoked.")
    return redirect("agencies:review_detail", code=found.request.code)
