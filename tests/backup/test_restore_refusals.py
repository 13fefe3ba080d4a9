"""A backup set that cannot be restored whole is refused before anything changes, with a message naming why, and
the refusal is in the ledger. A backup that fails leaves no set behind."""

import base64
import json
import os

import pytest
from django.core.management import CommandError, call_command

from audit.actions import Action
from audit.models import AccessEntry
from backup import manifest
from backup.services import backup_create
from requests_app.models import Incident
from tests.backup.conftest import shared_clip
from tests.requests_app.factories import IncidentFactory

pytestmark = pytest.mark.django_db(transaction=True)


def _edit_manifest(folder, change):
    values = json.loads((folder / manifest.MANIFEST).read_bytes())
    change(values)
    manifest.write(folder, manifest.Manifest.from_json(json.dumps(values).encode()))  # signed again, as a forger can't


def from_a_newer_schema(folder, settings):
    _edit_manifest(folder, lambda values: values["migrations"]["requests_app"].append("0099_from_the_future"))
    return "newer schema than this code"


def with_a_part_missing(folder, settings):
    next((folder / "evidence").iterdir()).unlink()
    return "missing its part evidence/"


def with_a_part_altered(folder, settings):
    dump = folder / "database.dump"
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 1
    dump.write_bytes(bytes(data))
    return "part database.dump does not match the manifest"


def with_an_evidence_file_altered(folder, settings):
    clip_file = next((folder / "evidence").iterdir())
    data = bytearray(clip_file.read_bytes())
    data[-1] ^= 1  # same size: only its hash tells
    clip_file.write_bytes(bytes(data))
    return f"part evidence/{clip_file.name} does not match the manifest"


def with_a_master_key_missing(folder, settings):
    settings.EVIDENCE_KEY = os.urandom(32)  # the key the clips were wrapped with is configured no longer
    settings.EVIDENCE_PREVIOUS_KEYS = []
    return "which are not configured here"


def with_the_key_store_missing(folder, settings):
    settings.KEY_STORE_DIR = folder.parent / "not-mounted"
    return "the key store"


def edited_by_hand(folder, settings):
    data = (folder / manifest.MANIFEST).read_text().replace('"clips_alive": 1', '"clips_alive": 0')
    (folder / manifest.MANIFEST).write_text(data)
    return "signature does not match"


@pytest.mark.parametrize("spoil", [from_a_newer_schema, with_a_part_missing, with_a_part_altered,
                                   with_an_evidence_file_altered, with_a_master_key_missing,
                                   with_the_key_store_missing, edited_by_hand])
def test_a_set_that_cannot_be_restored_whole_is_refused_and_nothing_changes(client, investigator, smtp_sink, backups,
                                                                           evidence_dir, settings, spoil):
    shared_clip(client, investigator, email="o@example.org")
    folder = backup_create(destination=backups).folder
    made_after = IncidentFactory()
    files_before = sorted(path.name for path in evidence_dir.iterdir())
    expected = spoil(folder, settings)

    with pytest.raises(CommandError) as refused:
        call_command("restore", str(folder))

    assert "restore refused, nothing was changed" in str(refused.value) and expected in str(refused.value)
    assert Incident.objects.filter(pk=made_after.pk).exists()  # the database was not replaced
    assert sorted(path.name for path in evidence_dir.iterdir()) == files_before  # no staging folder left
    entry = AccessEntry.objects.filter(action=Action.BACKUP_RESTORE_REFUSED).get()
    assert expected in entry.reason


def test_a_backup_that_fails_leaves_no_set_and_is_recorded(client, investigator, smtp_sink, backups, monkeypatch):
    shared_clip(client, investigator, email="o@example.org")
    monkeypatch.setenv("PATH", "/nonexistent")  # no pg_dump to be found

    with pytest.raises(CommandError, match="backup failed, nothing was kept: pg_dump is not installed"):
        call_command("backup", str(backups))

    assert list(backups.iterdir()) == []
    entry = AccessEntry.objects.filter(action=Action.BACKUP_CREATED).get()
    assert entry.detail["ok"] is False and "pg_dump" in entry.reason


def test_check_only_looks(client, investigator, smtp_sink, backups, capsys):
    folder = backup_create(destination=backups).folder
    made_after = IncidentFactory()

    call_command("restore", str(folder), "--check")

    assert "can be restored here" in capsys.readouterr().out
    assert Incident.objects.filter(pk=made_after.pk).exists()


def test_the_manifest_names_every_part_the_schema_the_ledger_head_and_the_keys(client, investigator, smtp_sink,
                                                                              backups, settings):
    clip = shared_clip(client, investigator, email="o@example.org")
    result = backup_create(destination=backups)
    values = manifest.read(result.folder)

    assert set(values.parts) == {"database.dump", f"evidence/{clip.stored_name}"}
    assert "0001_initial" in values.migrations["requests_app"]
    head = AccessEntry.objects.filter(seq=values.ledger_head["seq"]).get()
    assert head.entry_hash == values.ledger_head["hash"]
    assert values.keys["master_key_ids"] == [clip.master_key_id] and values.keys["clips_alive"] == 1
    assert base64.b64encode(settings.EVIDENCE_KEY).decode() not in (result.folder / "manifest.json").read_text()
    assert not list(result.folder.glob("**/*.key"))  # nor a shred key: the key store is backed up apart
