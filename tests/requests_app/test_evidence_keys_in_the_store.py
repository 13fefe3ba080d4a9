"""Shred keys and the evidence store together: clips in a bucket (moto's standalone server) are shredded by their
shred key and their object; reads of every kind (ranged, the at-rest check, the commands) take their data key
through evidence_keys, so a clip whose shred key is gone (a restored backup) reads as deleted and a key store that
is not there is a temporary refusal, recorded, never an integrity failure."""

import os
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from audit.actions import Action
from audit.models import AccessEntry
from common import clip_keys, key_store
from requests_app import services
from requests_app.models import Clip
from tests.requests_app.factories import sealed_clip

pytestmark = pytest.mark.django_db


def shredded_since_the_backup(clip) -> None:
    """What a database restored from an older backup looks like: the row calls the clip whole, its key is gone."""
    clip_keys.clip_key_destroy(clip.code)


def test_retention_in_a_bucket_destroys_the_shred_key_and_the_object(incident, s3_evidence):
    clip = sealed_clip(incident, os.urandom(5000))
    assert clip.code in key_store.shred_key_codes() and s3_evidence.exists(clip.stored_name)
    incident.status, incident.closed_at = "closed", timezone.now() - timedelta(days=400)
    incident.save()

    assert services.clips_expired_purge() == 1

    assert clip.code not in key_store.shred_key_codes()
    assert not s3_evidence.exists(clip.stored_name)


def test_a_ranged_read_of_a_clip_destroyed_since_is_the_deleted_page_and_its_object_goes(
        client, incident, investigator, s3_evidence):
    clip = sealed_clip(incident, os.urandom(5000))
    shredded_since_the_backup(clip)
    client.force_login(investigator)

    response = client.get(f"/evidence/{clip.code}/download/", HTTP_RANGE="bytes=100-199")

    assert response.status_code == 410 and b"This clip was deleted" in response.content
    clip.refresh_from_db()
    assert clip.purged_at is not None and clip.integrity_failed_at is None
    assert not s3_evidence.exists(clip.stored_name)
    assert AccessEntry.objects.filter(action=Action.CLIP_PURGED, target_code=str(clip.code)).count() == 1


def test_a_ranged_read_with_the_key_store_gone_is_refused_for_now_and_recorded(client, incident, investigator,
                                                                             s3_evidence, settings, tmp_path):
    clip = sealed_clip(incident, os.urandom(5000))
    settings.KEY_STORE_DIR = tmp_path / "not-mounted"
    settings.DEMO = False  # production: a missing key store is never replaced by an empty folder
    client.force_login(investigator)

    response = client.get(f"/evidence/{clip.code}/download/", HTTP_RANGE="bytes=0-99")

    assert response.status_code == 503 and b"cannot be opened just now" in response.content
    clip.refresh_from_db()
    assert clip.purged_at is None and clip.integrity_failed_at is None
    assert AccessEntry.objects.filter(action=Action.EVIDENCE_KEY_FAILED, target_code=str(clip.code)).exists()
    assert not AccessEntry.objects.filter(action=Action.CLIP_VIEWED).exists()


def test_the_at_rest_check_marks_a_destroyed_clip_purged_instead_of_failing_it(incident, s3_evidence, capsys):
    whole, destroyed = sealed_clip(incident, os.urandom(3000)), sealed_clip(incident, os.urandom(3000))
    shredded_since_the_backup(destroyed)

    assert services.clips_verify_due(budget_bytes=10**9) == (1, 0)

    destroyed.refresh_from_db()
    assert destroyed.purged_at is not None and destroyed.integrity_failed_at is None
    assert not s3_evidence.exists(destroyed.stored_name) and s3_evidence.exists(whole.stored_name)
    call_command("evidence_verify")  # the destroyed clip is purged now: only the whole one is checked
    assert f"clip {whole.code}: verified" in capsys.readouterr().out


def test_the_verify_command_names_a_destroyed_clip_and_stops_on_a_key_store_that_is_gone(
        incident, s3_evidence, capsys, settings, tmp_path):
    clip = sealed_clip(incident, os.urandom(3000))
    shredded_since_the_backup(clip)
    call_command("evidence_verify")
    assert f"clip {clip.code}: destroyed" in capsys.readouterr().out

    other = sealed_clip(incident, os.urandom(3000))
    settings.KEY_STORE_DIR = tmp_path / "not-mounted"
    settings.DEMO = False
    with pytest.raises(CommandError, match=f"the evidence key service failed at clip {other.code}"):
        call_command("evidence_verify")
    assert Clip.objects.get(pk=other.pk).integrity_failed_at is None
    assert AccessEntry.objects.filter(action=Action.EVIDENCE_KEY_FAILED, target_code=str(other.code)).exists()
