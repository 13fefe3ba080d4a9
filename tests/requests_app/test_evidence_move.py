"""manage.py evidence_move_to_bucket: local clips into the bucket (moto's standalone server), each verified by its
whole SHA-256 read back from the bucket; resumable, idempotent, one line per clip."""

import os

import pytest
from django.core.management import CommandError, call_command

from audit.models import AccessEntry
from tests.requests_app.factories import sealed_clip

pytestmark = pytest.mark.django_db


@pytest.fixture
def local_clips(incident, s3_evidence, settings):
    """Three clips in the local folder, made before the store was switched to the bucket."""
    bucket = settings.EVIDENCE_STORAGE
    settings.EVIDENCE_STORAGE = {"kind": "local", "bucket": "", "prefix": ""}
    contents = [os.urandom(size) for size in (10, 3 * 1024 * 1024, 7 * 1024 * 1024 + 3)]  # one in two parts
    clips = [sealed_clip(incident, content) for content in contents]
    settings.EVIDENCE_STORAGE = bucket
    return list(zip(clips, contents, strict=True))


def move(capsys, *args):
    try:
        call_command("evidence_move_to_bucket", *args)
        failed = False
    except CommandError:
        failed = True
    out = capsys.readouterr()
    return failed, out.out + out.err


def test_every_clip_is_moved_verified_and_reported_and_a_second_run_sends_nothing(
        local_clips, s3_evidence, evidence_dir, capsys, client, investigator):
    failed, report = move(capsys)
    assert not failed
    for clip, _ in local_clips:
        assert f"clip {clip.code} ({clip.size} bytes): moved" in report
    assert sorted(s3_evidence.names()) == sorted(clip.stored_name for clip, _ in local_clips)
    for action in ("clip.moved", "clip.verified"):
        assert AccessEntry.objects.filter(action=action).count() == 3

    failed, report = move(capsys)  # idempotent: checked again, nothing sent
    assert not failed and report.count(": verified") == 3 and AccessEntry.objects.filter(
        action="clip.moved").count() == 3

    failed, report = move(capsys, "--remove-local")
    assert not failed and not list(evidence_dir.glob("*.cnev"))
    failed, report = move(capsys)
    assert not failed and report.count(": moved earlier") == 3

    clip, content = local_clips[2]
    client.force_login(investigator)
    response = client.get(f"/evidence/{clip.code}/download/")
    assert b"".join(response.streaming_content) == content  # now read from the bucket


def test_a_bucket_refusing_writes_fails_loudly_keeps_the_local_files_and_a_rerun_finishes(
        local_clips, s3_evidence, evidence_dir, capsys):
    s3_evidence.client.delete_bucket(Bucket=s3_evidence.bucket)
    failed, report = move(capsys, "--remove-local")
    assert failed and report.count(": failed") == 3 and "NoSuchBucket" in report
    assert len(list(evidence_dir.glob("*.cnev"))) == 3
    assert AccessEntry.objects.filter(action="evidence.store_failed").count() == 3

    s3_evidence.client.create_bucket(Bucket=s3_evidence.bucket)
    failed, report = move(capsys, "--remove-local")
    assert not failed and report.count(": moved") == 3 and not list(evidence_dir.glob("*.cnev"))


def test_an_altered_local_file_is_not_moved_over_and_is_flagged(local_clips, s3_evidence, evidence_dir, capsys):
    clip, _ = local_clips[1]
    path = evidence_dir / clip.stored_name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    path.write_bytes(bytes(data))

    failed, report = move(capsys, "--remove-local")

    assert failed and f"clip {clip.code} ({clip.size} bytes): failed" in report
    assert path.exists()  # never removed without a verified copy
    clip.refresh_from_db()
    assert clip.integrity_failed_at is not None


def test_the_command_refuses_without_a_bucket(capsys, settings):
    settings.EVIDENCE_STORAGE = {"kind": "local", "bucket": "", "prefix": ""}
    with pytest.raises(CommandError, match="CONNECT_EVIDENCE_STORAGE"):
        call_command("evidence_move_to_bucket")
