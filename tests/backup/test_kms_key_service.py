"""Master-key wrapping through AWS KMS (moto's standalone server, a real process speaking the KMS API): clips
sealed under a KMS key open, rotation (local to KMS, one KMS key to another) keeps every clip readable, and a key
service that cannot be reached refuses clearly, records it, and keeps nothing half-written."""

import os

import pytest
from django.core.management import call_command

from audit.actions import Action
from audit.models import AccessEntry
from common.key_service import KMS_PREFIX, kms_key_id
from requests_app.models import Clip
from tests.backup.conftest import VIDEO, download, shared_clip
from tests.conftest import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def kms_key(moto_kms, settings):
    key = moto_kms.create_key(Description="connect evidence")["KeyMetadata"]["Arn"]
    settings.KEY_SERVICE, settings.KMS_KEY_ID, settings.KMS_PREVIOUS_KEY_IDS = "aws-kms", key, []
    return key


def test_a_clip_sealed_under_a_kms_key_downloads_whole(client, investigator, kms_key):
    clip = shared_clip(client, investigator, email="o@example.org")

    assert clip.master_key_id == kms_key_id(kms_key) and clip.master_key_id.startswith(KMS_PREFIX)
    response, body = download(client, investigator, clip)
    assert response.status_code == 200 and body == VIDEO


def test_rotating_from_the_local_key_to_kms_and_between_kms_keys_keeps_clips_readable(client, investigator, moto_kms,
                                                                                      settings):
    kms = moto_kms
    clip = shared_clip(client, investigator, email="o@example.org")  # under the local key
    first = kms.create_key()["KeyMetadata"]["Arn"]
    settings.KEY_SERVICE, settings.KMS_KEY_ID = "aws-kms", first
    assert download(client, investigator, clip)[1] == VIDEO  # the local key still unwraps until rotation

    call_command("evidence_rotate_key")
    settings.EVIDENCE_KEY = os.urandom(32)  # the old local key is gone now
    assert Clip.objects.get(pk=clip.pk).master_key_id == kms_key_id(first)
    assert download(client, investigator, clip)[1] == VIDEO

    second = kms.create_key()["KeyMetadata"]["Arn"]
    settings.KMS_KEY_ID, settings.KMS_PREVIOUS_KEY_IDS = second, [first]
    call_command("evidence_rotate_key")
    settings.KMS_PREVIOUS_KEY_IDS = []
    assert Clip.objects.get(pk=clip.pk).master_key_id == kms_key_id(second)
    response, body = download(client, investigator, clip)
    assert response.status_code == 200 and body == VIDEO


def test_an_unreachable_key_service_refuses_clearly_records_it_and_keeps_nothing(client, investigator, kms_key,
                                                                                evidence_dir, settings):
    clip = shared_clip(client, investigator, email="o@example.org")
    settings.KMS_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"  # nothing listens there: the network is cut

    response, body = download(client, investigator, clip)
    assert response.status_code == 503 and b"cannot be opened just now" in body
    assert Clip.objects.get(pk=clip.pk).integrity_failed_at is None  # not taken for tampering
    failure = AccessEntry.objects.filter(action=Action.EVIDENCE_KEY_FAILED, target_code=str(clip.code)).get()
    assert "could not be reached" in failure.reason and failure.actor_label == "investigator"

    with pytest.raises(AssertionError):  # the owner's upload is refused with a message, not kept
        shared_clip(client, investigator, email="later@example.org")
    assert Clip.objects.count() == 1
    assert sorted(path.name for path in evidence_dir.iterdir()) == [clip.stored_name]
    upload_failure = AccessEntry.objects.filter(action=Action.EVIDENCE_KEY_FAILED).exclude(pk=failure.pk).get()
    assert upload_failure.detail["doing"] == "sealing an owner's upload"


def test_a_clip_whose_kms_key_is_not_configured_names_it(client, investigator, kms_key, settings):
    clip = shared_clip(client, investigator, email="o@example.org")
    settings.KMS_KEY_ID = "alias/another"

    response, body = download(client, investigator, clip)

    assert response.status_code == 503
    reason = AccessEntry.objects.filter(action=Action.EVIDENCE_KEY_FAILED).get().reason
    assert clip.master_key_id in reason and "CONNECT_KMS_PREVIOUS_KEY_IDS" in reason
