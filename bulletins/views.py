"""Pages of bulletins: the patrol page (a small installable web app), compose, a bulletin's receipts, its still.

Every view checks who asks: the patrol page needs the receive permission, composing the send permission, a
bulletin's page and still are for its recipients, its sender, supervisors and auditors only (404 to anyone else,
so a stranger cannot tell one exists)."""

import base64
import json
import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from audit.actions import Action
from audit.ledger import record
from bulletins import case_media, clip_segments, push, selectors, services
from bulletins.forms import ComposeForm
from bulletins.models import PatrolOfficer
from common.access import is_program_staff, staff_permission_required
from common.base_map import map_config
from common.districts import district_names
from common.evidence_store import EvidenceStoreError
from common.sealed import EvidenceIntegrityError
from integration import frame_share
from requests_app.evidence_keys import ClipDestroyed, EvidenceKeyUnavailable
from requests_app.models import Incident
from requests_app.selectors import incidents_visible_to

SUPERVISE = "requests_app.change_clip"  # supervisors: they correct case evidence; auditors read, change nothing


@never_cache
@staff_permission_required(selectors.RECEIVE)
def patrol(request):
    texts = {"ack": gettext("Acknowledge"), "acked": gettext("Acknowledged"), "live": gettext("Live"),
             "lost": gettext("Connection lost; reconnecting…"), "none": gettext("No bulletins."),
             "case": gettext("Case"), "update": gettext("Update"), "map": gettext("Map"),
             "expires": gettext("Expires"), "from": gettext("From"),
             "clip": gettext("Clip segment"), "pushed": gettext("Notifications are on for this phone."),
             "push_failed": gettext("Notifications could not be turned on."),
             "refused": gettext("Signed out: sign in again."),
             "expired": gettext("Expired: its picture was destroyed.")}
    return render(request, "bulletins/patrol.html", {
        "officer": selectors.officer_of(request.user), "texts": texts,
        "push_key": settings.WEBPUSH_VAPID_PUBLIC_KEY if push.enabled() else ""})


@require_POST
@staff_permission_required(selectors.RECEIVE, api=True)
def push_subscription(request):
    """The signed-in officer subscribes this browser to Web Push, or (`"remove": true`) unsubscribes it."""
    if not push.enabled():
        raise Http404
    try:
        body = json.loads(request.body or b"{}")
        endpoint, keys = str(body.get("endpoint") or ""), body.get("keys") or {}
        if body.get("remove"):
            push.subscription_delete(user=request.user, endpoint=endpoint)
            return JsonResponse({"subscribed": False})
        push.subscription_save(user=request.user, endpoint=endpoint, p256dh=str(keys.get("p256dh") or ""),
                               auth=str(keys.get("auth") or ""))
    except (ValueError, AttributeError):
        return JsonResponse({"error": gettext("The browser's subscription could not be read.")}, status=400)
    except ValidationError as exc:
        return JsonResponse({"error": " ".join(exc.messages)}, status=400)
    return JsonResponse({"subscribed": True}, status=201)


@require_GET
def manifest(request):
    return render(request, "bulletins/manifest.webmanifest", content_type="application/manifest+json")


@require_GET
def service_worker(request):
    response = render(request, "bulletins/sw.js", content_type="text/javascript")
    response["Service-Worker-Allowed"] = "/patrol/"
    response["Cache-Control"] = "no-cache"
    return response


def _incidents(user, held):
    incidents = list(incidents_visible_to(user=user).filter(status=Incident.Status.OPEN).order_by("-created_at")[:200])
    if held is not None and held.incident_id and all(i.pk != held.incident_id for i in incidents):
        incidents += list(Incident.objects.filter(pk=held.incident_id))  # the case of the analyst's own live view
    return incidents


def _zones() -> list[str]:
    zones = set(district_names()) | set(PatrolOfficer.objects.exclude(zone="").values_list("zone", flat=True))
    return sorted(zones)


