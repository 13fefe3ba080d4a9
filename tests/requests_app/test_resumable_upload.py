"""The consent page's resumable upload (tus 1.0.0 subset): creation, offset, appending, termination; sealed at
rest while partial, a clip only once complete, and removed when abandoned."""

import base64
import hashlib
import http.client
import time
from urllib.parse import urlsplit

import pytest

from requests_app import resumable, services
from requests_app.models import Clip
from tests.requests_app.media import padded_mp4

CHUNK = 1024 * 1024
TUS = {"Tus-Resumable": "1.0.0"}


def uploads_url(footage_request) -> str:
    return services.consent_link(footage_request).replace("http://testserver", "") + "uploads/"


def metadata(name: str) -> str:
    return f"filename {base64.b64encode(name.encode()).decode()}"


def create(client, footage_request, length: int, name: str = "porch.mp4"):
    return client.post(uploads_url(footage_request), headers={**TUS, "Upload-Length": str(length),
                                                              "Upload-Metadata": metadata(name)})


def upload_id(location: str) -> str:
    return location.rstrip("/").rsplit("/", 1)[1]


def finish(client, footage_request, *locations: str, keep_days: str = "30"):
    return client.post(uploads_url(footage_request) + "finish/",
                       headers={"X-Uploads": ",".join(upload_id(loc) for loc in locations), "X-Keep-Days": keep_days})


def patch(client, location: str, offset: int, data: bytes):
    return client.patch(location, data=data, content_type="application/offset+octet-stream",
                        headers={**TUS, "Upload-Offset": str(offset)})


def head_offset(client, location: str) -> int:
    response = client.head(location, headers=TUS)
    assert response.status_code == 200
    return int(response["Upload-Offset"])


def plaintext_on_disk(folder, content: bytes) -> bool:
    """Whether any 64-byte run of `content` (taken every 4 KiB) is in a file under `folder`."""
    runs = {content[i:i + 64] for i in range(0, len(content) - 64, 4096)}
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            if any(run in data for run in runs):
                return True
    return False


@pytest.mark.django_db
def test_an_upload_sent_in_pieces_becomes_one_clip_with_the_files_hash(client, footage_request, evidence_dir,
                                                                        settings):
    settings.SPOOL_DIR = evidence_dir.parent / "spool"
    video = padded_mp4(3 * CHUNK + 12345)
    created = create(client, footage_request, len(video))
    assert created.status_code == 201 and created["Tus-Resumable"] == "1.0.0"
    location = created["Location"]
    assert head_offset(client, location) == 0

    first = patch(client, location, 0, video[:2 * CHUNK])
    assert first.status_code == 204 and first["Upload-Offset"] == str(2 * CHUNK)
    assert head_offset(client, location) == 2 * CHUNK

    # Partial: nobody on staff sees anything, and the disk holds no plaintext of the video.
    assert Clip.objects.count() == 0
    footage_request.refresh_from_db()
    assert footage_request.state == "sent"
    assert not plaintext_on_disk(evidence_dir.parent, video)

    last = patch(client, location, 2 * CHUNK, video[2 * CHUNK:])
    assert last.status_code == 204 and last["Upload-Offset"] == str(len(video))
    assert head_offset(client, location) == len(video)
    assert Clip.objects.count() == 0  # whole, but not shared until the page says it is done

    done = finish(client, footage_request, location, keep_days="90")
    assert done.status_code == 200 and "Thank you" in done.content.decode()
    clip = Clip.objects.get()
    assert clip.keep_days_after_close == 90
    assert clip.sha256 == hashlib.sha256(video).hexdigest() and clip.size == len(video)
    assert clip.original_name == "porch.mp4" and clip.sha256 in done.content.decode()
    assert sorted(p.name for p in evidence_dir.iterdir()) == [clip.stored_name]
    assert client.head(location, headers=TUS).status_code == 404  # finished: nothing left to resume


@pytest.mark.django_db
def test_a_piece_at_the_wrong_offset_is_refused_with_409(client, footage_request):
    video = padded_mp4(2 * CHUNK + 10)
    location = create(client, footage_request, len(video))["Location"]
    patch(client, location, 0, video[:CHUNK])

    response = patch(client, location, 0, video[:CHUNK])  # sent twice
    assert response.status_code == 409 and response["Upload-Offset"] == str(CHUNK)
    assert patch(client, location, 2 * CHUNK, video[2 * CHUNK:]).status_code == 409  # a gap
    assert head_offset(client, location) == CHUNK and Clip.objects.count() == 0


