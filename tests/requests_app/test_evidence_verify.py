"""The at-rest check: whole clips re-hashed against the SHA-256 taken at upload, a bounded slice per run, the
clips checked longest ago first; recorded, and a mismatch flagged."""

import os

import pytest
from django.core.management import CommandError, call_command

from audit.models import AccessEntry
from requests_app import services
from tests.requests_app.factories import sealed_clip

pytestmark = pytest.mark.django_db


def test_each_run_checks_a_slice_oldest_first_until_every_clip_came_round(incident):
    first, second = sealed_clip(incident, os.urandom(2000)), sealed_clip(incident, os.urandom(2000))

    assert services.clips_verify_due(budget_bytes=1) == (1, 0)  # the budget allows one clip
    first.refresh_from_db()
    assert first.verified_at is not None
    assert services.clips_verify_due(budget_bytes=1) == (1, 0)
    second.refresh_from_db()
    assert second.verified_at is not None  # never checked came before checked once
    assert AccessEntry.objects.filter(action="clip.verified").count() == 2


def test_an_altered_clip_is_flagged_recorded_and_the_command_fails(incident, evidence_dir, capsys):
    good, bad = sealed_clip(incident, os.urandom(3000)), sealed_clip(incident, os.urandom(3000))
    path = evidence_dir / bad.stored_name
    data = bytearray(path.read_bytes())
    data[-20] ^= 1
    path.write_bytes(bytes(data))

    with pytest.raises(CommandError, match="1 clip"):
        call_command("evidence_verify")

    out = capsys.readouterr()
    assert f"clip {good.code}: verified" in out.out and f"clip {bad.code}: FAILED" in out.err
    bad.refresh_from_db()
    assert bad.integrity_failed_at is not None and bad.verified_at is None
    assert AccessEntry.objects.filter(action="clip.integrity_failed", target_code=str(bad.code)).exists()
