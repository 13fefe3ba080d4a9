"""Clips kept in an S3-compatible bucket (moto's standalone server, a real process): uploaded through the consent
page, downloaded whole and in ranges, shredded, and the faults: a bucket refusing writes, a missing object, a
connection cut mid-download."""

import hashlib
import os
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from audit.models import AccessEntry
from common import sealed
from requests_app import services
from requests_app.models import Clip, FootageRequest
from tests.requests_app.factories import sealed_clip
from tests.requests_app.media import tiny_mp4

pytestmark = pytest.mark.django_db
VIDEO = tiny_mp4()


@pytest.fixture
def footage_request_s3(incident, street_cameras):
    return FootageRequest.objects.create(incident=incident, camera=street_cameras["near"][0], camera_label="Near",
                                         nonce="n", state="sent", expires_at=timezone.now() + timedelta(days=5))


def upload(client, footage_request):
    url = services.consent_link(footage_request).replace("http://testserver", "")
    return client.post(url + "upload/", {"clips": [SimpleUploadedFile("door.mp4", VIDEO)], "keep_days": "90"})


def test_an_uploaded_clip_lives_in_the_bucket_sealed_and_downloads_with_its_hash(
        client, footage_request_s3, s3_evidence, evidence_dir, investigator):
    assert upload(client, footage_request_s3).status_code == 200
    clip = Clip.objects.get()
    assert list(s3_evidence.names()) == [clip.stored_name]
    assert not list(evidence_dir.glob("*"))  # the staging folder keeps nothing
    stored = s3_evidence.client.get_object(Bucket=s3_evidence.bucket, Key=f"clips/{clip.stored_name}")["Body"].read()
    assert stored.startswith(sealed.MAGIC) and VIDEO[:64] not in stored

    client.force_login(investigator)
    response = client.get(f"/evidence/{clip.code}/download/")
    assert response.status_code == 200 and b"".join(response.streaming_content) == VIDEO
    assert response["X-Content-SHA256"] == hashlib.sha256(VIDEO).hexdigest()
    ranged = client.get(f"/evidence/{clip.code}/download/", HTTP_RANGE="bytes=10-99")
    assert ranged.status_code == 206 and ranged["Content-Range"] == f"bytes 10-99/{len(VIDEO)}"
    assert b"".join(ranged.streaming_content) == VIDEO[10:100]


def test_a_bucket_refusing_writes_keeps_no_clip_tells_the_owner_and_is_recorded(
        client, footage_request_s3, s3_evidence, evidence_dir):
    s3_evidence.client.delete_bucket(Bucket=s3_evidence.bucket)

    response = upload(client, footage_request_s3)

    assert response.status_code == 503 and "nothing was kept" in response.content.decode()
    assert Clip.objects.count() == 0 and not list(evidence_dir.glob("*"))
    footage_request_s3.refresh_from_db()
    assert footage_request_s3.state == "sent"  # still unanswered: the owner can try again
    failure = AccessEntry.objects.get(action="evidence.store_failed")
    assert failure.target_code == str(footage_request_s3.code) and "NoSuchBucket" in failure.reason


def test_a_missing_object_is_refused_flagged_and_recorded(client, footage_request_s3, s3_evidence, investigator):
    upload(client, footage_request_s3)
    clip = Clip.objects.get()
    s3_evidence.delete(clip.stored_name)

    client.force_login(investigator)
    response = client.get(f"/evidence/{clip.code}/download/")

    assert response.status_code == 409 and b"missing" in response.content
    clip.refresh_from_db()
    assert clip.integrity_failed_at is not None
    assert AccessEntry.objects.filter(action="clip.integrity_failed", target_code=str(clip.code)).exists()


def test_a_connection_cut_mid_download_cuts_the_transfer_and_is_recorded(
        client, incident, s3_evidence, moto_server, investigator):
    plaintext = os.urandom(24 * sealed.CHUNK)
    clip = sealed_clip(incident, plaintext)
    client.force_login(investigator)
    response = client.get(f"/evidence/{clip.code}/download/")
    assert response.status_code == 200
    pieces = iter(response.streaming_content)
    received = next(pieces)
    moto_server.kill()  # the bucket goes away mid-transfer

    with pytest.raises(Exception):  # noqa: B017  the transfer is cut: the client never gets a whole file
        for piece in pieces:
            received += piece
    assert len(received) < len(plaintext)
    clip.refresh_from_db()
    assert clip.integrity_failed_at is None  # the clip is fine; the store was not
    assert AccessEntry.objects.filter(action="evidence.store_failed", target_code=str(clip.code)).exists()


def test_shredding_removes_the_object_from_the_bucket(client, footage_request_s3, s3_evidence):
    upload(client, footage_request_s3)
    clip = Clip.objects.get()
    clip.incident.closed_at = timezone.now() - timedelta(days=400)
    clip.incident.save(update_fields=["closed_at"])

    assert services.clips_expired_purge() == 1
    assert list(s3_evidence.names()) == []


