"""Clips going out: single byte ranges (206, 416, If-Range), ranged sessions in the ledger, and the async stream
under a real uvicorn server, where a record altered mid-file cuts the transfer."""

import hashlib
import http.client
import os
from urllib.parse import urlparse

import pytest
from django.test import Client

from audit.models import AccessEntry
from common.evidence_store import evidence_store
from common.sealed import CHUNK, HEADER, RECORD
from tests.conftest import make_staff
from tests.requests_app.factories import sealed_clip

# Django falls back to collecting a sync iterator whole under ASGI, with this warning: here it fails the request.
pytestmark = [pytest.mark.django_db, pytest.mark.filterwarnings("error:StreamingHttpResponse must consume")]
CONTENT = os.urandom(3 * CHUNK + 1000)  # four records, the last one short


@pytest.fixture
def clip(incident):
    return sealed_clip(incident, CONTENT)


def get(client, clip, **headers):
    response = client.get(f"/evidence/{clip.code}/download/", **headers)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body


@pytest.mark.parametrize(("header", "start", "stop"), [
    ("bytes=0-0", 0, 1),
    ("bytes=100-", 100, len(CONTENT)),
    (f"bytes={CHUNK - 5}-{CHUNK + 4}", CHUNK - 5, CHUNK + 5),  # across two records
    ("bytes=-10", len(CONTENT) - 10, len(CONTENT)),
    (f"bytes=5-{10 * len(CONTENT)}", 5, len(CONTENT)),  # an end past the file is the end of the file
])
def test_a_range_sends_exactly_those_bytes(client, clip, investigator, header, start, stop):
    client.force_login(investigator)
    response, body = get(client, clip, HTTP_RANGE=header)
    assert response.status_code == 206 and body == CONTENT[start:stop]
    assert response["Content-Range"] == f"bytes {start}-{stop - 1}/{len(CONTENT)}"
    assert response["Content-Length"] == str(stop - start) and response["Accept-Ranges"] == "bytes"


@pytest.mark.parametrize("header", [f"bytes={len(CONTENT)}-", "bytes=-0"])
def test_a_range_past_the_end_is_416(client, clip, investigator, header):
    client.force_login(investigator)
    response, _ = get(client, clip, HTTP_RANGE=header)
    assert response.status_code == 416 and response["Content-Range"] == f"bytes */{len(CONTENT)}"


@pytest.mark.parametrize("header", ["bytes=0-1,5-9", "items=0-1", "bytes=junk", "bytes=9-2"])
def test_a_range_this_server_does_not_honour_sends_the_whole_clip(client, clip, investigator, header):
    client.force_login(investigator)
    response, body = get(client, clip, HTTP_RANGE=header)
    assert response.status_code == 200 and body == CONTENT


