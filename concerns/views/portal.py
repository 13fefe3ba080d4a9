"""The owner's side: the neighbours' requests about their cameras, in the portal, and the emailed link to one."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from common.ratelimit import rate_limited
from concerns import selectors, services
from concerns.forms import AnswerForm
from concerns.links import ConcernLinkError
from registry.portal_access import owner_required, portal_scoped_home
from registry.views.common import portal_sign_in_session


@owner_required
@require_GET
def ask_list(request, owner):
    return render(request, "concerns/portal_list.html", {"owner": owner, "asks": selectors.asks_of_owner(owner)})


@owner_required
@require_http_methods(["GET", "POST"])
def ask_detail(request, owner, code):
    ask = selectors.ask_of_owner(owner=owner, code=code)
    if ask is None:
        raise Http404("No such request.")
    form = AnswerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.ask_answer(ask=ask, owner=owner, answer=form.cleaned_data["answer"])
        except ValidationError as exc:
            form.add_error("answer", exc)
        else:
            messages.success(request, _("Thank you: your answer is recorded. The neighbour is told only what owners "
                                        "did, never who you are or which camera."))
            return redirect("concerns:portal_detail", ask.code)
    return render(request, "concerns/portal_detail.html", {"owner": owner, "ask": ask, "form": form,
                                                           "portal_scoped": portal_scoped_home(request) is not None})


# The emailed link's session: long enough to draw a mask and answer, not a standing key to the portal.
ASK_SESSION_MINUTES = 30


@require_http_methods(["GET", "POST"])
@rate_limited("owner-link")
def ask_link(request, token):
    """The link in the owner's email: GET shows a button (scanners open links); POST opens, for
    ASK_SESSION_MINUTES, that request's page and its camera's mask pages only, not the rest of the portal."""
    try:
        if request.method == "GET":
            services.ask_link_check(token=token)
            return render(request, "concerns/ask_link.html")
        ask = services.ask_link_use(token=token)
    except ConcernLinkError as exc:
        return render(request, "registry/link_invalid.html", {"reason": exc.reason, "sign_in": True}, status=410)
    portal_sign_in_session(request, ask.camera.owner, only_paths=services.ask_link_pages(ask),
                           minutes=ASK_SESSION_MINUTES)
    return redirect("concerns:portal_detail", ask.code)
