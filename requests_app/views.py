"""The owner's consent page (from the emailed link) and staff access to evidence."""

import asyncio
import json
import uuid
from urllib.parse import unquote

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.core import signing
from django.core.exceptions import PermissionDenied, RequestAborted, ValidationError
from django.core.handlers.asgi import ASGIRequest
from django.http import Http404, HttpResponse, JsonResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.actions import Action
from common.access import staff_permission_required
from common.change_history import changes_by
from common.evidence_store import EvidenceStoreError
from common.ratelimit import rate_limited
from common.sealed import EvidenceIntegrityError
from common.streamed_body import body_chunks, streams_body
from requests_app import clip_types, evidence, evidence_keys, evidence_out, selectors, services
from requests_app.evidence import EvidenceUploadHandler
from requests_app.models import Clip, Incident


def _keep_days_choices() -> list[int]:
    choices = {settings.CLIP_KEEP_DAYS_MIN, settings.CLIP_KEEP_DAYS_MAX}
    choices |= {d for d in (30, 90, 180, 365, 730) if settings.CLIP_KEEP_DAYS_MIN < d < settings.CLIP_KEEP_DAYS_MAX}
    return sorted(choices)


def _page(request, footage_request, *, error: str = "", status: int = 200):
    return render(request, "requests_app/consent.html", {
        "req": footage_request, "incident": footage_request.incident, "error": error,
        "keep_days_choices": _keep_days_choices(), "max_mb": settings.UPLOAD_MAX_MB,
        "max_bytes": settings.UPLOAD_MAX_MB * 1024 * 1024,
    }, status=status)


def _invalid(request, reason: str):
    return render(request, "requests_app/consent_invalid.html", {"reason": reason}, status=410)


@require_http_methods(["GET", "POST"])
@rate_limited("consent")
@changes_by("owner (footage request link)")
def consent(request, token):
    """GET shows the request (mail scanners open links); POST answers 'no footage' or 'decline'."""
    try:
        footage_request = services.consent_request(token=token)
        if request.method == "GET":
            services.consent_opened(request=footage_request)
            return _page(request, footage_request)
        answer = request.POST.get("answer")
        if answer == "no_footage":
            services.consent_no_footage(request=footage_request)
        elif answer == "decline":
            services.consent_decline(request=footage_request, reason=request.POST.get("reason", "").strip())
        else:
            return _page(request, footage_request, error=_("Choose one of the answers below."), status=400)
    except services.ConsentLinkError as exc:
        return _invalid(request, exc.reason)
    return render(request, "requests_app/consent_done.html", {"answer": answer,
                                                              "expires_at": footage_request.expires_at})


@csrf_exempt  # the upload handler must be in place before anything reads the body; CSRF is checked inside
@require_POST
@rate_limited("consent-upload")
@changes_by("owner (footage request link)")
def consent_upload(request, token):
    try:  # before reading a byte of the body: no valid, open request, no upload
        services.consent_request(token=token)
    except services.ConsentLinkError as exc:
        return _invalid(request, exc.reason)
    if getattr(request._stream, "oversize", False):  # the ASGI spool dropped it: say so, not "CSRF failed"
        return _too_large(request, services.consent_request(token=token))
    handler = EvidenceUploadHandler(request)
    request.upload_handlers = [handler]
    try:
        return _consent_upload(request, token, handler)
    finally:
        handler.discard()  # whatever did not become a clip, on every path


@csrf_protect
def _consent_upload(request, token, handler):
    request.POST  # noqa: B018  parse (stream, hash, seal) now, whether or not the CSRF check already did
    try:
        footage_request = services.consent_request(token=token)
    except services.ConsentLinkError as exc:
        handler.discard()
        return _invalid(request, exc.reason)
    too_large = handler.too_large or getattr(request._stream, "oversize", False)  # see connect.asgi_body
    if too_large:
        handler.discard()
        return _too_large(request, footage_request)
    try:
        keep_days = int(request.POST.get("keep_days", ""))
    except ValueError:
        handler.discard()
        return _page(request, footage_request, error=_("Choose how long the clips may be kept."), status=400)
    uploads = request.FILES.getlist("clips")
    try:
        clips = services.consent_upload(request=footage_request, uploads=uploads, keep_days=keep_days)
    except ValidationError as exc:
        handler.discard()
        return _page(request, footage_request, error=" ".join(exc.messages), status=400)
    except EvidenceStoreError:
        handler.discard()
        return _store_down(request, footage_request)
    except services.ConsentLinkError as exc:
        handler.discard()
        return _invalid(request, exc.reason)
    return render(request, "requests_app/consent_done.html", {"answer": "uploaded", "clips": clips,
                                                              "expires_at": footage_request.expires_at})


