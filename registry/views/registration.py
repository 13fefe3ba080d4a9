"""Public self-service registration and its email confirmation."""

from django.conf import settings
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext
from django.views.decorators.http import require_http_methods

from common import outbox
from common.base_map import map_config
from common.change_history import changes_by
from common.ratelimit import rate_limited
from registry import services
from registry.forms import CameraFormSet, OwnerForm
from registry.models import OwnerLink
from registry.views.common import emailed_link_landing


def _camera_rows(formset) -> list[dict]:
    return [form.cleaned_data for form in formset.forms if form.cleaned_data]


@require_http_methods(["GET", "POST"])
@rate_limited("register", email_field="email")
@changes_by("owner (registration form)")
def register(request):
    if request.method == "POST":
        owner_form = OwnerForm(request.POST)
        cameras = CameraFormSet(request.POST, prefix="cameras")
        if owner_form.is_valid() and cameras.is_valid():
            data = owner_form.cleaned_data
            with outbox.watch() as confirmation:
                services.owner_register(
                    kind=data["kind"], name=data["name"], email=data["email"], phone=data["phone"],
                    address=data["address"], cameras=_camera_rows(cameras), language=owner_language(),
                )
            # Only a masked form goes into the session table: deleting an owner must leave no email behind.
            request.session["registered_email"] = mask_email(data["email"])
            # The page says the truth: sent now, or (the broker was away) in a few minutes, by the outbox's sweep.
            request.session["confirmation_queued"] = confirmation.all_queued
            return redirect("registry:register_sent")
    else:
        # A public uploader offered to register comes with their address (public_requests).
        owner_form = OwnerForm(initial={"kind": "resident", "email": request.GET.get("email", "")[:254]})
        cameras = CameraFormSet(prefix="cameras")
    return render(request, "registry/register.html", {
        "owner_form": owner_form, "cameras": cameras, "terms_version": settings.TERMS_VERSION,
        "map_config": map_config(),
    })


def owner_language() -> str:
    """The language the form was filled in (LocaleMiddleware's choice), as one of settings.LANGUAGES."""
    codes = [code for code, _name in settings.LANGUAGES]
    active = (get_language() or settings.LANGUAGE_CODE).split("-")[0]
    return active if active in codes else codes[0]


def mask_email(email: str) -> str:
    local, _, domain = email.partition("@")
    return f"{local[:1]}…@{domain}"


def register_sent(request):
    return render(request, "registry/register_sent.html", {
        "email": request.session.get("registered_email"), "hours": settings.CONFIRM_LINK_HOURS,
        "queued": request.session.get("confirmation_queued", True),
    })


@require_http_methods(["GET", "POST"])
@rate_limited("owner-link")
def confirm(request, token):
    """Confirming proves the owner reads that mailbox, so it also opens the portal."""
    return emailed_link_landing(request, token=token, purpose=OwnerLink.Purpose.CONFIRM,
                                use=services.owner_confirm, template="registry/confirm.html",
                                done=gettext("Your registration is confirmed. Thank you for joining the program."))
