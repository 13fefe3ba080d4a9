"""The owner portal's gate, shared by every app with pages in the portal (registry, integration)."""

from functools import wraps

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from common.change_history import acting_as
from registry import selectors
from registry.models import Camera, Owner
from registry.views.common import SESSION_KEY, portal_owner, portal_session_scoped


def owner_required(view):
    """The signed-in owner, passed to the view; anyone else goes to the portal's sign-in page."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        owner = portal_owner(request)
        if owner is None:
            if portal_session_scoped(request):  # kept: the page it opens still works
                messages.info(request, _("The link you followed opens only the page it was sent for. Sign in to "
                                         "the owner portal to see the rest."))
                return redirect("registry:portal")
            request.session.pop(SESSION_KEY, None)
            messages.info(request, _("Please sign in to the owner portal first."))
            return redirect("registry:portal")
        with acting_as(f"owner {owner.code}"):
            return view(request, owner, *args, **kwargs)

    return wrapper


def portal_scoped_home(request) -> str | None:
    """Where a scoped portal session starts (the page its link was sent for), or None for a full session."""
    paths = portal_session_scoped(request)
    return paths[0] if paths else None


def own_camera(owner: Owner, code) -> Camera:
    """The owner's camera, or 404: another owner's camera is indistinguishable from none."""
    camera = selectors.camera_of_owner(owner=owner, code=code)
    if camera is None:
        raise Http404("No such camera.")
    return camera