@pytest.mark.django_db
def test_a_piece_cut_mid_record_keeps_the_whole_records_before_it(client, footage_request):
    video = padded_mp4(3 * CHUNK)
    location = create(client, footage_request, len(video))["Location"]

    response = patch(client, location, 0, video[:CHUNK + 5000])
    assert response.status_code == 204 and response["Upload-Offset"] == str(CHUNK)
    assert patch(client, location, CHUNK, video[CHUNK:]).status_code == 204
    assert finish(client, footage_request, location).status_code == 200
    assert Clip.objects.get().sha256 == hashlib.sha256(video).hexdigest()


@pytest.mark.django_db
def test_another_links_upload_answers_404(client, footage_request, street_cameras, incident):
    from datetime import timedelta

    from django.utils import timezone

    from requests_app.models import FootageRequest

    other = FootageRequest.objects.create(incident=incident, camera=street_cameras["near"][1], camera_label="Near 1",
                                          nonce="nonce-2", state="sent", sent_at=timezone.now(),
                                          expires_at=timezone.now() + timedelta(days=10))
    video = padded_mp4(CHUNK + 10)
    location = create(client, footage_request, len(video))["Location"]
    elsewhere = uploads_url(other) + upload_id(location)

    assert client.head(elsewhere, headers=TUS).status_code == 404
    assert patch(client, elsewhere, 0, video).status_code == 404
    assert client.delete(elsewhere, headers=TUS).status_code == 404
    assert client.head(uploads_url(footage_request) + "6f1c3f8e-1b7a-4a8e-9d55-0c5d2b7a9e11",
                       headers=TUS).status_code == 404
    patch(client, location, 0, video)
    assert finish(client, other, location).status_code == 404
    assert Clip.objects.count() == 0 and head_offset(client, location) == len(video)  # untouched


@pytest.mark.django_db
def test_an_expired_link_refuses_its_uploads(client, footage_request):
    from datetime import timedelta

    from django.utils import timezone

    video = padded_mp4(CHUNK + 10)
    location = create(client, footage_request, len(video))["Location"]
    footage_request.expires_at = timezone.now() - timedelta(minutes=1)
    footage_request.save(update_fields=["expires_at"])

    assert patch(client, location, 0, video).status_code == 410
    assert finish(client, footage_request, location).status_code == 410
    assert create(client, footage_request, len(video)).status_code == 410
    assert Clip.objects.count() == 0


@pytest.mark.django_db
def test_an_upload_over_the_limit_or_empty_is_refused_at_creation(client, footage_request, settings, evidence_dir):
    settings.UPLOAD_MAX_MB = 1
    assert create(client, footage_request, CHUNK + 1).status_code == 413
    assert create(client, footage_request, 0).status_code == 400
    assert not list(evidence_dir.glob("resumable-*")) if evidence_dir.exists() else True


@pytest.mark.django_db
def test_an_upload_not_yet_whole_cannot_be_finished(client, footage_request):
    video = padded_mp4(2 * CHUNK)
    location = create(client, footage_request, len(video))["Location"]
    patch(client, location, 0, video[:CHUNK])

    assert finish(client, footage_request, location).status_code == 409
    assert Clip.objects.count() == 0 and head_offset(client, location) == CHUNK


@pytest.mark.django_db
def test_several_uploads_finish_as_one_answer_and_a_bad_retention_keeps_them(client, footage_request):
    from tests.requests_app.media import tiny_jpeg

    files = {"porch.mp4": padded_mp4(CHUNK + 99), "still.jpg": tiny_jpeg()}
    locations = []
    for name, content in files.items():
        locations.append(create(client, footage_request, len(content), name=name)["Location"])
        assert patch(client, locations[-1], 0, content).status_code == 204

    assert finish(client, footage_request, *locations, keep_days="99999").status_code == 400
    assert Clip.objects.count() == 0
    done = finish(client, footage_request, *locations)
    assert done.status_code == 200 and "We received 2 files" in done.content.decode()
    assert {c.original_name: c.sha256 for c in Clip.objects.all()} == {
        name: hashlib.sha256(content).hexdigest() for name, content in files.items()}


@pytest.mark.django_db
def test_a_terminated_upload_leaves_nothing(client, footage_request, evidence_dir):
    video = padded_mp4(2 * CHUNK)
    location = create(client, footage_request, len(video))["Location"]
    patch(client, location, 0, video[:CHUNK])

    assert client.delete(location, headers=TUS).status_code == 204
    assert list(evidence_dir.iterdir()) == []
    assert client.head(location, headers=TUS).status_code == 404


