"""The consent page's streamed upload: the files one after another as the raw request body, each sealed once as
it arrives.

The ASGI tests drive connect's own handler (or uvicorn) with the body in pieces, as a server hands it over; the
test-client ones go through Django's buffered body, the path the same view takes under any other handler."""

import asyncio
import hashlib
import http.client
import re
from urllib.parse import quote, urlsplit

import pytest

from audit.models import AccessEntry
from requests_app import services
from requests_app.models import Clip
from tests.conftest import wait_for
from tests.own_loop import run_async
from tests.requests_app.media import tiny_jpeg, tiny_mp4

CSRF = "a" * 32  # an unmasked CSRF secret: Django accepts the same value as cookie and header


@pytest.fixture
def url(footage_request):
    return services.consent_link(footage_request).replace("http://testserver", "") + "upload/stream/"


def evidence_files(evidence_dir):
    return sorted(p.name for p in evidence_dir.glob("*")) if evidence_dir.exists() else []


def announced(*files: tuple[str, bytes]) -> dict[str, str]:
    return {"X-Upload-Names": "/".join(quote(name, safe="") for name, _ in files),
            "X-Upload-Sizes": ",".join(str(len(content)) for _, content in files)}


def client_upload(client, url, *files: tuple[str, bytes], keep_days="30"):
    return client.post(url, data=b"".join(content for _, content in files), content_type="application/octet-stream",
                       headers={**announced(*files), "X-Keep-Days": keep_days})


# --- through Django's buffered body (test client) -------------------------------------------------------

@pytest.mark.django_db
def test_a_streamed_clip_is_stored_encrypted_with_its_hash_and_name(client, url, footage_request, evidence_dir):
    video = tiny_mp4()
    response = client_upload(client, url, ("porche délantera.mp4", video), keep_days="90")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Thank you" in page and hashlib.sha256(video).hexdigest() in page
    clip = Clip.objects.get()
    assert clip.original_name == "porche délantera.mp4" and clip.keep_days_after_close == 90
    assert clip.sha256 == hashlib.sha256(video).hexdigest() and clip.size == len(video)
    assert evidence_files(evidence_dir) == [clip.stored_name]
    assert video[:64] not in (evidence_dir / clip.stored_name).read_bytes()
    footage_request.refresh_from_db()
    assert footage_request.state == "uploaded"
    assert AccessEntry.objects.filter(action="clip.uploaded", target_code=str(clip.code)).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("content", "message"), [
    (b"this is not a video at all " * 100, "is not a video or image"),
    (b"", "is empty"),
])
def test_a_fake_or_empty_file_is_refused_and_nothing_is_kept(client, url, footage_request, evidence_dir, content,
                                                               message):
    response = client_upload(client, url, ("good.mp4", tiny_mp4()), ("fake.mp4", content))

    assert response.status_code == 400 and message in response.content.decode()
    assert Clip.objects.count() == 0 and evidence_files(evidence_dir) == []
    footage_request.refresh_from_db()
    assert footage_request.state == "sent"  # the owner can try again


@pytest.mark.django_db
def test_a_declared_oversized_upload_is_refused_before_anything_is_stored(client, url, evidence_dir, settings):
    settings.UPLOAD_MAX_MB = 1
    response = client_upload(client, url, ("a.mp4", b"\0" * (512 * 1024)), ("b.mp4", b"\0" * (512 * 1024 + 10)))

    assert response.status_code == 413 and "larger than 1 MB" in response.content.decode()
    assert Clip.objects.count() == 0 and evidence_files(evidence_dir) == []


@pytest.mark.django_db
@pytest.mark.parametrize("keep_days", ["", "9999", "soon"])
def test_a_missing_or_unallowed_retention_is_refused(client, url, evidence_dir, keep_days):
    response = client_upload(client, url, ("a.mp4", tiny_mp4()), keep_days=keep_days)
    assert response.status_code == 400 and "Choose how long" in response.content.decode()
    assert evidence_files(evidence_dir) == []


@pytest.mark.django_db
def test_several_files_are_one_answer_each_with_its_own_fingerprint(client, url, footage_request, evidence_dir):
    door, yard = tiny_mp4(), tiny_jpeg()
    response = client_upload(client, url, ("door.mp4", door), ("yard/back.jpg", yard))

    assert response.status_code == 200
    page = response.content.decode()
    assert "We received 2 files" in page
    assert hashlib.sha256(door).hexdigest() in page and hashlib.sha256(yard).hexdigest() in page
    assert sorted(Clip.objects.values_list("original_name", "size")) == [("door.mp4", len(door)),
                                                                          ("yard/back.jpg", len(yard))]
    assert len(evidence_files(evidence_dir)) == 2
    uploads = AccessEntry.objects.filter(action="clip.uploaded")
    assert [e.detail["addition"] for e in uploads] == [False, False]  # one answer with two clips


