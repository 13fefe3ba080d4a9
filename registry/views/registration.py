"""Public self-service registration and its email confirmation."""

import math
import re

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
from registry.selectors import in_service_area
from registry.views.common import emailed_link_landing


def _camera_rows(formset) -> list[dict]:
    return [form.cleaned_data for form in formset.forms if form.cleaned_data]


_INVITE = re.compile(r"[A-Za-z0-9-]{1,32}")


def _invite(value: str) -> str:
    """The invitation code a visitor came with (?invite=, then a hidden field): opaque here, passed on to
    owner_register; anything that cannot be a code is dropped."""
    value = (value or "").strip()
    return value if _INVITE.fullmatch(value) else ""


def _float(value) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _prefill(query) -> tuple[dict, list[float] | None]:
    """What a link (an invitation's landing page) may fill in: the first camera's place (?lat=&lng=&address=,
    used only inside the service area) and the map's view (?focus=west,south,east,north)."""
    camera = {}
    lat, lng = _float(query.get("lat")), _float(query.get("lng"))
    if lat is not None and lng is not None and in_service_area(latitude=lat, longitude=lng):
        camera = {"latitude": round(lat, 6), "longitude": round(lng, 6), "address": query.get("address", "")[:300]}
    focus = [_float(part) for part in query.get("focus", "").split(",")]
    if len(focus) != 4 or None in focus or not (-180 <= focus[0] < focus[2] <= 180
                                                 and -90 <= focus[1] < focus[3] <= 90):
        focus = None
    return camera, focus


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
                    invite=_invite(request.POST.get("invite")),
                )
            # Only a masked form goes into the session table: deleting an owner must leave no email behind.
            request.session["registered_email"] = mask_email(data["email"])
            # The page says the truth: sent now, or (the broker was away) in a few minutes, by the outbox's sweep.
            request.session["confirmation_queued"] = confirmation.all_queued
            return redirect("registry:register_sent")
        invite, focus = _invite(request.POST.get("invite")), None
    else:
        camera, focus = _prefill(request.GET)
        # A public uploader offered to register comes with their email address (public_requests).
        owner_form = OwnerForm(initial={"kind": "resident", "address": camera.get("address", ""),
                                        "email": request.GET.get("email", "")[:254]})
        cameras = CameraFormSet(prefix="cameras", initial=[camera] if camera else None)
        invite = _invite(request.GET.get("invite"))
    config = map_config()
    if focus:
        config["focus"] = [[focus[1], focus[0]], [focus[3], focus[2]]]  # Leaflet's [[south, west], [north, east]]
    return render(request, "registry/register.html", {
        "owner_form": owner_form, "cameras": cameras, "terms_version": settings.TERMS_VERSION,
        "map_config": config, "invite": invite,
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
