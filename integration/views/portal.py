"""The owner's live-sharing pages in the portal: sign the terms and set limits, see who is watching now
and stop it, pause, draw privacy masks, and manage the camera connector's token."""

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from common.client import client_ip
from integration import pilot, queue, selectors, services
from integration.forms import LiveLimitsForm, LiveSignForm, MasksForm, PauseForm, terms_text
from integration.hours import hours_summary
from integration.models import LiveShareWaiting
from integration.notices import analyst_label
from registry.portal_access import own_camera, owner_required, portal_scoped_home


def _viewing_now(camera) -> list[dict]:
    return [{"who": analyst_label(s.analyst), "case": s.incident.case_number if s.incident else _("no case"),
             "reason": s.reason, "override": s.override_reason, "since": s.started_at, "until": s.ends_by}
            for s in selectors.open_sessions(camera)]


@owner_required
@require_http_methods(["GET", "POST"])
def live(request, owner, code):
    camera = own_camera(owner, code)
    share = selectors.live_share_current(camera)
    if share is None:
        return _sign(request, owner, camera)
    form = LiveLimitsForm(request.POST or None, share=share)
    if request.method == "POST" and form.is_valid():
        services.live_share_limits_set(share=share, limits=form.limits())
        messages.success(request, _("Your limits are saved and apply now."))
        return redirect("integration:portal_live", camera.code)
    return render(request, "integration/portal_live.html", {
        "owner": owner, "camera": camera, "share": share, "form": form, "pause_form": PauseForm(),
        "paused": bool(share.paused_until and share.paused_until > timezone.now()),
        "hours": hours_summary(share.hours), "viewing": _viewing_now(camera),
        "sessions": selectors.sessions_of_owner_camera(camera), "token": selectors.connector_token_current(camera),
        "masks": len(selectors.masks_of(camera.pk)), "new_token": request.session.pop("new_connector_token", None),
    })


def _sign(request, owner, camera):
    problem, terms = selectors.live_share_ineligible(camera), terms_text()
    if not problem and pilot.program_ended():
        problem = _("The pilot program has ended: no camera can be shared live any more.")
    waiting = pilot.waiting_of(camera)
    form = LiveSignForm(request.POST or None)
    if request.method == "POST" and not problem and not waiting and terms and form.is_valid():
        try:
            result = services.live_share_sign(camera=camera, signed_name=form.cleaned_data["signed_name"],
                                              ip=client_ip(request), limits=form.limits())
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            if isinstance(result, LiveShareWaiting):
                messages.info(request, _("The program is full for now, so “%(label)s” waits in the queue. Sharing "
                                         "starts by itself when a place frees.") % {"label": camera.label})
            else:
                messages.success(request, _("“%(label)s” is now shared live within your limits. "
                                            "Next: draw privacy masks and set up the camera connector.")
                                 % {"label": camera.label})
            return redirect("integration:portal_live", camera.code)
    return render(request, "integration/portal_live_sign.html", {
        "owner": owner, "camera": camera, "problem": problem, "terms": terms, "form": form, "waiting": waiting,
        "position": pilot.queue_position(waiting) if waiting else None,
        "limit": pilot.limit_of(owner.kind), "full": pilot.places_left(owner.kind) == 0})


@owner_required
@require_POST
def live_queue_leave(request, owner, code):
    """The owner takes their signature back out of the queue."""
    camera = own_camera(owner, code)
    if services.live_share_waiting_withdraw(camera=camera):
        messages.success(request, _("“%(label)s” has left the queue for live sharing.") % {"label": camera.label})
    return redirect("registry:portal")


@owner_required
@require_GET
@never_cache
def live_status(request, owner, code):
    """Who is watching right now: polled by the live page every few seconds."""
    camera = own_camera(owner, code)
    return JsonResponse({"viewing": [{**row, "since": row["since"].isoformat(), "until": row["until"].isoformat()}
                                     for row in _viewing_now(camera)]})


@owner_required
@require_POST
def live_stop(request, owner, code):
    camera = own_camera(owner, code)
    if services.live_share_stop(camera=camera):
        queue.queue_admit()  # its place goes to the next in the queue at once
        messages.success(request, _("Live sharing of “%(label)s” is stopped. Every view was closed.")
                         % {"label": camera.label})
    return redirect("integration:portal_live", camera.code)


@owner_required
@require_POST
def live_pause(request, owner, code):
    camera = own_camera(owner, code)
    form = PauseForm(request.POST)
    resume = request.POST.get("action") == "resume"
    if not resume and not form.is_valid():
        messages.error(request, _("Choose how long to pause for."))
        return redirect("integration:portal_live", camera.code)
    until = None if resume else timezone.now() + timedelta(hours=form.cleaned_data["hours"])
    try:
        services.live_share_pause(camera=camera, until=until)
    except ValidationError as exc:  # a stale page: sharing was stopped meanwhile
        messages.error(request, " ".join(exc.messages))
        return redirect("integration:portal_live", camera.code)
    if resume:
        messages.success(request, _("Live sharing is on again, within your limits."))
    else:
        messages.success(request, _("Live sharing is paused until %(until)s. Every view was closed.")
                         % {"until": date_format(timezone.localtime(until), "SHORT_DATETIME_FORMAT")})
    return redirect("integration:portal_live", camera.code)


@owner_required
@require_POST
def connector_token(request, owner, code):
    camera = own_camera(owner, code)
    if request.POST.get("action") == "revoke":
        if services.connector_token_revoke(camera=camera, by="owner"):
            messages.success(request, _("The connector token is revoked; the connector was cut off."))
    else:
        # Shown once, on the next page only; the database keeps its hash.
        request.session["new_connector_token"] = services.connector_token_issue(camera=camera, by="owner")
    return redirect("integration:portal_live", camera.code)


@owner_required
@require_http_methods(["GET", "POST"])
def masks(request, owner, code):
    camera = own_camera(owner, code)
    form = MasksForm(request.POST or None, initial={"masks": selectors.masks_json(camera)})
    if request.method == "POST" and request.POST.get("action") == "still":
        services.still_for_masks_request(camera=camera)
        messages.info(request, _("Asked your connector for a new picture; it appears here within a few seconds "
                                 "if the connector is running."))
        return redirect(reverse("integration:portal_masks", args=[camera.code]) + "?waiting=1")
    if request.method == "POST" and form.is_valid():
        try:
            count = services.privacy_masks_set(camera=camera, masks=form.cleaned_data["masks"])
        except ValidationError as exc:
            form.add_error("masks", exc)
        else:
            messages.success(request, ngettext("%(count)d masked area saved; it applies from the next frame.",
                                               "%(count)d masked areas saved; they apply from the next frame.",
                                               count) % {"count": count})
            return redirect(portal_scoped_home(request) or reverse("integration:portal_live", args=[camera.code]))
    has_still = selectors.still_for_masks(camera.code) is not None
    return render(request, "integration/portal_masks.html",
                  {"owner": owner, "camera": camera, "form": form, "has_still": has_still,
                   "portal_scoped": portal_scoped_home(request) is not None})


@owner_required
@require_GET
@never_cache
def still(request, owner, code):
    """The owner's own unmasked picture for drawing masks; kept ten minutes in Redis (sealed), never on disk."""
    camera = own_camera(owner, code)
    frame = selectors.still_for_masks(camera.code)
    if frame is None:
        return HttpResponse(status=404)
    response = HttpResponse(frame, content_type="image/jpeg")
    response["Cache-Control"] = "no-store"
    return response