def test_if_range_with_another_etag_sends_the_whole_clip(client, clip, investigator):
    client.force_login(investigator)
    whole, _ = get(client, clip)
    same, body = get(client, clip, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=whole["ETag"])
    assert same.status_code == 206 and body == CONTENT[:10]
    other, body = get(client, clip, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"another-file"')
    assert other.status_code == 200 and body == CONTENT


def test_nobody_off_the_case_learns_anything_from_a_range(client, clip):
    client.force_login(make_staff("analyst"))
    for header in ("bytes=0-9", f"bytes={len(CONTENT)}-"):
        response, body = get(client, clip, HTTP_RANGE=header)
        assert response.status_code == 404 and CONTENT[:10] not in body
    assert not AccessEntry.objects.filter(target_code=str(clip.code), action="clip.downloaded").exists()


def test_a_ranged_session_is_one_ledger_entry_and_a_whole_download_always_one(client, clip, investigator):
    from django.core.cache import cache

    cache.delete(f"connect:clip-read:{clip.code}:{investigator.pk}:clip.downloaded")
    client.force_login(investigator)
    for offset in range(0, 5 * 100, 100):  # a download manager fetching in pieces
        assert get(client, clip, HTTP_RANGE=f"bytes={offset}-{offset + 99}")[0].status_code == 206
    entries = AccessEntry.objects.filter(target_code=str(clip.code), action="clip.downloaded")
    assert entries.count() == 1 and entries.get().detail["range"] == "0-99"
    get(client, clip)
    get(client, clip)
    assert entries.count() == 3  # whole downloads: each one an entry


def test_a_flagged_clip_is_not_served_in_ranges_only_whole_and_rechecked(client, clip, investigator):
    from django.utils import timezone

    clip.integrity_failed_at = timezone.now()
    clip.save(update_fields=["integrity_failed_at"])
    client.force_login(investigator)
    assert get(client, clip, HTTP_RANGE="bytes=0-9")[0].status_code == 409
    refused = AccessEntry.objects.get(action="clip.integrity_failed", target_code=str(clip.code))
    assert refused.reason.startswith("ranged read refused")
    response, body = get(client, clip)
    assert response.status_code == 200 and body == CONTENT


def test_a_clip_shorter_than_recorded_is_refused_before_a_byte_is_sent(client, clip, investigator, evidence_dir):
    path = evidence_dir / clip.stored_name
    path.write_bytes(path.read_bytes()[:-RECORD])  # a whole record cut off: the rest still authenticates
    client.force_login(investigator)
    assert get(client, clip)[0].status_code == 409
    clip.refresh_from_db()
    assert clip.integrity_failed_at is not None


def _fetch(server_url: str, path: str, cookie: str, **headers):
    url = urlparse(server_url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    connection.request("GET", path, headers={"Cookie": f"sessionid={cookie}", **headers})
    return connection, connection.getresponse()


def _cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def test_under_uvicorn_a_clip_streams_whole_and_in_ranges(asgi_server, incident, investigator, evidence_dir):
    clip = sealed_clip(incident, CONTENT)
    cookie = _cookie(investigator)

    connection, response = _fetch(asgi_server, f"/evidence/{clip.code}/download/", cookie)
    body = response.read()
    assert response.status == 200 and hashlib.sha256(body).hexdigest() == clip.sha256
    connection.close()
    connection, response = _fetch(asgi_server, f"/evidence/{clip.code}/download/?inline=1", cookie,
                                  Range=f"bytes={2 * CHUNK - 1}-{2 * CHUNK}")
    assert response.status == 206 and response.read() == CONTENT[2 * CHUNK - 1: 2 * CHUNK + 1]
    connection.close()


def test_under_uvicorn_a_record_altered_mid_file_cuts_the_transfer_and_flags_the_clip(
        asgi_server, incident, investigator, evidence_dir):
    clip = sealed_clip(incident, CONTENT)
    path = evidence_dir / clip.stored_name
    data = bytearray(path.read_bytes())
    data[HEADER + 2 * RECORD + 10] ^= 1  # the third record: the first one is fine, so the answer is a 200
    path.write_bytes(bytes(data))

    connection, response = _fetch(asgi_server, f"/evidence/{clip.code}/download/", _cookie(investigator))
    assert response.status == 200
    with pytest.raises(http.client.IncompleteRead) as cut:
        response.read()
    assert len(cut.value.partial) < len(CONTENT)
    connection.close()
    clip.refresh_from_db()
    assert clip.integrity_failed_at is not None
    assert AccessEntry.objects.filter(action="clip.integrity_failed", target_code=str(clip.code)).exists()


def test_the_store_is_the_local_folder_by_default(clip, evidence_dir):
    assert evidence_store().name == "local" and list(evidence_store().names()) == [clip.stored_name]


def test_under_uvicorn_a_client_that_leaves_stops_the_decryption(asgi_server, incident, investigator, evidence_dir,
                                                                 monkeypatch):
    from common import sealed
    from requests_app.evidence_out import ClipStream
    from tests.conftest import wait_for

    opened, closed = [], []
    open_record, close = sealed.DecryptingReader._open_record, ClipStream.close

    def counting(self, index, data):
        opened.append(index)
        return open_record(self, index, data)

    def noting(self):
        closed.append(True)
        return close(self)

    monkeypatch.setattr(sealed.DecryptingReader, "_open_record", counting)
    monkeypatch.setattr(ClipStream, "close", noting)
    clip = sealed_clip(incident, os.urandom(64 * CHUNK))
    connection, response = _fetch(asgi_server, f"/evidence/{clip.code}/download/", _cookie(investigator))
    response.read(1)
    connection.close()  # a player that fetched the start, then went elsewhere

    assert wait_for(lambda: closed)
    assert len(opened) < 32  # not the whole clip decrypted for nobody
