"""A clip shredded after a backup stays unreadable once that backup is restored, by `manage.py restore` or by
pg_restore by hand; the other clips come back whole, and the ledger verifies and tells what happened."""

import hashlib
import shutil
import time

import pytest
from django.core.management import call_command

from audit.actions import Action
from audit.ledger import verify
from audit.models import AccessEntry
from backup import database
from backup.services import backup_create
from common import clip_keys
from requests_app import services
from requests_app.models import Clip
from tests.backup.conftest import VIDEO, download, shared_clip

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def two_clips(client, investigator, smtp_sink):
    expiring = shared_clip(client, investigator, email="gone@example.org", closed_days_ago=31, keep_days=30)
    kept = shared_clip(client, investigator, email="kept@example.org")
    return expiring, kept


def purge_entries(clip) -> list[str]:
    return list(AccessEntry.objects.filter(target_code=str(clip.code), action=Action.CLIP_PURGED)
                .values_list("reason", flat=True))


def test_a_clip_shredded_after_a_backup_stays_destroyed_after_restoring_it(client, investigator, two_clips, backups):
    expiring, kept = two_clips
    backup = backup_create(destination=backups).folder
    assert services.clips_expired_purge() == 1  # shredded after the backup
    shredded_at = Clip.objects.get(pk=expiring.pk).purged_at
    time.sleep(1.1)  # a restore later than the purge

    call_command("restore", str(backup))

    expiring.refresh_from_db()
    assert expiring.purged_at is not None and expiring.wrapped_key is None
    # Its page says when it was deleted: the purge's time (carried in the ledger), not the restore's.
    assert abs((expiring.purged_at - shredded_at).total_seconds()) < 1
    response, body = download(client, investigator, expiring)
    assert response.status_code == 410 and b"This clip was deleted" in body
    # The retention purge's own entry, carried over from the live ledger: recorded once, not twice.
    assert purge_entries(expiring) == [""]
    response, body = download(client, investigator, kept)
    assert response.status_code == 200 and body == VIDEO
    assert response["X-Content-SHA256"] == hashlib.sha256(VIDEO).hexdigest() == Clip.objects.get(pk=kept.pk).sha256
    assert AccessEntry.objects.filter(action=Action.BACKUP_RESTORED).exists()
    assert verify().ok
    call_command("audit_verify")  # exits 1 on a broken chain


def test_a_database_restored_by_hand_with_pg_restore_cannot_open_the_shredded_clip(client, investigator, two_clips,
                                                                                   backups, evidence_dir):
    expiring, kept = two_clips
    backup = backup_create(destination=backups).folder
    services.clips_expired_purge()

    database.restore(backup / database.DUMP)  # what an operator's pg_restore does: no reconcile, no ledger carried
    for file in (backup / "evidence").iterdir():
        shutil.copy(file, evidence_dir / file.name)
    expiring.refresh_from_db()
    assert expiring.purged_at is None and expiring.wrapped_key is not None  # the old row, key and all
    with pytest.raises(clip_keys.ClipKeyDestroyed):  # every master key is still configured: not enough
        clip_keys.clip_key_unwrap(bytes(expiring.wrapped_key), master_id=expiring.master_key_id, code=expiring.code)

    response, body = download(client, investigator, expiring)
    assert response.status_code == 410 and b"This clip was deleted" in body
    assert len(purge_entries(expiring)) == 1  # this restored ledger did not know it: recorded now
    assert not (evidence_dir / expiring.stored_name).exists()
    response, body = download(client, investigator, kept)
    assert response.status_code == 200 and body == VIDEO
    call_command("audit_verify")


def test_reconcile_after_a_hand_restore_marks_every_destroyed_clip_at_once(client, investigator, two_clips, backups,
                                                                          capsys):
    expiring, kept = two_clips
    backup = backup_create(destination=backups).folder
    services.clips_expired_purge()
    database.restore(backup / database.DUMP)

    call_command("restore", "--reconcile-only")

    assert "1 clip(s)" in capsys.readouterr().out
    assert Clip.objects.get(pk=expiring.pk).purged_at is not None
    assert Clip.objects.get(pk=kept.pk).purged_at is None


def test_entries_pending_in_the_dump_and_sealed_since_are_not_left_pending_twice(client, investigator, two_clips,
                                                                                backups, monkeypatch):
    from audit.ledger import record, seal, writing
    from audit.models import PendingEntry

    with monkeypatch.context() as patch:
        patch.setattr(writing, "_seal_after_commit", lambda ids: None)  # a writer that died before sealing
        record(actor=None, action=Action.EVIDENCE_KEY_ROTATED, target_type="evidence", clips=0)
        patch.setattr("backup.services.seal", lambda: 0)  # and nothing sealed it before the dump
        backup = backup_create(destination=backups).folder
    assert PendingEntry.objects.count() == 2  # with the backup's own entry, recorded after the dump
    seal()  # the live ledger seals it after the backup

    call_command("restore", str(backup))

    assert PendingEntry.objects.count() == 0
    assert AccessEntry.objects.filter(action=Action.EVIDENCE_KEY_ROTATED).count() == 1
    call_command("audit_verify")
