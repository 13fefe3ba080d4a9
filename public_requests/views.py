"""The public pages: `/requests/` (every published request, active and past), one request with its answer form,
the email confirmation, and the uploader's own page (upload, their clips, who accessed them)."""

import json
from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from audit.actions import Action
from audit.selectors import entries_about_clips
from common.base_map import map_config
from common.ratelimit import rate_limited
from public_requests import links, selectors, services
from public_requests.forms import AnswerForm
from public_requests.models import PublicAnswer
from requests_app.views import _keep_days_choices


def _area_geojson(public_request) -> dict:
    return json.loads(public_request.public_area.geojson)  # coarsened: whole grid cells, never the exact area


def _request_row(public_request) -> dict:
    incident = public_request.incident
    return {"code": str(public_request.code), "offense_type": incident.offense_type,
            "starts_at": public_request.starts_at, "ends_at": public_request.ends_at,
            "answers_until": public_request.answers_until, "published_at": public_request.published_at,
            "summary": public_request.summary, "withdrawn": public_request.state == public_request.State.WITHDRAWN,
            "answered": selectors.answered_shown(public_request.answered),
            "area": _area_geojson(public_request)}


@require_GET
def request_list(request):
    active, past = selectors.public_requests_listed()
    active_rows, past_rows = [_request_row(r) for r in active], [_request_row(r) for r in past]
    areas = [{"code": row["code"], "area": row["area"], "active": row in active_rows}
             for row in active_rows + past_rows]
    return render(request, "public_requests/list.html", {
        "active": active_rows, "past": past_rows, "map_config": map_config(), "areas": areas})


def _detail(request, public_request, *, form=None, closed: str = "", status: int = 200):
    public_request.answered = selectors.answers_shown_to_police(public_request).filter(
        answer_clips__isnull=False).distinct().count()
    row = _request_row(public_request)
    return render(request, "public_requests/detail.html", {
        "req": row, "form": form or AnswerForm(), "closed": closed, "map_config": map_config(),
        "email_keep_days": settings.PUBLIC_ANSWER_EMAIL_KEEP_DAYS,
        "areas": [{"code": row["code"], "area": row["area"], "active": not closed}]}, status=status)


@require_http_methods(["GET", "POST"])
@rate_limited("public-answer", email_field="email")
def request_detail(request, code):
    public_request = selectors.public_request_published(code)
    if public_request is None:
        raise Http404("No such public request.")
    try:
        services.public_request_open_check(public_request)
        closed = ""
    except services.RequestClosed as exc:
        closed = exc.reason
    if request.method == "GET" or closed:
        return _detail(request, public_request, closed=closed, status=200 if request.method == "GET" else 410)
    form = AnswerForm(request.POST)
    if not form.is_valid():
        return _detail(request, public_request, form=form, status=400)
    email = form.cleaned_data["email"]
    if not form.cleaned_data["website"]:  # a robot filled the hidden field: it is shown the same page, no mail goes
        try:
            services.public_answer_start(public_request=public_request, email=email, language=get_language(),
                                         wants_to_register=form.cleaned_data["wants_to_register"])
        except services.RequestClosed as exc:
            return _detail(request, public_request, closed=exc.reason, status=410)
    return render(request, "public_requests/answer_sent.html", {"email": email, "hours": links.CONFIRM_HOURS})


def _link_invalid(request, reason: str, status: int = 410):
    return render(request, "public_requests/link_invalid.html", {"reason": reason}, status=status)


@require_http_methods(["GET", "POST"])
@rate_limited("public-answer-confirm")
def answer_confirm(request, token):
    """GET shows a button (mail scanners open links); POST confirms, once, and opens the uploader's page."""
    try:
        answer = links.confirm_answer_of(token)
    except links.AnswerLinkError as exc:
        return _link_invalid(request, exc.reason)
    if answer.state == PublicAnswer.State.CONFIRMED:  # used once already
        return _link_invalid(request, _already_confirmed())
    if request.method == "GET":
        return render(request, "public_requests/confirm.html", {"answer": answer})
    if not services.public_answer_confirm(answer=answer):
        return _link_invalid(request, _already_confirmed())
    return redirect(links.access_path(answer))


def _already_confirmed() -> str:
    return _("This address is confirmed already. Use the link in the email we sent after you shared a clip, or "
             "answer the request again.")


def answer_page(request, answer, *, error: str = "", status: int = 200, clips_new=None):
    """The uploader's page: the upload form (the consent page's script drives it), their clips and their history."""
    clips = selectors.clips_of_answer(answer)
    closed = ""
    try:
        services.public_request_open_check(answer.request)
    except services.RequestClosed as exc:
        closed = exc.reason
    history = _history_rows(entries_about_clips(clip_codes=[clip.code for clip in clips])[:500])
    token = request.resolver_match.kwargs["token"]
    register_url = "/register/?" + urlencode({"email": answer.email})
    return render(request, "public_requests/answer.html", {
        "answer": answer, "req": answer.request, "incident": answer.request.incident, "clips": clips,
        "clips_new": clips_new or [], "history": history, "error": error, "closed": closed, "token": token,
        "keep_days_choices": _keep_days_choices(), "max_mb": settings.UPLOAD_MAX_MB,
        "max_bytes": settings.UPLOAD_MAX_MB * 1024 * 1024, "register_url": register_url}, status=status)


def _history_rows(entries) -> list[dict]:
    """The uploader's view of the ledger, in the words an owner reads (Action.owner_sees)."""
    rows = []
    for entry in entries:
        if entry.actor_id is not None:
            who = entry.detail.get("unit") or _("Staff")
        else:
            who = _("You") if entry.actor_label == "public" else settings.AGENCY_NAME
        rows.append({"at": entry.at, "who": who, "what": str(Action(entry.action).owner_sees)})
    return rows


@require_GET
def answer(request, token):
    try:
        found = links.access_answer_of(token)
    except links.AnswerLinkError as exc:
        return _link_invalid(request, exc.reason)
    return answer_page(request, found)
