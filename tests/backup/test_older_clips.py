"""Clips sealed before the shred key store existed stay readable, and evidence_rotate_key gives them a shred key,
after which destroying it destroys the clip."""

import pytest
from django.core.management import call_command

from common import clip_keys, key_store
from common import sealed as crypto
from requests_app.models import Clip
from tests.backup.conftest import VIDEO, download, shared_clip

pytestmark = pytest.mark.django_db


def made_before_the_key_store(clip: Clip) -> None:
    data_key = clip_keys.clip_key_unwrap(bytes(clip.wrapped_key), master_id=clip.master_key_id, code=clip.code)
    master_id, wrapped = crypto.wrap_key(data_key, context=clip.code.bytes)  # the data key under the master key only
    Clip.objects.filter(pk=clip.pk).update(master_key_id=master_id, wrapped_key=wrapped)
    key_store.shred_key_destroy(clip.code)


def test_an_older_clip_opens_and_gets_a_shred_key_on_rotation(client, investigator, capsys):
    clip = shared_clip(client, investigator, email="o@example.org")
    made_before_the_key_store(clip)
    assert download(client, investigator, clip)[1] == VIDEO  # no shred key needed

    call_command("evidence_rotate_key")

    assert "gave 1 older clip(s) a shred key" in capsys.readouterr().out
    assert clip.code in key_store.shred_key_codes()
    assert download(client, investigator, clip)[1] == VIDEO
    key_store.shred_key_destroy(clip.code)
    response, body = download(client, investigator, clip)
    assert response.status_code == 410 and b"This clip was deleted" in body