@never_cache
@staff_permission_required(selectors.SEND)
def compose(request):
    token = request.POST.get("frame") or request.GET.get("frame") or ""
    held = frame_share.frame_held(token=token, user_id=request.user.pk) if token else None
    if token and held is None:
        messages.error(request, "The held frame has lapsed (frames are held for ten minutes): send this frame "
                                "again from the live view, or send text alone.")
        token = ""
    thread = None
    thread_code = request.POST.get("thread") or request.GET.get("thread")
    if thread_code:
        thread = selectors.bulletin_supervisable(user=request.user, code=thread_code) if _is_uuid(thread_code) else None
        if thread is None:
            raise Http404
    incidents = _incidents(request.user, held)
    initial = {"frame": token, "thread": thread.code if thread else None, "incident": request.GET.get("incident")}
    if held is not None and held.incident_id:
        initial["incident"] = held.incident_id
    if thread is not None and thread.incident_id:
        initial["incident"] = thread.incident_id
    if "show_media" in request.POST:  # without JavaScript: the chosen case's stills and clips, nothing sent yet
        form = ComposeForm(initial={**initial, **request.POST.dict()}, incidents=incidents, zones=_zones())
    else:
        form = ComposeForm(request.POST or None, initial=initial, incidents=incidents, zones=_zones())
    if request.method == "POST" and form.is_bound and form.is_valid():
        data = form.cleaned_data
        incident = next((i for i in incidents if i.pk == data["incident"]), None)
        still = None
        if held is not None:
            if held.incident_id and incident is not None and incident.pk != held.incident_id:
                form.add_error("incident", "A frame from a live view goes with the case of that view.")
            still = services.Still(jpeg=held.jpeg, camera_code=held.camera_code, owner_code=held.owner_code)
        if data.get("evidence") and not form.errors:
            if held is not None:
                form.add_error("evidence", "Send either the live view's frame or a saved still, not both.")
            else:
                try:
                    still, still_incident = services.evidence_still(user=request.user, code=data["evidence"])
                except ValidationError as exc:
                    form.add_error("evidence", exc.messages[0])
                else:
                    if incident is not None and incident.pk != still_incident.pk:
                        form.add_error("incident", "A saved still goes with its own case.")
                    incident = still_incident
        if data.get("clip") and not form.errors:
            if still is not None:
                form.add_error("clip", "Send a picture or a clip segment, not both.")
            else:
                return _compose_clip(request, form, incident, thread)
        if not form.errors:
            try:
                bulletin = services.bulletin_send(sender=request.user, description=data["description"],
                                                  priority=data["priority"], incident=incident, location=form.point(),
                                                  addressees=form.addressees(), still=still, thread=thread)
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error(None, message)
            else:
                if held is not None:
                    frame_share.frame_release(token)
                messages.success(request, f"Bulletin sent to {bulletin.recipients.count()} recipient(s).")
                return redirect("bulletins:detail", code=(bulletin.thread or bulletin).code)
    return _compose_page(request, form, incidents, held=held, token=token, thread=thread)


def _compose_page(request, form, incidents, *, held=None, token="", thread=None):
    case = _case_chosen(form, incidents)
    return render(request, "bulletins/compose.html", {
        "form": form, "held": held, "held_b64": base64.b64encode(held.jpeg).decode() if held else "",
        "token": token, "thread": thread, "map_config": map_config(), **_picker(request, case, form["pick"].value()),
        "sent": selectors.bulletins_sent_by(user=request.user)[:10]})


def _case_chosen(form, incidents):
    chosen = form["incident"].value()
    return next((incident for incident in incidents if str(incident.pk) == str(chosen)), None) if chosen else None


def _picker(request, case, picked) -> dict:
    """The chosen case's stills and clips the sender may read (each listing recorded), and which one is picked."""
    return {"case": case, "picked": picked or "",
            "case_media": case_media.case_media_listed(user=request.user, incident=case) if case else []}


@never_cache
@require_GET
@staff_permission_required(selectors.SEND)
def compose_media(request):
    """The picker of one case, for the compose page's script to put in place when the case changes."""
    case = next((i for i in _incidents(request.user, None) if str(i.pk) == request.GET.get("incident", "")), None)
    return render(request, "bulletins/_case_media.html", _picker(request, case, ""))


