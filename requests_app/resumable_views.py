"""The consent page's resumable upload, a subset of tus 1.0.0: creation (POST), offset (HEAD), appending (PATCH
with Upload-Offset) and termination (DELETE), under the consent link; each chosen file is one upload. Once every
file is whole, one more request (`consent_uploads_finish`) turns them into clips together, through the same code as
the streamed upload: kept, or refused, as one answer. Until then nothing of them is listed anywhere."""

import asyncio
import base64
import binascii
import uuid

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import RequestAborted
from django.http import HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from common.ratelimit import rate_limited
from common.sealed import CHUNK
from common.streamed_body import body_chunks, streams_body
from requests_app import resumable, services
from requests_app.views import MAX_FILES, _invalid, _page, _too_large, upload_finish

TUS_VERSION = "1.0.0"
# A piece whose bytes stop coming for this long is given up, its whole records kept: a client that vanished without
# closing its connection (a closed tab, a phone out of coverage) must not hold the upload's lock, or its own next
# try, from the server's offset, would be refused as busy for as long as the dead connection lasts.
STALLED_AFTER_S = 20.0


def tus(response: HttpResponse, **headers) -> HttpResponse:
    response["Tus-Resumable"] = TUS_VERSION
    response["Cache-Control"] = "no-store"
    for name, value in headers.items():
        response[name.replace("_", "-")] = str(value)
    return response


def upload_metadata(header: str) -> dict[str, str]:
    """tus Upload-Metadata: comma-separated `key base64(value)` pairs."""
    values = {}
    for pair in filter(None, (part.strip() for part in header.split(","))):
        key, _sep, encoded = pair.partition(" ")
        try:
            values[key] = base64.b64decode(encoded, validate=True).decode("utf-8", errors="replace")
        except (binascii.Error, ValueError):
            values[key] = ""
    return values


def upload_announced(request) -> tuple[str, int]:
    """(file name, length) a tus creation request announces; the length is -1 if it is missing or not a number."""
    name = upload_metadata(request.headers.get("Upload-Metadata", "")).get("filename", "").strip()[:255] or "upload"
    try:
        return name, int(request.headers.get("Upload-Length", ""))
    except ValueError:
        return name, -1


def finish_announced(request) -> tuple[int | None, list[uuid.UUID]]:
    """(days to keep, upload ids) a finishing request names in X-Keep-Days and X-Uploads; (None, []) if malformed."""
    try:
        keep_days = int(request.headers.get("X-Keep-Days", ""))
        ids = list(dict.fromkeys(uuid.UUID(part) for part in request.headers.get("X-Uploads", "").split(",")))
    except ValueError:
        return None, []
    return keep_days, ids


@require_POST
@rate_limited("consent-upload-file")  # a count of its own: one upload of twenty files makes twenty
def consent_uploads(request, token):
    """Creates a resumable upload of one file: Upload-Length, and Upload-Metadata with its `filename`. Answers 201
    with its address in Location."""
    try:
        footage_request = services.consent_request(token=token)
    except services.ConsentLinkError as exc:
        return _invalid(request, exc.reason)
    if request.headers.get("Tus-Resumable") != TUS_VERSION:
        return tus(HttpResponse(status=412), Tus_Version=TUS_VERSION)
    name, length = upload_announced(request)
    if length <= 0:
        return tus(_page(request, footage_request, error=_("“%(name)s” is empty.") % {"name": name}, status=400))
    if length > settings.UPLOAD_MAX_MB * 1024 * 1024:
        return tus(_too_large(request, footage_request))
    staged = resumable.staged_create(request_code=footage_request.code, name=name, length=length)
    location = reverse("requests_app:consent_upload_resumable", args=[token, staged.id])
    return tus(HttpResponse(status=201), Location=location, Upload_Offset=0)


@require_POST
@rate_limited("consent-upload")
def consent_uploads_finish(request, token):
    """The uploads named in X-Uploads (their ids, comma-separated), each whole, stored as clips kept for
    X-Keep-Days after the case closes, or refused together: answers with the page the form would show. An upload
    of another link, or none, is 404; one not yet whole, 409."""
    try:
        footage_request = services.consent_request(token=token)
    except services.ConsentLinkError as exc:
        return _invalid(request, exc.reason)
    keep_days, ids = finish_announced(request)
    if keep_days is None or not settings.CLIP_KEEP_DAYS_MIN <= keep_days <= settings.CLIP_KEEP_DAYS_MAX:
        # before the uploads are touched: refused clips are deleted, a slip of the form is not worth that
        return _page(request, footage_request, error=_("Choose how long the clips may be kept."), status=400)
    if len(ids) > MAX_FILES:
        return _page(request, footage_request, status=400,
                     error=_("Choose between one and %(count)d video or photo files.") % {"count": MAX_FILES})
    appenders = staged_hold(request_code=footage_request.code, ids=ids)
    if isinstance(appenders, HttpResponse):
        return appenders
    if sum(appender.staged.length for appender in appenders) > settings.UPLOAD_MAX_MB * 1024 * 1024:
        return close_all(appenders, _too_large(request, footage_request))  # in all, as the form's limit
    try:
        uploads = staged_uploads(appenders)
        return upload_finish(request, token, uploads, keep_days)
    finally:
        close_all(appenders, None)