@pytest.mark.django_db(transaction=True)
def test_a_streamed_upload_cut_mid_way_leaves_nothing_in_the_bucket(footage_request_s3, s3_evidence, evidence_dir):
    from tests.conftest import wait_for
    from tests.requests_app.test_consent_stream import asgi_post, body_messages, stream_headers

    url = services.consent_link(footage_request_s3).replace("http://testserver", "") + "upload/stream/"
    content = os.urandom(14 * 1024 * 1024)  # two 5 MiB parts sealed before the cut: they went up as it arrived
    messages = body_messages(content)[:-1] + [{"type": "http.disconnect"}]
    asgi_post(url, messages, stream_headers(("door.mp4", content)))

    assert wait_for(lambda: s3_evidence.incomplete_uploads() == [] and list(s3_evidence.names()) == [])
    assert wait_for(lambda: not list(evidence_dir.glob("*")))
    assert Clip.objects.count() == 0


def test_a_streamed_upload_becomes_a_clip_in_the_bucket(client, footage_request_s3, s3_evidence, evidence_dir):
    from tests.requests_app.test_consent_stream import client_upload

    url = services.consent_link(footage_request_s3).replace("http://testserver", "") + "upload/stream/"
    response = client_upload(client, url, ("door.mp4", VIDEO))
    assert response.status_code == 200
    clip = Clip.objects.get()
    assert list(s3_evidence.names()) == [clip.stored_name] and not list(evidence_dir.glob("*"))


def test_a_resumable_upload_becomes_a_clip_in_the_bucket(client, footage_request_s3, s3_evidence, evidence_dir):
    from tests.requests_app.test_resumable_upload import create, finish, patch

    location = create(client, footage_request_s3, len(VIDEO))["Location"]
    assert patch(client, location, 0, VIDEO).status_code == 204
    assert finish(client, footage_request_s3, location).status_code == 200
    clip = Clip.objects.get()
    assert clip.sha256 == hashlib.sha256(VIDEO).hexdigest()
    assert list(s3_evidence.names()) == [clip.stored_name] and not list(evidence_dir.glob("*"))


@pytest.mark.parametrize("store", ["s3", "local"])
def test_the_sweep_removes_objects_no_clip_names_and_abandoned_uploads(incident, s3_evidence, settings, store):
    from datetime import timedelta

    from common.evidence_store import evidence_store

    if store == "local":
        settings.EVIDENCE_STORAGE = {"kind": "local", "bucket": "", "prefix": ""}
    clip = sealed_clip(incident, os.urandom(100))
    orphan = sealed_clip(incident, os.urandom(100))
    Clip.objects.filter(pk=orphan.pk).delete()  # as if the process died before the clip's row committed
    if store == "s3":
        s3_evidence.client.create_multipart_upload(Bucket=s3_evidence.bucket, Key="clips/abandoned.cnev")

    assert services.evidence_orphans_purge(older_than=timedelta(hours=1)) == 0  # too recent: maybe in progress
    assert services.evidence_orphans_purge(older_than=timedelta(0)) == 1

    assert list(evidence_store().names()) == [clip.stored_name]
    if store == "s3":
        assert s3_evidence.incomplete_uploads() == []


def _gets_counted(store) -> list:
    calls = []
    store.client.meta.events.register("before-call.s3.GetObject", lambda **kwargs: calls.append(kwargs))
    return calls


def test_a_whole_download_is_one_get_and_a_players_seeks_one_get_each(client, incident, s3_evidence, investigator):
    plaintext = os.urandom(6 * sealed.CHUNK)
    clip = sealed_clip(incident, plaintext)
    client.force_login(investigator)
    gets = _gets_counted(s3_evidence)

    response = client.get(f"/evidence/{clip.code}/download/")
    assert b"".join(response.streaming_content) == plaintext and len(gets) == 1
    for start in (3 * sealed.CHUNK + 7, sealed.CHUNK + 100, 5 * sealed.CHUNK):
        gets.clear()
        ranged = client.get(f"/evidence/{clip.code}/download/", HTTP_RANGE=f"bytes={start}-{start + 999}")
        assert b"".join(ranged.streaming_content) == plaintext[start:start + 1000]
        assert len(gets) == 1  # the records only: the size and header are remembered from the first read


def test_a_remembered_header_does_not_hide_a_replaced_or_deleted_object(client, incident, s3_evidence, investigator):
    plaintext = os.urandom(4 * sealed.CHUNK)
    clip, other = sealed_clip(incident, plaintext), sealed_clip(incident, os.urandom(4 * sealed.CHUNK))
    client.force_login(investigator)
    seek = {"HTTP_RANGE": f"bytes={2 * sealed.CHUNK}-{2 * sealed.CHUNK + 99}"}
    assert client.get(f"/evidence/{clip.code}/download/", **seek).status_code == 206  # its header remembered now

    bucket, key = s3_evidence.bucket, s3_evidence.key(clip.stored_name)
    replacement = s3_evidence.client.get_object(Bucket=bucket, Key=s3_evidence.key(other.stored_name))["Body"].read()
    s3_evidence.client.put_object(Bucket=bucket, Key=key, Body=replacement)  # behind connect's back
    assert client.get(f"/evidence/{clip.code}/download/", **seek).status_code == 409
    clip.refresh_from_db()
    assert clip.integrity_failed_at is not None

    s3_evidence.client.delete_object(Bucket=bucket, Key=key)
    type(clip).objects.filter(pk=clip.pk).update(integrity_failed_at=None)
    response = client.get(f"/evidence/{clip.code}/download/", **seek)
    assert response.status_code == 409 and b"missing" in response.content