@pytest.mark.django_db
@pytest.mark.parametrize("headers", [
    {"X-Upload-Names": "a.mp4", "X-Upload-Sizes": "10,20"},  # two sizes, one name
    {"X-Upload-Names": "a.mp4", "X-Upload-Sizes": "ten"},
    {"X-Upload-Names": "a.mp4", "X-Upload-Sizes": "5"},  # the body is longer than announced
])
def test_a_body_that_does_not_match_its_announced_files_is_refused_unread(client, url, evidence_dir, headers):
    response = client.post(url, data=tiny_mp4(), content_type="application/octet-stream",
                           headers={**headers, "X-Keep-Days": "30"})
    assert response.status_code == 400 and evidence_files(evidence_dir) == []


@pytest.mark.django_db
def test_a_form_body_sent_to_the_streamed_endpoint_is_refused(client, url, evidence_dir):
    response = client.post(url, {"keep_days": "30"}, headers={"X-Keep-Days": "30"})
    assert response.status_code == 415 and evidence_files(evidence_dir) == []


@pytest.mark.django_db
def test_a_streamed_upload_without_csrf_token_is_refused(url, evidence_dir):
    from django.test import Client

    response = client_upload(Client(enforce_csrf_checks=True), url, ("a.mp4", tiny_mp4()))
    assert response.status_code == 403
    assert Clip.objects.count() == 0 and evidence_files(evidence_dir) == []


# --- through connect's ASGI handler: the body in pieces, as a server hands it over -----------------------

def asgi_post(path: str, messages: list[dict], headers: dict[str, str]) -> dict:
    """POSTs to connect's ASGI handler; `messages` are what the server would receive. Returns the status, the
    page and how many of the messages the application took."""
    from connect.asgi_body import SealedBodyASGIHandler

    pending = list(messages)
    response = {"status": None, "body": b"", "taken": 0}

    async def run():
        never = asyncio.Event()

        async def receive():
            if not pending:
                await never.wait()  # a client that keeps the connection open
            response["taken"] += 1
            return pending.pop(0)

        async def send(message):
            if message["type"] == "http.response.start":
                response["status"] = message["status"]
            else:
                response["body"] += message.get("body", b"")

        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
                 "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
                 "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
                 "headers": [(b"host", b"testserver"), (b"cookie", f"csrftoken={CSRF}".encode()),
                             (b"x-csrftoken", CSRF.encode()),
                             *[(k.lower().encode(), v.encode()) for k, v in headers.items()]]}
        await SealedBodyASGIHandler()(scope, receive, send)

    run_async(run())
    return response


def body_messages(content: bytes, piece: int = 65536) -> list[dict]:
    pieces = [content[i:i + piece] for i in range(0, len(content), piece)] or [b""]
    return [{"type": "http.request", "body": p, "more_body": i < len(pieces) - 1} for i, p in enumerate(pieces)]


def stream_headers(*files: tuple[str, bytes]) -> dict[str, str]:
    return {"content-type": "application/octet-stream", "x-keep-days": "30",
            **{k.lower(): v for k, v in announced(*files).items()}}


@pytest.mark.django_db(transaction=True)
def test_a_clip_in_small_pieces_is_stored_whole(url, footage_request, evidence_dir):
    video = tiny_mp4(frames=240, size=(320, 240))
    response = asgi_post(url, body_messages(video, piece=997),
                         stream_headers(("door.mp4", video)) | {"content-length": str(len(video))})

    assert response["status"] == 200, response["body"][:500]
    clip = Clip.objects.get()
    assert clip.sha256 == hashlib.sha256(video).hexdigest() and clip.original_name == "door.mp4"
    assert evidence_files(evidence_dir) == [clip.stored_name]


@pytest.mark.django_db(transaction=True)
def test_an_invalid_link_is_refused_before_a_byte_of_the_body_is_read(url, footage_request, evidence_dir):
    footage_request.incident.status = "closed"
    footage_request.incident.save()
    video = tiny_mp4()
    response = asgi_post(url, body_messages(video), stream_headers(("door.mp4", video)))

    assert response["status"] == 410 and "case is closed" in response["body"].decode()
    assert response["taken"] == 0
    assert evidence_files(evidence_dir) == []


@pytest.mark.django_db(transaction=True)
def test_a_missing_csrf_token_is_refused_before_a_byte_is_read(url, footage_request, evidence_dir):
    video = tiny_mp4()
    response = asgi_post(url, body_messages(video), stream_headers(("door.mp4", video)) | {"x-csrftoken": "b" * 32})
    assert response["status"] == 403 and response["taken"] == 0
    assert evidence_files(evidence_dir) == []


