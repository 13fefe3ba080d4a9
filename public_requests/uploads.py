"""The uploader's resumable upload: the consent page's tus subset (requests_app.resumable_views) under the
uploader's own link, so the same script (static/requests_app/js/consent.js) sends the same sealed, hashed pieces.
Uploads are tagged with the answer's code: another answer's link cannot see, resume or finish them.

Beyond the per-address limit every public form has, the uploads of one email address are limited too (one person
cannot flood the evidence store from many addresses)."""

import uuid

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Sum
from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from common.evidence_store import EvidenceStoreError
from common.ratelimit import email_over_limit, rate_limited
from common.streamed_body import streams_body
from public_requests import links, services
from public_requests.views import _link_invalid, answer_page
from requests_app import resumable
from requests_app.models import Clip
from requests_app.resumable_views import (
    TUS_VERSION,
    close_all,
    finish_announced,
    staged_hold,
    staged_serve,
    staged_uploads,
    tus,
    upload_announced,
)
from requests_app.views import MAX_FILES


def _email_over_limit(answer, scope: str) -> bool:
    if not settings.RATE_LIMITS_ENABLED:
        return False
    return email_over_limit(scope, answer.email)


def _limited(request):
    from django.shortcuts import render

    return render(request, "rate_limited.html", {"minutes": settings.RATE_LIMIT_WINDOW_MINUTES}, status=429)


def _too_large(request, answer):
    return answer_page(request, answer, status=413, error=_(
        "The upload is larger than %(max)s MB. Send a shorter clip, or write to %(email)s.")
        % {"max": settings.UPLOAD_MAX_MB, "email": settings.AGENCY_EMAIL})


def _over_quota(answer, announced: int) -> bool:
    """Whether the answer's clips (stored) plus `announced` bytes would pass UPLOAD_MAX_MB: one answer cannot fill
    the evidence store however many uploads it starts."""
    stored = Clip.objects.filter(public_answer__answer=answer, purged_at__isnull=True).aggregate(
        total=Sum("size"))["total"] or 0
    return stored + announced > settings.UPLOAD_MAX_MB * 1024 * 1024


def _quota_used(request, answer):
    return answer_page(request, answer, status=413, error=_(
        "Your clips for this request may total at most %(max)s MB, and this upload would go past that. "
        "If you have more footage, write to %(email)s.") % {"max": settings.UPLOAD_MAX_MB,
                                                            "email": settings.AGENCY_EMAIL})


def _open_answer(request, token):
    """The confirmed answer behind the link, if its request still takes answers; else the page refusing."""
    try:
        answer = links.access_answer_of(token)
        services.public_request_open_check(answer.request)
    except links.AnswerLinkError as exc:
        return None, _link_invalid(request, exc.reason)
    except services.RequestClosed as exc:
        return None, answer_page(request, answer, error=exc.reason, status=410)
    return answer, None


@require_POST
@rate_limited("public-upload-file")
def uploads_create(request, token):
    answer, refused = _open_answer(request, token)
    if refused:
        return tus(refused)
    if request.headers.get("Tus-Resumable") != TUS_VERSION:
        return tus(HttpResponse(status=412), Tus_Version=TUS_VERSION)
    if _email_over_limit(answer, "public-upload-file"):
        return tus(_limited(request))
    name, length = upload_announced(request)
    if length <= 0:
        return tus(answer_page(request, answer, error=_("“%(name)s” is empty.") % {"name": name}, status=400))
    if length > settings.UPLOAD_MAX_MB * 1024 * 1024:
        return tus(_too_large(request, answer))
    pending = sum(staged.length for staged in resumable.staged_announced(request_code=answer.code))
    if _over_quota(answer, pending + length):
        return tus(_quota_used(request, answer))
    staged = resumable.staged_create(request_code=answer.code, name=name, length=length)
    location = reverse("public_requests:upload_resumable", args=[token, staged.id])
    return tus(HttpResponse(status=201), Location=location, Upload_Offset=0)


@require_POST
@rate_limited("public-upload")
def uploads_finish(request, token):
    answer, refused = _open_answer(request, token)
    if refused:
        return refused
    if _email_over_limit(answer, "public-upload"):
        return _limited(request)
    keep_days, ids = finish_announced(request)
    if keep_days is None or not settings.CLIP_KEEP_DAYS_MIN <= keep_days <= settings.CLIP_KEEP_DAYS_MAX:
        return answer_page(request, answer, error=_("Choose how long the clips may be kept."), status=400)
    if not 0 < len(ids) <= MAX_FILES:
        return answer_page(request, answer, status=400, error=_(
            "Choose between one and %(count)d video or photo files.") % {"count": MAX_FILES})
    appenders = staged_hold(request_code=answer.code, ids=ids)
    if isinstance(appenders, HttpResponse):
        return appenders
    if sum(appender.staged.length for appender in appenders) > settings.UPLOAD_MAX_MB * 1024 * 1024:
        return close_all(appenders, _too_large(request, answer))
    if _over_quota(answer, sum(appender.staged.length for appender in appenders)):
        return close_all(appenders, _quota_used(request, answer))
    try:
        uploads = staged_uploads(appenders)
        try:
            clips = services.public_answer_upload(answer=answer, uploads=uploads, keep_days=keep_days)
        except ValidationError as exc:
            return answer_page(request, answer, error=" ".join(exc.messages), status=400)
        except EvidenceStoreError:
            return answer_page(request, answer, status=503, error=_(
                "Your files arrived, but our evidence storage could not take them just now, so nothing was kept. "
                "Please try again in a little while; the link still works."))
        except services.RequestClosed as exc:
            return answer_page(request, answer, error=exc.reason, status=410)
        finally:
            for upload in uploads:
                upload.close()  # deletes the sealed file unless it became a clip
    finally:
        close_all(appenders, None)
    return answer_page(request, answer, clips_new=clips)


def _admitted(token, upload_id):
    try:
        answer = links.access_answer_of(token)
        services.public_request_open_check(answer.request)
        return resumable.staged_get(request_code=answer.code, upload_id=upload_id)
    except (links.AnswerLinkError, services.RequestClosed, resumable.UploadNotFound):
        return None


@streams_body
@require_http_methods(["HEAD", "PATCH", "DELETE"])
async def upload_resumable(request, token, upload_id: uuid.UUID):
    staged = await sync_to_async(_admitted)(token, upload_id)
    if staged is None:
        return tus(HttpResponse(status=404))
    return await staged_serve(request, staged)
