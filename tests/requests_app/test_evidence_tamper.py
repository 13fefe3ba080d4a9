"""Stored evidence altered behind connect's back: records swapped, duplicated, dropped or cut off, a byte flipped, the
file replaced by another clip's. A download no longer re-hashes the whole clip (docs/SECURITY.md, Evidence integrity),
so each of these must be caught by the records' own authentication (AES-GCM over each record, its position and
whether it is the last) and the size check: refused before the first byte, or cut before the client holds a
complete file; either way the clip is flagged and the ledger says so. Whole downloads run under a real uvicorn
server, through the read-ahead thread that serves them in production."""

import http.client
import os
from urllib.parse import urlparse

import pytest
from django.test import Client
from django.utils import timezone

from audit.models import AccessEntry
from common.sealed import CHUNK, HEADER, RECORD
from tests.requests_app.factories import sealed_clip

pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.filterwarnings("error:StreamingHttpResponse must consume")]
CONTENT = os.urandom(5 * CHUNK + 1000)  # six records, the last one short


def _records(sealed: bytes) -> tuple[bytes, list[bytes]]:
    body = sealed[HEADER:]
    return sealed[:HEADER], [body[i:i + RECORD] for i in range(0, len(body), RECORD)]


def _rewrite(path, change) -> None:
    header, records = _records(path.read_bytes())
    header, records = change(header, records)
    path.write_bytes(header + b"".join(records))


def _swap(header, records):
    records[1], records[2] = records[2], records[1]
    return header, records


def _duplicate(header, records):
    records[2] = records[1]
    return header, records


def _drop_middle(header, records):
    del records[2]
    return header, records


def _drop_last(header, records):
    return header, records[:-1]


