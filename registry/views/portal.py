"""The owner portal: owners sign in with an emailed link and manage their own cameras only."""

from django.conf import settings
from django.contrib import messages
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit import publishing
from audit.selectors import owner_history
from common import outbox
from common.base_map import map_config
from common.ratelimit import rate_limited
from registry import reconfirmation, selectors, services
from registry.forms import CameraForm, OwnerDetailsForm, SignInRequestForm, camera_initial
from registry.models import Camera, OwnerLink
from registry.owner_history import history_rows
from registry.portal_access import own_camera, owner_required
from registry.views.common import emailed_link_landing, portal_owner


@require_http_methods(["GET", "POST"])
@rate_limited("sign-in-link", email_field="email")
def home(request):
    owner = portal_owner(request)
    if owner is not None:
        cameras = list(selectors.cameras_of_owner(owner=owner))
        return render(request, "registry/portal.html", {
            "owner": owner, "cameras": cameras,
            "awaiting_reconfirmation": [camera for camera in cameras if camera.awaits_reconfirmation],
        })
    form = SignInRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with outbox.watch() as link:
            services.sign_in_link_request(email=form.cleaned_data["email"])
        # The same answer whether or not the email is registered (the same work is queued either way); "in a few
        # minutes" when the broker was away and the outbox's sweep will queue it.
        return render(request, "registry/portal_link_sent.html", {"minutes": settings.SIGNIN_LINK_MINUTES,
                                                                  "queued": link.all_queued})
    return render(request, "registry/portal_sign_in.html", {"form": form})


@require_http_methods(["GET", "POST"])
@rate_limited("owner-link")
def sign_in(request, token):
    return emailed_link_landing(request, token=token, purpose=OwnerLink.Purpose.SIGN_IN,
                                use=services.owner_sign_in, template="registry/portal_sign_in_confirm.html")


@require_http_methods(["GET", "POST"])
@rate_limited("owner-link")
def reconfirm_link(request, token):
    """The one click from the yearly mail. GET shows only a button (scanners open links) and nothing of the
    owner's cameras: the mail lists them; POST confirms them and opens the portal."""
    return emailed_link_landing(request, token=token, purpose=OwnerLink.Purpose.RECONFIRM,
                                use=reconfirmation.cameras_reconfirm_by_link, template="registry/reconfirm.html",
                                done=_("Thank you: your cameras are confirmed for another year."))


@owner_required
@require_POST
def reconfirm(request, owner):
    """The portal's answer to the yearly question, for an owner who signed in instead of clicking the mail."""
    reconfirmation.cameras_reconfirm(owner=owner)
    messages.success(request, _("Thank you: your cameras are confirmed for another year."))
    return redirect("registry:portal")


@require_POST
def sign_out(request):
    request.session.flush()
    messages.info(request, _("You are signed out."))
    return redirect("registry:portal")


@owner_required
@require_http_methods(["GET", "POST"])
def details(request, owner):
    form = OwnerDetailsForm(request.POST or None, initial={
        "name": owner.name, "phone": owner.phone, "address": owner.address, "daily_digest": owner.daily_digest,
        "language": owner.language})
    if request.method == "POST" and form.is_valid():
        services.owner_update(owner=owner, **form.cleaned_data)
        messages.success(request, _("Your details are saved."))
        return redirect("registry:portal")
    return render(request, "registry/portal_details.html", {"owner": owner, "form": form})


@owner_required
@require_http_methods(["GET", "POST"])
def camera_add(request, owner):
    form = CameraForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        camera = services.camera_add(owner=owner, data=form.cleaned_data)
        messages.success(request, _("“%(label)s” is registered.") % {"label": camera.label})
        return redirect("registry:portal")
    return render(request, "registry/portal_camera.html", {
        "owner": owner, "form": form, "camera": None, "map_config": map_config()})


@owner_required
@require_http_methods(["GET", "POST"])
def camera_edit(request, owner, code):
    camera = own_camera(owner, code)
    form = CameraForm(request.POST or None, initial=camera_initial(camera))
    if request.method == "POST" and form.is_valid():
        services.camera_update(camera=camera, data=form.cleaned_data)
        messages.success(request, _("“%(label)s” is saved.") % {"label": camera.label})
        return redirect("registry:portal")
    return render(request, "registry/portal_camera.html", {
        "owner": owner, "form": form, "camera": camera, "map_config": map_config()})


@owner_required
@require_POST
def camera_pause(request, owner, code):
    camera = own_camera(owner, code)
    paused = request.POST.get("action") != "resume"
    camera = services.camera_set_paused(camera=camera, paused=paused)
    if camera.status == Camera.Status.PAUSED:
        messages.success(request, _("“%(label)s” is paused: police will not see it or ask for its footage.")
                         % {"label": camera.label})
    elif camera.status == Camera.Status.ACTIVE:
        messages.success(request, _("“%(label)s” is active again.") % {"label": camera.label})
    return redirect("registry:portal")


@owner_required
@require_http_methods(["GET", "POST"])
def camera_delete(request, owner, code):
    camera = own_camera(owner, code)
    last = not owner.cameras.exclude(pk=camera.pk).exists()
    if request.method == "POST":
        services.camera_delete(camera=camera)
        if last:
            request.session.flush()
            return render(request, "registry/portal_deleted.html")
        messages.success(request, _("The camera is deleted."))
        return redirect("registry:portal")
    return render(request, "registry/portal_camera_delete.html", {"owner": owner, "camera": camera, "last": last})


@owner_required
@require_http_methods(["GET", "POST"])
def owner_delete(request, owner):
    if request.method == "POST":
        services.owner_delete(owner=owner)
        request.session.flush()
        return render(request, "registry/portal_deleted.html")
    return render(request, "registry/portal_delete.html", {"owner": owner, "count": owner.cameras.count()})


@owner_required
@require_GET
def history(request, owner):
    """Every request, clip access, live view and map search of the owner's cameras, from the access ledger."""
    checkpoint = publishing.latest()
    covered = checkpoint.first_seq + checkpoint.tree_size - 1 if checkpoint else 0
    return render(request, "registry/portal_history.html", {"owner": owner, "rows": history_rows(owner=owner),
                                                            "receipts_upto": covered})


@owner_required
@require_GET
def history_receipt(request, owner, seq: int):
    """A receipt for one entry of the owner's own history, to check later that it is still in the ledger
    (`python -m audit.verify_receipt`). Another owner's entry is not found, whatever its number."""
    if not owner_history(owner_code=owner.code).filter(seq=seq).exists():
        raise Http404
    receipt = publishing.receipt(seq)
    if receipt is None:  # newer than the last daily checkpoint
        return render(request, "registry/portal_receipt_pending.html", {"owner": owner}, status=409)
    response = JsonResponse(receipt, json_dumps_params={"indent": 1, "ensure_ascii": False})
    response["Content-Disposition"] = f'attachment; filename="ledger-receipt-{seq}.json"'
    return response
