"""The owner portal: owners sign in with an emailed link and manage their own cameras only.

Owners are not Django users: the portal keeps the owner's id in the session with its own expiry,
so a portal session can never reach a staff page.
"""

from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from registry import selectors, services
from registry.forms import CameraForm, OwnerDetailsForm, SignInRequestForm, camera_initial
from registry.links import LinkError, link_check
from registry.models import Camera, Owner, OwnerLink

_SESSION_KEY = "portal_owner"


def portal_sign_in_session(request, owner: Owner) -> None:
    request.session.cycle_key()  # a fresh session id: no fixation through a shared computer
    expires = timezone.now() + timedelta(minutes=settings.OWNER_SESSION_MINUTES)
    request.session[_SESSION_KEY] = {"id": owner.pk, "until": expires.timestamp()}


def portal_owner(request) -> Owner | None:
    data = request.session.get(_SESSION_KEY)
    if not data or data.get("until", 0) < timezone.now().timestamp():
        return None
    return Owner.objects.filter(pk=data.get("id")).first()


def owner_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        owner = portal_owner(request)
        if owner is None:
            request.session.pop(_SESSION_KEY, None)
            messages.info(request, "Please sign in to the owner portal first.")
            return redirect("registry:portal")
        return view(request, owner, *args, **kwargs)

    return wrapper


def _own_camera(owner: Owner, code) -> Camera:
    camera = selectors.camera_of_owner(owner=owner, code=code)
    if camera is None:
        raise Http404("No such camera.")
    return camera


def map_config() -> dict:
    """What the registration and camera maps need: tiles (or none) and the service area to draw."""
    return {"tiles": settings.MAP_TILES, "attribution": settings.MAP_ATTRIBUTION, "area": settings.SERVICE_AREA}


@require_http_methods(["GET", "POST"])
def home(request):
    owner = portal_owner(request)
    if owner is not None:
        return render(request, "registry/portal.html", {
            "owner": owner, "cameras": selectors.cameras_of_owner(owner=owner),
        })
    form = SignInRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.sign_in_link_request(email=form.cleaned_data["email"])
        # The same answer whether or not the email is registered.
        return render(request, "registry/portal_link_sent.html", {"minutes": settings.SIGNIN_LINK_MINUTES})
    return render(request, "registry/portal_sign_in.html", {"form": form})


@require_http_methods(["GET", "POST"])
def sign_in(request, token):
    try:
        if request.method == "GET":
            link_check(token=token, purpose=OwnerLink.Purpose.SIGN_IN)
            return render(request, "registry/portal_sign_in_confirm.html")
        owner = services.owner_sign_in(token=token)
    except LinkError as exc:
        return render(request, "registry/link_invalid.html", {"reason": exc.reason, "sign_in": True}, status=410)
    portal_sign_in_session(request, owner)
    return redirect("registry:portal")


@require_POST
def sign_out(request):
    request.session.flush()
    messages.info(request, "You are signed out.")
    return redirect("registry:portal")


@owner_required
@require_http_methods(["GET", "POST"])
def details(request, owner):
    form = OwnerDetailsForm(request.POST or None, initial={
        "name": owner.name, "phone": owner.phone, "address": owner.address})
    if request.method == "POST" and form.is_valid():
        services.owner_update(owner=owner, **form.cleaned_data)
        messages.success(request, "Your details are saved.")
        return redirect("registry:portal")
    return render(request, "registry/portal_details.html", {"owner": owner, "form": form})


@owner_required
@require_http_methods(["GET", "POST"])
def camera_add(request, owner):
    form = CameraForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        camera = services.camera_add(owner=owner, data=form.cleaned_data)
        messages.success(request, f"“{camera.label}” is registered.")
        return redirect("registry:portal")
    return render(request, "registry/portal_camera.html", {
        "owner": owner, "form": form, "camera": None, "map_config": map_config()})


@owner_required
@require_http_methods(["GET", "POST"])
def camera_edit(request, owner, code):
    camera = _own_camera(owner, code)
    form = CameraForm(request.POST or None, initial=camera_initial(camera))
    if request.method == "POST" and form.is_valid():
        services.camera_update(camera=camera, data=form.cleaned_data)
        messages.success(request, f"“{camera.label}” is saved.")
        return redirect("registry:portal")
    return render(request, "registry/portal_camera.html", {
        "owner": owner, "form": form, "camera": camera, "map_config": map_config()})


@owner_required
@require_POST
def camera_pause(request, owner, code):
    camera = _own_camera(owner, code)
    paused = request.POST.get("action") != "resume"
    camera = services.camera_set_paused(camera=camera, paused=paused)
    if camera.status == Camera.Status.PAUSED:
        messages.success(request, f"“{camera.label}” is paused: police will not see it or ask for its footage.")
    elif camera.status == Camera.Status.ACTIVE:
        messages.success(request, f"“{camera.label}” is active again.")
    return redirect("registry:portal")


@owner_required
@require_http_methods(["GET", "POST"])
def camera_delete(request, owner, code):
    camera = _own_camera(owner, code)
    last = not owner.cameras.exclude(pk=camera.pk).exists()
    if request.method == "POST":
        services.camera_delete(camera=camera)
        if last:
            request.session.flush()
            return render(request, "registry/portal_deleted.html")
        messages.success(request, "The camera is deleted.")
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