@pytest.mark.django_db
def test_a_file_that_is_not_media_is_refused_when_complete_and_nothing_is_kept(client, footage_request, evidence_dir):
    junk = b"not a video at all " * 1000
    location = create(client, footage_request, len(junk), name="notes.mp4")["Location"]

    patch(client, location, 0, junk)
    response = finish(client, footage_request, location)
    assert response.status_code == 400 and "notes.mp4" in response.content.decode()
    assert Clip.objects.count() == 0 and list(evidence_dir.iterdir()) == []


@pytest.mark.django_db
def test_an_upload_abandoned_for_a_day_is_removed_and_a_recent_one_stays(client, footage_request, evidence_dir):
    video = padded_mp4(2 * CHUNK)
    old = create(client, footage_request, len(video))["Location"]
    patch(client, old, 0, video[:CHUNK])
    assert resumable.abandoned_sweep() == 0  # now: both are fresh
    assert services.upload_leftovers_sweep() == 0

    later = time.time() + 25 * 3600
    recent = create(client, footage_request, len(video))["Location"]
    recent_file = next(p for p in evidence_dir.glob("resumable-*.cnev") if p.stem.endswith(recent.rsplit("/", 1)[1]))
    import os

    os.utime(recent_file, (later - 3600, later - 3600))  # added to an hour before the moved clock
    assert resumable.abandoned_sweep(now=later) == 1
    assert client.head(old, headers=TUS).status_code == 404
    assert head_offset(client, recent) == 0
    assert [p.name for p in evidence_dir.glob("resumable-*.json")] == [f"resumable-{recent.rsplit('/', 1)[1]}.json"]


# --- end to end under uvicorn ---------------------------------------------------------------------------

CSRF = "a" * 32


def _request(base, method, path, body=b"", headers=None, *, cut_after: int | None = None):
    """One request on its own connection; with `cut_after`, the connection is closed after that many body bytes."""
    conn = http.client.HTTPConnection(urlsplit(base).netloc, timeout=60)
    conn.putrequest(method, path)
    for name, value in {"Cookie": f"csrftoken={CSRF}", "X-CSRFToken": CSRF, "Origin": base, **TUS,
                        "Content-Length": str(len(body)), **(headers or {})}.items():
        conn.putheader(name, value)
    conn.endheaders()
    if cut_after is not None:
        conn.send(body[:cut_after])
        conn.sock.close()  # the connection drops mid-body
        return None
    for i in range(0, len(body), 65536):
        conn.send(body[i:i + 65536])
    response = conn.getresponse()
    response.read()
    conn.close()
    return response


def _resumed(base, location, video, *, what, offsets=None):
    """A new client's resumption: asks the server where to go on from and sends the rest, as often as the server
    is still noticing the cut connection's end (the upload answers 423, Locked, until then; and 409 if it moved
    on between the HEAD and the PATCH). Returns the last answer."""
    from tests.conftest import wait_for

    answers = []

    def resumed():
        offset = int(_request(base, "HEAD", location).getheader("Upload-Offset"))
        assert offsets is None or offset in offsets, offset
        answers.append(_request(base, "PATCH", location, video[offset:],
                                {"Content-Type": "application/offset+octet-stream", "Upload-Offset": str(offset)}))
        return answers[-1].status not in (423, 409)

    wait_for(resumed, what=what)
    return answers[-1]


