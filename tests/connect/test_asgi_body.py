"""Request bodies under ASGI: large ones spill to disk sealed, never in plaintext."""

import os
import stat

import pytest

from connect.asgi_body import SealedSpool
from tests.own_loop import run_async


@pytest.fixture
def tmpdir_setting(settings, tmp_path):
    settings.SPOOL_DIR = tmp_path
    return tmp_path


def test_a_large_body_is_read_back_exactly_and_never_stored_in_plaintext(tmpdir_setting):
    marker = b"PLAINTEXT-MARKER-" * 4096
    spool = SealedSpool(memory_limit=1024, hard_limit=10 * 1024 * 1024)
    for _ in range(40):
        spool.write(marker)
    [spilled] = os.listdir(tmpdir_setting)
    assert b"PLAINTEXT-MARKER" not in (tmpdir_setting / spilled).read_bytes()
    assert stat.S_IMODE((tmpdir_setting / spilled).stat().st_mode) == 0o600  # connect's user only

    spool.rewind()
    assert spool.read() == marker * 40
    spool.close()
    assert os.listdir(tmpdir_setting) == []


def test_a_small_body_stays_in_memory(tmpdir_setting):
    spool = SealedSpool(memory_limit=1024, hard_limit=4096)
    spool.write(b"a=1&b=2")
    spool.rewind()
    assert spool.read() == b"a=1&b=2" and os.listdir(tmpdir_setting) == []


def test_an_oversized_body_is_drained_kept_nowhere_and_flagged(tmpdir_setting):
    spool = SealedSpool(memory_limit=1024, hard_limit=8192)
    for _ in range(10):
        spool.write(b"x" * 4096)
    spool.rewind()
    assert spool.oversize and spool.read() == b""
    assert os.listdir(tmpdir_setting) == []


@pytest.mark.django_db(transaction=True)
def test_a_client_that_disconnects_mid_upload_leaves_nothing(tmpdir_setting):
    from django.core.exceptions import RequestAborted

    from connect.asgi_body import SealedBodyASGIHandler

    messages = [{"type": "http.request", "body": b"y" * 100_000, "more_body": True}, {"type": "http.disconnect"}]

    async def receive():
        return messages.pop(0)

    with pytest.raises(RequestAborted):
        run_async(SealedBodyASGIHandler().read_body(receive))
    assert os.listdir(tmpdir_setting) == []