@pytest.mark.django_db(transaction=True)
def test_a_client_that_disconnects_mid_upload_leaves_no_partial_file(url, footage_request, evidence_dir):
    content = b"\0" * (6 * 1024 * 1024)
    messages = body_messages(content)[:-1] + [{"type": "http.disconnect"}]
    asgi_post(url, messages, stream_headers(("door.mp4", content)))

    assert wait_for(lambda: evidence_dir.exists()) and wait_for(lambda: evidence_files(evidence_dir) == [])
    assert Clip.objects.count() == 0
    footage_request.refresh_from_db()
    assert footage_request.state == "sent"


@pytest.mark.django_db(transaction=True)
def test_an_oversized_upload_is_refused_before_a_byte_is_read_even_without_content_length(url, footage_request,
                                                                                          evidence_dir, settings):
    settings.UPLOAD_MAX_MB = 1
    content = b"\0" * (3 * 1024 * 1024)
    response = asgi_post(url, body_messages(content), stream_headers(("long.mp4", content)))

    assert response["status"] == 413 and "larger than 1 MB" in response["body"].decode()
    assert response["taken"] == 0 and evidence_files(evidence_dir) == []


@pytest.mark.django_db(transaction=True)
def test_a_body_longer_than_its_files_is_refused_and_leaves_nothing(url, footage_request, evidence_dir):
    video = tiny_mp4()
    content = video + b"\0" * (3 * 1024 * 1024)  # a client that announced the clip, then sent more
    response = asgi_post(url, body_messages(content), stream_headers(("door.mp4", video)))

    assert response["status"] == 400 and "did not match the files announced" in response["body"].decode()
    assert wait_for(lambda: evidence_files(evidence_dir) == [])
    assert Clip.objects.count() == 0


# --- end to end under uvicorn ---------------------------------------------------------------------------

def test_a_browser_style_upload_through_uvicorn_becomes_a_clip(asgi_server, footage_request, url, evidence_dir):
    host = urlsplit(asgi_server).netloc
    conn = http.client.HTTPConnection(host, timeout=30)
    conn.request("GET", url.removesuffix("upload/stream/"))
    page = conn.getresponse()
    html = page.read().decode()
    cookie = next(v.split(";", 1)[0] for k, v in page.getheaders() if k.lower() == "set-cookie"
                  and v.startswith("csrftoken="))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    assert f'data-stream-url="{url}"' in html

    video = tiny_mp4(frames=120, size=(320, 240))
    conn.putrequest("POST", url)
    for name, value in {"Content-Type": "application/octet-stream", "Content-Length": str(len(video)),
                        "Cookie": cookie, "X-CSRFToken": token, "X-Keep-Days": "30",
                        "X-Upload-Names": quote("entrée.mp4"), "X-Upload-Sizes": str(len(video)),
                        "Origin": asgi_server}.items():
        conn.putheader(name, value)
    conn.endheaders()
    for i in range(0, len(video), 4096):
        conn.send(video[i:i + 4096])
    response = conn.getresponse()
    body = response.read().decode()
    conn.close()

    assert response.status == 200, body[:500]
    clip = Clip.objects.get()
    assert clip.sha256 == hashlib.sha256(video).hexdigest() in body and clip.original_name == "entrée.mp4"
    assert evidence_files(evidence_dir) == [clip.stored_name]


def test_a_connection_cut_mid_upload_under_uvicorn_leaves_no_file(asgi_server, footage_request, url, evidence_dir):
    conn = http.client.HTTPConnection(urlsplit(asgi_server).netloc, timeout=30)
    conn.putrequest("POST", url)
    for name, value in {"Content-Type": "application/octet-stream", "Content-Length": str(64 * 1024 * 1024),
                        "Cookie": f"csrftoken={CSRF}", "X-CSRFToken": CSRF, "X-Keep-Days": "30",
                        "X-Upload-Names": "long.mp4", "X-Upload-Sizes": str(64 * 1024 * 1024)}.items():
        conn.putheader(name, value)
    conn.endheaders()
    for _ in range(24):  # 24 of the 64 MiB announced: several records are sealed on disk by now
        conn.send(b"\0" * (1024 * 1024))
    wait_for(lambda: evidence_files(evidence_dir))  # the partial clip exists while it arrives
    conn.sock.close()

    wait_for(lambda: evidence_files(evidence_dir) == [])
    assert Clip.objects.count() == 0
    footage_request.refresh_from_db()
    assert footage_request.state == "sent"