def _too_large(request, footage_request):
    return _page(request, footage_request, status=413,
                 error=_("The upload is larger than %(max)s MB. Send a shorter clip, or write to %(email)s.")
                 % {"max": settings.UPLOAD_MAX_MB, "email": settings.AGENCY_EMAIL})


MAX_FILES = 20  # at once, from the page; more go in another upload


@streams_body
@require_POST
async def consent_upload_stream(request, token):
    """The consent page's upload as its script sends it: the chosen files one after another as the raw request
    body, their names and sizes (and the retention) in headers, the CSRF token in X-CSRFToken. The link and
    the headers are checked before a byte is read; each file is then sealed as it arrives, once, and the lot
    probed and stored, or refused, together. Answers with the same pages as the form."""
    admitted = await sync_to_async(_stream_admission)(request, token)
    if isinstance(admitted, HttpResponse):
        return admitted  # the body was never read
    footage_request, files, keep_days = admitted
    try:
        uploads = await evidence.uploads_receive(body_chunks(request), files=files)
    except evidence.UploadIncomplete:
        return await sync_to_async(_page)(request, footage_request, status=400,
                                          error=_("The upload did not match the files announced. Try again."))
    except RequestAborted:
        return HttpResponse(status=400)  # the client has gone: nobody reads this, and nothing was kept
    # Sealed and probed: the clips are stored even if the client goes away now, as it sent every byte.
    return await asyncio.shield(sync_to_async(upload_finish)(request, token, uploads, keep_days))


def _announced_files(request) -> list[tuple[str, int]] | None:
    """(name, size) of each file from X-Upload-Names (percent-encoded, separated by '/') and X-Upload-Sizes."""
    names = request.headers.get("X-Upload-Names", "").split("/")
    try:
        sizes = [int(size) for size in request.headers.get("X-Upload-Sizes", "").split(",")]
    except ValueError:
        return None
    if len(names) != len(sizes) or not 0 < len(sizes) <= MAX_FILES or min(sizes) < 0:
        return None
    return [(unquote(name, errors="replace").strip()[:255], size) for name, size in zip(names, sizes, strict=True)]


@rate_limited("consent-upload")
def _stream_admission(request, token):
    """(request, files, days to keep) for an upload that may start, or the page that refuses it."""
    try:
        footage_request = services.consent_request(token=token)
    except services.ConsentLinkError as exc:
        return _invalid(request, exc.reason)
    if request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):  # the form's
        return _page(request, footage_request, status=415, error=_("Send the files as the request's body."))
    try:
        keep_days = int(request.headers.get("X-Keep-Days", ""))
    except ValueError:
        keep_days = None
    if keep_days is None or not settings.CLIP_KEEP_DAYS_MIN <= keep_days <= settings.CLIP_KEEP_DAYS_MAX:
        return _page(request, footage_request, error=_("Choose how long the clips may be kept."), status=400)
    files = _announced_files(request)
    if files is None:
        return _page(request, footage_request, status=400,
                     error=_("Choose between one and %(count)d video or photo files.") % {"count": MAX_FILES})
    if empty := [name for name, size in files if size == 0]:
        return _page(request, footage_request, error=_("“%(name)s” is empty.") % {"name": empty[0]}, status=400)
    total = sum(size for _name, size in files)
    declared = request.META.get("CONTENT_LENGTH")
    if declared and declared != str(total):
        return _page(request, footage_request, status=400,
                     error=_("The upload did not match the files announced. Try again."))
    if total > settings.UPLOAD_MAX_MB * 1024 * 1024:  # and nothing past the announced sizes is ever written
        return _too_large(request, footage_request)
    return footage_request, files, keep_days


@changes_by("owner (footage request link)")
def upload_finish(request, token, uploads, keep_days):
    """Sealed uploads (streamed, or resumed to their end) probed and stored as clips, or refused: the page to show."""
    try:  # again: the link may have lapsed, or the case closed, during a long upload
        footage_request = services.consent_request(token=token)
        clips = services.consent_upload(request=footage_request, uploads=uploads, keep_days=keep_days)
    except ValidationError as exc:
        return _page(request, footage_request, error=" ".join(exc.messages), status=400)
    except EvidenceStoreError:
        return _store_down(request, footage_request)
    except services.ConsentLinkError as exc:
        return _invalid(request, exc.reason)
    finally:
        for upload in uploads:
            upload.close()  # deletes the sealed file unless it became a clip
    return render(request, "requests_app/consent_done.html", {"answer": "uploaded", "clips": clips,
                                                              "expires_at": footage_request.expires_at})