def test_an_upload_cut_at_half_is_resumed_by_a_new_client_under_uvicorn(asgi_server, footage_request, evidence_dir):
    from tests.conftest import wait_for

    video = padded_mp4(6 * CHUNK + 777)
    created = _request(asgi_server, "POST", uploads_url(footage_request),
                       headers={"Upload-Length": str(len(video)), "Upload-Metadata": metadata("yard.mp4")})
    assert created.status == 201
    location = created.getheader("Location")
    piece = {"Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"}

    # The first client sends everything in one piece and is cut off at half.
    _request(asgi_server, "PATCH", location, video, piece, cut_after=len(video) // 2)

    def server_offset():
        return int(_request(asgi_server, "HEAD", location).getheader("Upload-Offset"))

    # The cut came 388 bytes into the fourth record. The server keeps every whole record it read; what its ASGI
    # server still held unread when the client vanished is dropped (uvicorn answers a disconnect, not the
    # buffered bytes), so on a busy machine the third record may be lost too, never more.
    assert wait_for(lambda: server_offset() >= 2 * CHUNK, what="the whole records before the cut kept")
    assert Clip.objects.count() == 0
    assert not plaintext_on_disk(evidence_dir, video)

    # A new client asks where to go on from and sends the rest.
    answer = _resumed(asgi_server, location, video, what="the upload let go by the cut request",
                      offsets=(2 * CHUNK, 3 * CHUNK))
    assert answer.status == 204 and answer.getheader("Upload-Offset") == str(len(video))
    done = _request(asgi_server, "POST", uploads_url(footage_request) + "finish/",
                    headers={"X-Uploads": upload_id(location), "X-Keep-Days": "30"})
    assert done.status == 200
    clip = Clip.objects.get()
    assert clip.sha256 == hashlib.sha256(video).hexdigest() and clip.size == len(video)


def test_a_cut_piece_lets_go_of_the_upload_without_the_garbage_collector(asgi_server, footage_request):
    """The client's going away cancels the request's task, even as it closes the upload's file: the file, and its
    lock, are let go all the same. (A cancelled close had left them to the garbage collector: a phone's next try was
    refused as busy for minutes.)"""
    import gc


    video = padded_mp4(4 * CHUNK + 11)
    location = _request(asgi_server, "POST", uploads_url(footage_request),
                        headers={"Upload-Length": str(len(video)), "Upload-Metadata": metadata("porch.mp4")}
                        ).getheader("Location")
    piece = {"Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"}
    gc.disable()  # nothing closes a forgotten file by chance
    try:
        # Two whole records, then the tab closes: the disconnect cancels the task as it closes the file.
        _request(asgi_server, "PATCH", location, video[:2 * CHUNK], {**piece, "Content-Length": str(len(video))},
                 cut_after=2 * CHUNK)
        answer = _resumed(asgi_server, location, video, what="the cut piece's lock let go")
    finally:
        gc.enable()
    assert answer.status == 204 and answer.getheader("Upload-Offset") == str(len(video))


def test_a_piece_whose_client_stalls_lets_go_of_the_upload(asgi_server, footage_request, monkeypatch):
    """A client that vanished without closing its connection (a closed tab, a phone out of coverage) holds the
    upload only until its bytes have stopped for STALLED_AFTER_S; then the next try goes on from the offset."""
    import socket

    from requests_app import resumable_views

    monkeypatch.setattr(resumable_views, "STALLED_AFTER_S", 1.0)
    video = padded_mp4(4 * CHUNK + 99)
    created = _request(asgi_server, "POST", uploads_url(footage_request),
                       headers={"Upload-Length": str(len(video)), "Upload-Metadata": metadata("gate.mp4")})
    location = created.getheader("Location")
    piece = {"Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"}
    # Two records' worth of the body, then silence on an open connection.
    conn = http.client.HTTPConnection(urlsplit(asgi_server).netloc, timeout=60)
    conn.putrequest("PATCH", location)
    for name, value in {"Cookie": f"csrftoken={CSRF}", "X-CSRFToken": CSRF, "Origin": asgi_server, **TUS, **piece,
                        "Content-Length": str(len(video))}.items():
        conn.putheader(name, value)
    conn.endheaders()
    conn.send(video[:2 * CHUNK + 5])
    stalled = conn.getresponse()  # the server gives up on it and answers, the connection still open
    assert stalled.status == 400
    conn.sock.shutdown(socket.SHUT_RDWR)
    conn.close()

    offset = int(_request(asgi_server, "HEAD", location).getheader("Upload-Offset"))
    assert offset == 2 * CHUNK
    rest = _request(asgi_server, "PATCH", location, video[offset:], {**piece, "Upload-Offset": str(offset)})
    assert rest.status == 204 and rest.getheader("Upload-Offset") == str(len(video))


@pytest.mark.django_db
def test_uploads_over_the_limit_in_all_are_refused_when_finished_and_kept(client, footage_request, settings):
    settings.UPLOAD_MAX_MB = 1
    files = [padded_mp4(600 * 1024), padded_mp4(600 * 1024)]
    locations = [create(client, footage_request, len(content))["Location"] for content in files]
    for location, content in zip(locations, files, strict=True):
        assert patch(client, location, 0, content).status_code == 204

    response = finish(client, footage_request, *locations)
    assert response.status_code == 413 and "larger than 1 MB" in response.content.decode()
    assert Clip.objects.count() == 0
    assert finish(client, footage_request, locations[0]).status_code == 200  # one alone is within it