def staged_hold(*, request_code: uuid.UUID, ids: list[uuid.UUID]):
    """The uploads `ids` of `request_code`, each held (so a second finishing request or a late piece cannot touch
    them meanwhile) and whole; or the answer refusing them: 404 for another's or none, 423 busy, 409 not whole."""
    appenders = []
    try:
        for upload_id in ids:
            staged = resumable.staged_get(request_code=request_code, upload_id=upload_id)
            appenders.append(resumable.Appender(staged))
    except resumable.UploadNotFound:
        return close_all(appenders, HttpResponse(status=404))
    except resumable.UploadBusy:
        return close_all(appenders, HttpResponse(status=423))
    if any(appender.offset < appender.staged.length for appender in appenders):
        return close_all(appenders, HttpResponse(status=409))
    return appenders


def staged_uploads(appenders) -> list:
    """The held, whole uploads as sealed uploads (the caller closes the appenders, and the uploads once used)."""
    uploads = []
    try:
        for appender in appenders:
            uploads.append(resumable.staged_sealed_upload(appender.staged))
    except BaseException:
        for upload in uploads:
            upload.close()
        raise
    return uploads


def close_all(appenders, response):
    for appender in appenders:
        appender.close()
    return response


def _admitted(token, upload_id):
    """The upload, or the answer that refuses it: the link must still be open and the upload its request's."""
    try:
        footage_request = services.consent_request(token=token)
        return resumable.staged_get(request_code=footage_request.code, upload_id=upload_id)
    except services.ConsentLinkError as exc:
        return exc
    except resumable.UploadNotFound:
        return None


@streams_body
@require_http_methods(["HEAD", "PATCH", "DELETE"])
async def consent_upload_resumable(request, token, upload_id: uuid.UUID):
    """HEAD: how much arrived (Upload-Offset). PATCH: the next bytes, from exactly that offset (else 409), as
    application/offset+octet-stream. DELETE: the upload is dropped. A whole upload waits for `consent_uploads_finish`
    (or the sweep)."""
    staged = await sync_to_async(_admitted)(token, upload_id)
    if isinstance(staged, services.ConsentLinkError):
        return tus(await sync_to_async(_invalid)(request, staged.reason))
    if staged is None:
        return tus(HttpResponse(status=404))
    return await staged_serve(request, staged)


async def staged_serve(request, staged: resumable.Staged) -> HttpResponse:
    """HEAD, PATCH or DELETE on an upload its endpoint has admitted (every resumable endpoint shares this)."""
    if request.method == "HEAD":
        return tus(HttpResponse(status=200), Upload_Offset=staged.offset, Upload_Length=staged.length)
    if request.method == "DELETE":
        await sync_to_async(resumable.staged_delete)(staged)
        return tus(HttpResponse(status=204))
    if request.content_type != "application/offset+octet-stream":
        return tus(HttpResponse(status=415))
    try:
        offset = int(request.headers.get("Upload-Offset", ""))
    except ValueError:
        return tus(HttpResponse(status=400))
    try:
        appender = await sync_to_async(resumable.Appender)(staged)
    except resumable.UploadBusy:
        return tus(HttpResponse(status=423))
    except resumable.UploadNotFound:
        return tus(HttpResponse(status=404))
    try:
        if offset != appender.offset:
            return tus(HttpResponse(status=409), Upload_Offset=appender.offset)
        overflow = await _append(appender, _until_stalled(body_chunks(request)))
    except RequestAborted:
        return HttpResponse(status=400)  # the client has gone; the whole records it sent are kept
    finally:
        # Shielded, on a thread of its own: a client that goes away cancels this task, and a cancelled await here
        # left the file open, and so its lock held, until garbage collection happened to close it (the same
        # client's next try was refused as busy meanwhile, for a minute or more on a loaded machine).
        await asyncio.shield(sync_to_async(appender.close, thread_sensitive=False)())
    if overflow:
        return tus(HttpResponse(status=400), Upload_Offset=appender.offset)
    return tus(HttpResponse(status=204), Upload_Offset=appender.offset)


async def _until_stalled(chunks):
    """The body's pieces; RequestAborted once none has come for STALLED_AFTER_S."""
    pieces = aiter(chunks)
    while True:
        try:
            chunk = await asyncio.wait_for(anext(pieces), STALLED_AFTER_S)
        except StopAsyncIteration:
            return
        except TimeoutError:
            raise RequestAborted() from None
        yield chunk


async def _append(appender: resumable.Appender, chunks) -> bool:
    """Seals the body into whole records as it arrives; a last piece short of a record (not the file's end) is
    dropped, and sent again from the offset. True if the body went on past the announced length."""
    pending = bytearray()
    seal = sync_to_async(appender.append_record, thread_sensitive=False)
    async for chunk in chunks:
        pending += chunk
        while pending:
            remaining = appender.staged.length - appender.offset
            if remaining <= 0:
                return True
            size = min(CHUNK, remaining)
            if len(pending) < size:
                break
            await seal(bytes(pending[:size]))
            del pending[:size]
    return False