@staff_member_required
def clip_play(request, code):
    """The admin's play link: one press is one recorded view. The page's player then fetches the clip (the
    browser may fetch it more than once, in ranges) with a view token that is not recorded again."""
    clip = get_object_or_404(Clip.objects.select_related("incident"), code=code)
    if clip.purged_at is not None and selectors.can_view_incident(request.user, clip.incident):
        return render(request, "requests_app/clip_purged.html", {"clip": clip}, status=410)
    try:
        services.clip_open(clip=clip, user=request.user, action=Action.CLIP_VIEWED).close()
    except PermissionDenied:
        raise Http404("No such clip.") from None
    except (evidence_keys.ClipDestroyed, evidence_keys.EvidenceKeyUnavailable) as exc:
        return _clip_key_refused(request, clip, exc)
    except EvidenceIntegrityError as exc:
        return render(request, "requests_app/clip_integrity_failed.html", {"clip": clip, "reason": str(exc)},
                      status=409)
    except EvidenceStoreError as exc:
        return _unavailable(request, clip, exc)
    token = signing.dumps({"c": str(clip.code), "u": request.user.pk}, salt=_VIEW_SALT)
    kind = clip_types.container_of(clip.media_format)
    src = f"{reverse('requests_app:clip_download', args=[clip.code])}?inline=1&view={token}"
    start = _start_second(request.GET.get("t", ""))
    if start:  # a search result opens the clip at the second it was found (a media fragment the player honours)
        src += f"#t={start:g}"
    return render(request, "requests_app/clip_play.html", {
        "clip": clip, "is_image": kind.content_type.startswith("image/"), "src": src, "start": start})


def _start_second(value: str) -> float:
    try:
        start = float(value)
    except ValueError:
        return 0.0
    return round(start, 1) if 0 < start < 24 * 3600 else 0.0


def _clip_key_refused(request, clip, exc):
    """A clip found destroyed (its shred key gone: a restored backup) is shown as deleted, as retention shows it;
    a key service that cannot answer is a temporary refusal (already in the ledger)."""
    if isinstance(exc, evidence_keys.ClipDestroyed):
        clip.refresh_from_db()
        return render(request, "requests_app/clip_purged.html", {"clip": clip}, status=410)
    return render(request, "requests_app/clip_key_unavailable.html", {"clip": clip}, status=503)


_VIEW_SALT = "connect.requests.clip-view"
VIEW_TOKEN_SECONDS = 6 * 3600  # long enough to watch and scrub a long clip; the press itself is recorded


def _viewing(request, clip) -> bool:
    """Whether this fetch continues a recorded press of play (a valid view token of this user for this clip)."""
    try:
        payload = signing.loads(request.GET.get("view", ""), salt=_VIEW_SALT, max_age=VIEW_TOKEN_SECONDS)
    except signing.BadSignature:
        return False
    return payload.get("c") == str(clip.code) and payload.get("u") == request.user.pk


def _store_down(request, footage_request):
    """The evidence store refused or lost the upload (recorded by the service): nothing was kept, and the owner
    is told so in words that do not blame them."""
    return _page(request, footage_request, status=503, error=_(
        "Your files arrived, but our evidence storage could not take them just now, so nothing was kept. "
        "Please try again in a little while; the link still works."))


def _unavailable(request, clip, exc):
    return render(request, "requests_app/clip_unavailable.html", {"clip": clip, "reason": str(exc)}, status=503)


