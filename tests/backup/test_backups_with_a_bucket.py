"""Backups with the evidence in an S3-compatible bucket (moto's standalone server, a real process): a set reads the
clips from the bucket, a restore writes them back into it (or into a bucket from a set taken from the local
folder), every file checked against the manifest first; a clip shredded since the backup stays destroyed, and its
object goes. A bucket that fails is a clear message and a set left behind by nobody."""

import hashlib

import pytest
from django.core.management import CommandError, call_command

from audit.actions import Action
from audit.models import AccessEntry
from backup import manifest
from backup.services import backup_create
from requests_app import services
from requests_app.models import Clip
from tests.backup.conftest import VIDEO, download, shared_clip

pytestmark = pytest.mark.django_db(transaction=True)


def stored_bytes(store, name: str) -> bytes:
    return store.client.get_object(Bucket=store.bucket, Key=store.key(name))["Body"].read()


def test_a_backup_of_a_bucket_restores_into_it_and_the_shredded_clip_stays_destroyed(
        client, investigator, smtp_sink, backups, evidence_dir, s3_evidence):
    expiring = shared_clip(client, investigator, email="gone@example.org", closed_days_ago=31, keep_days=30)
    kept = shared_clip(client, investigator, email="kept@example.org")
    in_bucket = {name: stored_bytes(s3_evidence, name) for name in (expiring.stored_name, kept.stored_name)}
    assert not list(evidence_dir.glob("*.cnev"))  # the clips live in the bucket only

    folder = backup_create(destination=backups).folder

    parts = manifest.read(folder).parts
    for name, data in in_bucket.items():  # the set holds the bucket's objects, byte for byte
        assert (folder / "evidence" / name).read_bytes() == data
        assert parts[f"evidence/{name}"] == manifest.Part(hashlib.sha256(data).hexdigest(), len(data))
    assert services.clips_expired_purge() == 1  # shredded after the backup: its object is deleted
    assert not s3_evidence.exists(expiring.stored_name)
    s3_evidence.delete(kept.stored_name)  # and the bucket lost the other one

    call_command("restore", str(folder))

    assert stored_bytes(s3_evidence, kept.stored_name) == in_bucket[kept.stored_name]
    response, body = download(client, investigator, Clip.objects.get(pk=kept.pk))
    assert response.status_code == 200 and body == VIDEO
    assert not s3_evidence.exists(expiring.stored_name)  # restored, then removed: its shred key is gone
    response, body = download(client, investigator, Clip.objects.get(pk=expiring.pk))
    assert response.status_code == 410 and b"This clip was deleted" in body
    assert not list(evidence_dir.glob("*.cnev")) and not list(evidence_dir.glob(".restoring-*"))
    restored = AccessEntry.objects.filter(action=Action.BACKUP_RESTORED).get()
    assert restored.detail["evidence_files"] == 2 and restored.detail["clips_destroyed"] == 1
    assert AccessEntry.objects.filter(action=Action.CLIP_PURGED, target_code=str(expiring.code)).count() == 1
    call_command("audit_verify")


def test_a_set_taken_from_the_local_folder_restores_into_a_bucket(client, investigator, smtp_sink, backups,
                                                                  evidence_dir, request):
    clip = shared_clip(client, investigator, email="o@example.org")
    sealed = (evidence_dir / clip.stored_name).read_bytes()
    folder = backup_create(destination=backups).folder
    bucket = request.getfixturevalue("s3_evidence")  # the deployment moves to a bucket, and restores there

    call_command("restore", str(folder))

    assert list(bucket.names()) == [clip.stored_name] and stored_bytes(bucket, clip.stored_name) == sealed
    response, body = download(client, investigator, clip)
    assert response.status_code == 200 and body == VIDEO


def test_an_altered_evidence_file_is_refused_before_the_bucket_or_the_database_changes(
        client, investigator, smtp_sink, backups, s3_evidence):
    clip = shared_clip(client, investigator, email="o@example.org")
    folder = backup_create(destination=backups).folder
    s3_evidence.delete(clip.stored_name)
    set_file = folder / "evidence" / clip.stored_name
    data = bytearray(set_file.read_bytes())
    data[-1] ^= 1  # same size: only its hash tells
    set_file.write_bytes(bytes(data))
    made_after = shared_clip(client, investigator, email="later@example.org")

    with pytest.raises(CommandError, match=f"restore refused, nothing was changed: the part evidence/{clip.stored_name}"
                                           " does not match the manifest"):
        call_command("restore", str(folder))

    assert sorted(s3_evidence.names()) == [made_after.stored_name]  # nothing written into the bucket
    assert Clip.objects.filter(pk=made_after.pk).exists()  # the database was not replaced


def test_a_backup_from_a_bucket_that_is_down_fails_leaves_no_set_and_is_recorded(
        client, investigator, smtp_sink, backups, s3_evidence, moto_server, settings):
    shared_clip(client, investigator, email="o@example.org")
    settings.EVIDENCE_S3_TIMEOUT_SECONDS = 1
    moto_server.kill()  # the bucket's service is unreachable

    with pytest.raises(CommandError, match="backup failed, nothing was kept: the evidence store could not be listed"):
        call_command("backup", str(backups))

    assert list(backups.iterdir()) == []
    entry = AccessEntry.objects.filter(action=Action.BACKUP_CREATED).get()
    assert entry.detail["ok"] is False and "bucket" in entry.reason