@never_cache
@require_GET
@staff_permission_required(selectors.SEND)
def still_thumb(request, code):
    """A saved still's thumbnail for the picker, masked: read through the case's evidence access, recorded."""
    try:
        data = case_media.still_thumbnail(user=request.user, code=code)
    except PermissionDenied:
        raise Http404 from None  # a stranger's case does not say its evidence exists
    except (ClipDestroyed, EvidenceIntegrityError) as exc:
        return HttpResponse(str(exc) or gettext("This still is gone."), status=410, content_type="text/plain")
    except (EvidenceKeyUnavailable, EvidenceStoreError, ValueError) as exc:
        return HttpResponse(str(exc) or gettext("The still cannot be read just now."), status=503,
                            content_type="text/plain")
    response = HttpResponse(data, content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _compose_clip(request, form, incident, thread):
    """A clip segment's bulletin: checked now, sent once the worker made the segment; its page says how it went."""
    data = form.cleaned_data
    try:
        clip = clip_segments.evidence_clip(user=request.user, code=data["clip"])
        if incident is not None and incident.pk != clip.incident_id:
            raise ValidationError("A clip segment goes with its own case.")
        bulletin = clip_segments.bulletin_clip_compose(
            sender=request.user, description=data["description"], priority=data["priority"], location=form.point(),
            addressees=form.addressees(), clip_code=data["clip"], in_s=data.get("clip_in"),
            out_s=data.get("clip_out"), thread=thread)
    except ValidationError as exc:
        for message in exc.messages:
            form.add_error(None, message)
        return _compose_page(request, form, _incidents(request.user, None), thread=thread)
    messages.info(request, "Making the clip segment: the bulletin goes out once it is ready, and this page says so.")
    return redirect("bulletins:detail", code=(bulletin.thread or bulletin).code)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


@never_cache
def detail(request, code):
    """A bulletin's thread and who received, opened and acknowledged it: its sender, supervisors, auditors."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    bulletin = selectors.bulletin_supervisable(user=request.user, code=code) if is_program_staff(request.user) else None
    if bulletin is None:
        raise Http404
    root = bulletin.thread or bulletin
    thread = [root, *root.updates.select_related("sender").order_by("created_at")]
    if bulletin.sender_id != request.user.pk:  # a supervisor's or auditor's reading is recorded
        record(actor=request.user, action=Action.BULLETIN_VIEWED, target_type="bulletin", target_code=root.code,
               case_number=root.case_number)
    return render(request, "bulletins/detail.html", {
        "root": root, "rows": [(b, selectors.receipts_of(b)) for b in thread]})


@require_POST
def save_to_case(request, code):
    """Keeps the still as evidence of the bulletin's case: its sender or a supervisor."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    bulletin = selectors.bulletin_supervisable(user=request.user, code=code)
    if bulletin is None or not (bulletin.sender_id == request.user.pk or request.user.has_perm(SUPERVISE)):
        raise Http404
    try:
        services.bulletin_media_save(user=request.user, bulletin=bulletin)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"The still is saved to case {bulletin.case_number} and kept past the bulletin.")
    return redirect("bulletins:detail", code=(bulletin.thread or bulletin).code)


@never_cache
def media(request, code):
    """The still or clip segment: recipients, the sender, supervisors, auditors; each viewing recorded. Never any
    owner's details with it. A clip answers byte ranges (phones' players ask for them)."""
    if not request.user.is_authenticated:
        return HttpResponse("Sign in first.", status=401, content_type="text/plain")
    bulletin = selectors.bulletin_readable(user=request.user, code=code)
    if bulletin is None or bulletin.is_clip != request.resolver_match.url_name.startswith("clip"):
        raise Http404
    wanted = _byte_range(request.headers.get("Range", "")) if bulletin.is_clip else None
    try:  # one viewing is one entry: a player's first request starts at byte 0, its later ranges do not
        data = services.media_read(user=request.user, bulletin=bulletin,
                                   record_view=wanted is None or wanted[0] == 0)
    except ValidationError as exc:
        return HttpResponse(" ".join(exc.messages), status=410, content_type="text/plain")
    status, body = 200, data
    if wanted is not None:
        start, stop = wanted[0], min(wanted[1] if wanted[1] is not None else len(data), len(data))
        if start >= len(data) or stop <= start:
            response = HttpResponse(status=416)
            response["Content-Range"] = f"bytes */{len(data)}"
            return response
        status, body = 206, data[start:stop]
    response = HttpResponse(body, status=status, content_type=bulletin.media_type or "image/jpeg")
    if status == 206:
        response["Content-Range"] = f"bytes {start}-{stop - 1}/{len(data)}"
    if bulletin.is_clip:
        response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _byte_range(header: str) -> tuple[int, int | None] | None:
    """[start, stop) of a single `bytes=a-b` or `bytes=a-` range; None for none or anything else (served whole)."""
    unit, _, spec = header.partition("=")
    first, dash, last = spec.strip().partition("-")
    if unit.strip() != "bytes" or not dash or not first.isdigit() or (last and not last.isdigit()):
        return None
    return int(first), (int(last) + 1 if last else None)