@staff_member_required
def clip_download(request, code):
    """The clip's plaintext, streamed record by record (an async iterator under ASGI, memory flat whatever the
    size), whole or one `Range` (206; 416 past the end), for downloads and the player's seeks alike."""
    clip = get_object_or_404(Clip.objects.select_related("incident"), code=code)
    inline = request.GET.get("inline") == "1"
    if clip.purged_at is not None and selectors.can_view_incident(request.user, clip.incident):
        return render(request, "requests_app/clip_purged.html", {"clip": clip}, status=410)
    try:
        wanted = evidence_out.byte_range(request.headers.get("Range", ""), clip.size)
    except evidence_out.RangeNotSatisfiable:
        if not selectors.can_view_incident(request.user, clip.incident):
            raise Http404("No such clip.") from None
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{clip.size}"
        return response
    if wanted is not None and not _if_range_matches(request, clip):
        wanted = None  # the client's copy is of another file: RFC 9110 says send it whole
    try:
        if inline and _viewing(request, clip):
            action, once = None, False  # the player's fetches of a view already recorded by clip_play
        else:
            action = Action.CLIP_VIEWED if inline else Action.CLIP_DOWNLOADED
            once = wanted is not None  # a ranged session: one entry per window, not one per range
        stream = services.clip_open(clip=clip, user=request.user, action=action, byte_range=wanted,
                                    once_per_window=once)
    except PermissionDenied:
        raise Http404("No such clip.") from None  # do not confirm that a case's evidence exists
    except (evidence_keys.ClipDestroyed, evidence_keys.EvidenceKeyUnavailable) as exc:
        return _clip_key_refused(request, clip, exc)
    except EvidenceIntegrityError as exc:
        return render(request, "requests_app/clip_integrity_failed.html", {"clip": clip, "reason": str(exc)},
                      status=409)
    except EvidenceStoreError as exc:
        return _unavailable(request, clip, exc)
    # Named and typed by the container PyAV found at ingest, never by the owner's file name ("evidence.html").
    kind = clip_types.container_of(clip.media_format)
    content_type = kind.content_type if not inline or kind.playable else "application/octet-stream"
    # Under ASGI the async iterator; under WSGI (tests, manage.py runserver) the plain one, which Django streams
    # as it is (it would gather an async one into a list first, and a sync one under ASGI likewise).
    body = aiter(stream) if isinstance(request, ASGIRequest) else iter(stream)
    response = StreamingHttpResponse(body, content_type=content_type, status=206 if wanted else 200)
    response._resource_closers.append(stream.close)  # also when the client leaves before the first byte
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{clip.code}.{kind.extension}"'
    response["Content-Length"] = str(stream.length)
    if wanted:
        response["Content-Range"] = f"bytes {stream.start}-{stream.stop - 1}/{clip.size}"
    response["Accept-Ranges"] = "bytes"
    response["ETag"] = _etag(clip)
    response["X-Content-SHA256"] = clip.sha256
    response["Cache-Control"] = "no-store"
    return response


def _etag(clip) -> str:
    return f'"{clip.sha256[:32]}"'  # a strong validator: the plaintext's hash never changes


def _if_range_matches(request, clip) -> bool:
    """No If-Range, or one naming this clip's ETag (dates are not strong validators here: send it whole)."""
    condition = request.headers.get("If-Range")
    return condition is None or condition.strip() == _etag(clip)


# --- the staff map: pick cameras from a radius search and send requests --------------------------------

@require_GET
@staff_permission_required("registry.view_camera", api=True)  # every map user; the list is per case
def map_incidents(request):
    """Open incidents this user may send requests for, to centre a radius search on."""
    return JsonResponse({"incidents": [
        {"code": str(i.code), "case_number": i.case_number, "offense_type": i.offense_type,
         "lat": i.location.y, "lng": i.location.x, "radius": i.radius_m}
        for i in selectors.incidents_workable_by(user=request.user)]})


@require_POST
@staff_permission_required("requests_app.view_incident", api=True)
def map_send(request, code):
    incident = Incident.objects.filter(code=code).first()
    if incident is None or not selectors.can_work_incident(request.user, incident):
        return JsonResponse({"detail": "No such open case of yours."}, status=404)
    try:
        cameras = json.loads(request.body or b"{}").get("cameras")
    except (json.JSONDecodeError, AttributeError):
        cameras = None
    if not isinstance(cameras, list) or not cameras or not all(isinstance(c, str) for c in cameras):
        return JsonResponse({"detail": "Send {\"cameras\": [camera codes]} with at least one camera."}, status=400)
    try:
        valid = [str(uuid.UUID(c)) for c in cameras]
    except ValueError:
        return JsonResponse({"detail": "Camera codes must be UUIDs."}, status=400)
    batch = services.footage_requests_send(incident=incident, camera_codes=valid, user=request.user)
    queued = batch.requests.count()
    return JsonResponse({"queued": queued, "skipped": len(valid) - queued, "case_number": incident.case_number})
