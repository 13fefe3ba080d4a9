"""The neighbour's pages: the form, "check your email", and the emailed confirmation. Nothing here ever names an
owner, a camera or a place other than the address the neighbour typed."""

from django.conf import settings
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.views.decorators.http import require_http_methods

from common import outbox
from common.ratelimit import rate_limited
from concerns import services
from concerns.forms import ConcernForm
from concerns.links import ConcernLinkError


def _language() -> str:
    codes = [code for code, _name in settings.LANGUAGES]
    active = (get_language() or settings.LANGUAGE_CODE).split("-")[0]
    return active if active in codes else codes[0]


@require_http_methods(["GET", "POST"])
@rate_limited("concern", email_field="email")
def concern_form(request):
    form = ConcernForm(request.POST or None)
    if request.method == "POST" and form.is_robot:
        return redirect("concerns:sent")  # a robot is told what a person is told, and nothing is kept
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with outbox.watch() as mail:
            services.concern_submit(email=data["email"], address=data["address"], latitude=data["latitude"],
                                    longitude=data["longitude"], text=data["text"], language=_language())
        request.session["concern_queued"] = mail.all_queued
        return redirect("concerns:sent")
    return render(request, "concerns/form.html", {"form": form})


def concern_sent(request):
    return render(request, "concerns/sent.html", {"hours": settings.CONFIRM_LINK_HOURS,
                                                  "queued": request.session.get("concern_queued", True)})


@require_http_methods(["GET", "POST"])
@rate_limited("concern-link")
def concern_confirm(request, token):
    """GET only shows a button (mail scanners open links); POST confirms."""
    try:
        if request.method == "GET":
            services.concern_confirm_check(token=token)
            return render(request, "concerns/confirm.html")
        services.concern_confirm(token=token)
    except ConcernLinkError as exc:
        return render(request, "concerns/link_invalid.html", {"reason": exc.reason}, status=410)
    return render(request, "concerns/confirmed.html")
