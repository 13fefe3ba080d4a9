"""A key store that is not mounted refuses clips clearly, records it, and keeps nothing half-written."""

import pytest

from audit.actions import Action
from audit.models import AccessEntry
from backup import database
from requests_app.models import Clip
from tests.backup.conftest import download, shared_clip

pytestmark = pytest.mark.django_db


def test_an_unmounted_key_store_refuses_downloads_and_uploads_and_records_it(client, investigator, settings,
                                                                             tmp_path, evidence_dir):
    clip = shared_clip(client, investigator, email="o@example.org")
    settings.KEY_STORE_DIR = tmp_path / "not-mounted"
    settings.DEMO = False  # production: a missing key store is never replaced by a fresh empty folder

    response, body = download(client, investigator, clip)
    assert response.status_code == 503 and b"cannot be opened just now" in body
    assert Clip.objects.get(pk=clip.pk).purged_at is None  # not mistaken for a destroyed clip
    failure = AccessEntry.objects.filter(action=Action.EVIDENCE_KEY_FAILED).get()
    assert "is missing" in failure.reason and "CONNECT_KEY_STORE_DIR" in failure.reason

    with pytest.raises(AssertionError):
        shared_clip(client, investigator, email="later@example.org")
    assert Clip.objects.count() == 1
    assert sorted(path.name for path in evidence_dir.iterdir()) == [clip.stored_name]
    assert AccessEntry.objects.filter(action=Action.EVIDENCE_KEY_FAILED).count() == 2
    assert not settings.KEY_STORE_DIR.exists()


def test_the_database_password_reaches_pg_tools_through_a_private_passfile(monkeypatch):
    from django.db import connection

    monkeypatch.setitem(connection.settings_dict, "PASSWORD", "s3cret:with\\odd'chars")
    with database._conninfo() as conninfo:
        assert "s3cret" not in conninfo
        passfile = conninfo.split("passfile='")[1].rstrip("'")
        from pathlib import Path

        line = Path(passfile).read_text().strip()
        assert line.endswith(":s3cret\\:with\\\\odd'chars") and Path(passfile).stat().st_mode & 0o077 == 0


def test_a_shred_key_the_purge_could_not_destroy_is_destroyed_by_the_next_run(client, investigator, smtp_sink,
                                                                              monkeypatch):
    from common import clip_keys, key_store
    from requests_app import services

    clip = shared_clip(client, investigator, email="o@example.org", closed_days_ago=31, keep_days=30)

    def store_down(code):
        raise key_store.KeyStoreError("the key store cannot destroy a key: Read-only file system")

    with monkeypatch.context() as patch:
        patch.setattr(clip_keys.key_store, "shred_key_destroy", store_down)
        assert services.clips_expired_purge() == 1  # the row is purged; the key could not be destroyed yet
    assert clip.code in key_store.shred_key_codes()

    assert services.clips_expired_purge() == 0
    assert clip.code not in key_store.shred_key_codes()
