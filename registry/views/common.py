"""What the registration and portal views share: the owner's portal session, emailed-link pages.

Owners are not Django users: the portal keeps the owner's id in the session with its own expiry,
so a portal session can never reach a staff page.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone

from common.change_history import acting_as
from registry.links import LinkError, link_check
from registry.models import Owner, OwnerLink

SESSION_KEY = "portal_owner"


def portal_sign_in_session(request, owner: Owner, *, only_paths: list[str] | None = None,
                           minutes: int | None = None) -> None:
    """Signs the owner in to the portal. With `only_paths`, the session opens those pages (and what lies under
    them) and nothing else of the portal, for `minutes`: a link mailed for one task is no key to the whole portal.
    An owner already signed in fully keeps that session."""
    if only_paths is not None and _full_session_of(request) == owner.pk:
        return
    request.session.cycle_key()  # a fresh session id: no fixation through a shared computer
    expires = timezone.now() + timedelta(minutes=minutes or settings.OWNER_SESSION_MINUTES)
    request.session[SESSION_KEY] = {"id": owner.pk, "until": expires.timestamp()}
    if only_paths is not None:
        request.session[SESSION_KEY]["paths"] = list(only_paths)


def _session_data(request) -> dict | None:
    data = request.session.get(SESSION_KEY)
    if not data or data.get("until", 0) < timezone.now().timestamp():
        return None
    return data


def _full_session_of(request) -> int | None:
    data = _session_data(request)
    return data.get("id") if data and "paths" not in data else None


def portal_session_scoped(request) -> list[str] | None:
    """The pages a scoped portal session opens, or None for no session or a full one."""
    data = _session_data(request)
    return data.get("paths") if data else None


def portal_owner(request) -> Owner | None:
    """The signed-in owner, if their session opens the page asked for."""
    data = _session_data(request)
    if data is None:
        return None
    paths = data.get("paths")
    if paths is not None and not any(request.path.startswith(path) for path in paths):
        return None
    return Owner.objects.filter(pk=data.get("id")).first()


def emailed_link_landing(request, *, token: str, purpose: str, use, template: str, done: str = ""):
    """An emailed link's page: GET only shows a button (mail scanners open links); POST uses the link
    through `use(token=...)` and signs the owner in to the portal. A bad link gets its own page."""
    try:
        if request.method == "GET":
            link_check(token=token, purpose=purpose)
            return render(request, template)
        with acting_as("owner (emailed link)"):
            owner = use(token=token)
    except LinkError as exc:
        context = {"reason": exc.reason, "sign_in": purpose == OwnerLink.Purpose.SIGN_IN}
        return render(request, "registry/link_invalid.html", context, status=410)
    portal_sign_in_session(request, owner)
    if done:
        messages.success(request, done)
    return redirect("registry:portal")