def _flip_in(index: int):
    def flip(header, records):
        altered = bytearray(records[index])
        altered[len(altered) // 2] ^= 0x01
        records[index] = bytes(altered)
        return header, records
    return flip


def _flip_nonce_prefix(header, records):
    altered = bytearray(header)
    altered[-1] ^= 0x01
    return bytes(altered), records


def _cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def _download(server_url: str, clip, cookie: str, **headers) -> tuple[int, bytes, bool]:
    """(status, the bytes received, whether the body was complete) of one download over HTTP."""
    url = urlparse(server_url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    connection.request("GET", f"/evidence/{clip.code}/download/", headers={"Cookie": f"sessionid={cookie}",
                                                                           **headers})
    response = connection.getresponse()
    try:
        body, complete = response.read(), True
    except http.client.IncompleteRead as cut:
        body, complete = cut.partial, False
    connection.close()
    return response.status, body, complete


def _assert_flagged(clip) -> None:
    clip.refresh_from_db()
    assert clip.integrity_failed_at is not None
    assert AccessEntry.objects.filter(action="clip.integrity_failed", target_code=str(clip.code)).exists()


@pytest.mark.parametrize("tamper", [_swap, _duplicate, _flip_in(3), _flip_in(-1)],
                         ids=["records-swapped", "record-duplicated", "byte-flipped-mid-file", "byte-flipped-in-last"])
def test_a_record_altered_or_moved_mid_file_cuts_the_whole_download(asgi_server, incident, investigator,
                                                                    evidence_dir, tamper):
    clip = sealed_clip(incident, CONTENT)
    _rewrite(evidence_dir / clip.stored_name, tamper)

    status, body, complete = _download(asgi_server, clip, _cookie(investigator))

    assert status == 200  # the first record is intact, so the answer had begun
    assert not complete and len(body) < len(CONTENT)
    assert body == CONTENT[:len(body)]  # what did arrive is the clip's own, in order, up to the bad record
    _assert_flagged(clip)


@pytest.mark.parametrize("tamper", [_drop_middle, _drop_last, _flip_nonce_prefix, _flip_in(0)],
                         ids=["record-dropped", "last-record-cut-off", "nonce-prefix-changed", "first-record-altered"])
def test_a_file_altered_at_its_start_or_in_size_is_refused_before_a_byte_is_sent(asgi_server, incident, investigator,
                                                                                  evidence_dir, tamper):
    clip = sealed_clip(incident, CONTENT)
    _rewrite(evidence_dir / clip.stored_name, tamper)

    status, body, _ = _download(asgi_server, clip, _cookie(investigator))

    assert status == 409 and CONTENT[:64] not in body
    _assert_flagged(clip)


def test_a_file_cut_at_a_record_boundary_fails_even_when_the_recorded_size_is_changed_to_match(
        asgi_server, incident, investigator, evidence_dir):
    """Someone who can edit both the store and the database: the size check passes, and the record that is now
    last was sealed as not last, so its tag fails."""
    clip = sealed_clip(incident, CONTENT)
    _rewrite(evidence_dir / clip.stored_name, _drop_last)
    type(clip).objects.filter(pk=clip.pk).update(size=5 * CHUNK)

    status, body, complete = _download(asgi_server, clip, _cookie(investigator))

    assert status == 200 and not complete and len(body) < 5 * CHUNK
    _assert_flagged(clip)


def test_another_clips_file_in_its_place_is_refused(asgi_server, incident, investigator, evidence_dir):
    clip, other = sealed_clip(incident, CONTENT), sealed_clip(incident, os.urandom(len(CONTENT)))
    (evidence_dir / clip.stored_name).write_bytes((evidence_dir / other.stored_name).read_bytes())

    status, body, _ = _download(asgi_server, clip, _cookie(investigator))

    assert status == 409
    _assert_flagged(clip)


def test_a_range_over_a_moved_record_is_refused(asgi_server, incident, investigator, evidence_dir):
    clip = sealed_clip(incident, CONTENT)
    _rewrite(evidence_dir / clip.stored_name, _swap)
    cookie = _cookie(investigator)

    intact = _download(asgi_server, clip, cookie, Range=f"bytes=10-{CHUNK - 1}")  # record 0 only: still authentic
    assert intact[0] == 206 and intact[1] == CONTENT[10:CHUNK]
    status, body, _ = _download(asgi_server, clip, cookie, Range=f"bytes={CHUNK + 5}-{CHUNK + 99}")
    assert status == 409 and CONTENT[CHUNK + 5:CHUNK + 99] not in body
    _assert_flagged(clip)


def test_a_flagged_clip_downloaded_whole_is_rehashed_and_its_last_record_held_back(asgi_server, incident,
                                                                                   investigator):
    """A clip flagged before is re-hashed on a whole download; a hash that differs from the upload's cuts the
    transfer before the last record leaves (here the recorded hash is the one altered)."""
    clip = sealed_clip(incident, CONTENT)
    type(clip).objects.filter(pk=clip.pk).update(integrity_failed_at=timezone.now(), sha256="0" * 64)

    status, body, complete = _download(asgi_server, clip, _cookie(investigator))

    assert status == 200 and not complete
    assert len(body) <= 5 * CHUNK and body == CONTENT[:len(body)]  # the last record never left
    assert AccessEntry.objects.filter(action="clip.integrity_failed", target_code=str(clip.code),
                                      reason__contains="SHA-256").exists()


def test_an_intact_clip_downloads_whole_and_matches_its_recorded_hash(asgi_server, incident, investigator):
    import hashlib

    clip = sealed_clip(incident, CONTENT)
    status, body, complete = _download(asgi_server, clip, _cookie(investigator))
    assert status == 200 and complete and hashlib.sha256(body).hexdigest() == clip.sha256


def test_records_swapped_in_a_bucket_cut_the_download(asgi_server, incident, investigator, s3_evidence):
    clip = sealed_clip(incident, CONTENT)
    key = s3_evidence.key(clip.stored_name)
    stored = s3_evidence.client.get_object(Bucket=s3_evidence.bucket, Key=key)["Body"].read()
    header, records = _swap(*_records(stored))
    s3_evidence.client.put_object(Bucket=s3_evidence.bucket, Key=key, Body=header + b"".join(records))

    status, body, complete = _download(asgi_server, clip, _cookie(investigator))

    assert status == 200 and not complete and body == CONTENT[:len(body)] and len(body) < len(CONTENT)
    _assert_flagged(clip)
