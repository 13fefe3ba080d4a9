"""The evidence stores (common/evidence_store): the S3 one against moto's standalone server, a real process."""

import os

import pytest

from common.evidence_store import EvidenceMissing, EvidenceStoreError
from common.evidence_store.local import LocalStore
from common.sealed import CHUNK, DecryptingReader, EncryptingWriter


def sealed_file(path, size: int) -> tuple[bytes, EncryptingWriter]:
    plaintext = os.urandom(size)
    writer = EncryptingWriter(str(path))
    writer.write(plaintext)
    writer.close()
    return plaintext, writer


def test_a_multipart_clip_goes_up_sealed_and_reads_back_in_any_range(s3_evidence, tmp_path):
    plaintext, writer = sealed_file(tmp_path / "staged.cnev", 3 * CHUNK * 4 + 12345)  # > two 5 MiB parts
    sealed = (tmp_path / "staged.cnev").read_bytes()

    s3_evidence.adopt(tmp_path / "staged.cnev", "clip.cnev")

    assert not (tmp_path / "staged.cnev").exists()
    stored = s3_evidence.client.get_object(Bucket=s3_evidence.bucket, Key="clips/clip.cnev")["Body"].read()
    assert stored == sealed and plaintext[:4096] not in stored  # the envelope, never plaintext
    reader = DecryptingReader(s3_evidence.open("clip.cnev"), writer.data_key)
    try:
        assert b"".join(reader.chunks()) == plaintext
        for start, stop in ((0, 1), (CHUNK - 3, CHUNK + 3), (5 * CHUNK + 7, 9 * CHUNK), (len(plaintext) - 9,
                                                                                        len(plaintext))):
            assert b"".join(reader.plaintext_range(start, stop)) == plaintext[start:stop]
    finally:
        reader.close()
    assert list(s3_evidence.names()) == ["clip.cnev"]
    assert s3_evidence.health()["ok"] is True
    s3_evidence.delete("clip.cnev")
    assert list(s3_evidence.names()) == [] and not s3_evidence.exists("clip.cnev")


def test_a_missing_object_is_reported_as_missing(s3_evidence):
    with pytest.raises(EvidenceMissing, match="missing"):
        s3_evidence.open("nothing.cnev")
    s3_evidence.delete("nothing.cnev")  # a purge run again is no error


def test_a_bucket_that_refuses_writes_leaves_nothing_and_keeps_the_staged_file(s3_evidence, tmp_path):
    sealed_file(tmp_path / "staged.cnev", 100)
    s3_evidence.client.delete_bucket(Bucket=s3_evidence.bucket)

    with pytest.raises(EvidenceStoreError, match="NoSuchBucket"):
        s3_evidence.adopt(tmp_path / "staged.cnev", "clip.cnev")
    assert (tmp_path / "staged.cnev").exists()  # nothing lost: the caller decides
    assert s3_evidence.health()["ok"] is False


def test_a_network_cut_mid_upload_aborts_and_completes_nothing(s3_evidence, moto_server, tmp_path, monkeypatch):
    sealed_file(tmp_path / "staged.cnev", 12 * CHUNK)
    sent = []
    upload_part = s3_evidence.client.upload_part

    def cut_after_first_part(**kwargs):
        if sent:
            moto_server.kill()  # the server goes away between parts, as a cable pulled mid-transfer would
        sent.append(kwargs["PartNumber"])
        return upload_part(**kwargs)

    monkeypatch.setattr(s3_evidence.client, "upload_part", cut_after_first_part)
    with pytest.raises(EvidenceStoreError, match="storing clip.cnev"):
        s3_evidence.adopt(tmp_path / "staged.cnev", "clip.cnev")
    assert (tmp_path / "staged.cnev").exists()
    moto_server.start()  # an empty server: whatever it held died with it; nothing was completed before


def test_an_aborted_multipart_upload_leaves_no_parts(s3_evidence, tmp_path, monkeypatch):
    sealed_file(tmp_path / "staged.cnev", 12 * CHUNK)
    complete = s3_evidence.client.complete_multipart_upload

    def refuse(**kwargs):
        raise s3_evidence.client.exceptions.ClientError(
            {"Error": {"Code": "AccessDenied", "Message": "writes refused"}}, "CompleteMultipartUpload")

    monkeypatch.setattr(s3_evidence.client, "complete_multipart_upload", refuse)
    with pytest.raises(EvidenceStoreError, match="AccessDenied"):
        s3_evidence.adopt(tmp_path / "staged.cnev", "clip.cnev")
    monkeypatch.setattr(s3_evidence.client, "complete_multipart_upload", complete)
    assert s3_evidence.incomplete_uploads() == [] and list(s3_evidence.names()) == []


def test_an_unreachable_bucket_is_a_clear_error_not_a_hang(s3_evidence, settings):
    from tests.conftest import free_port

    settings.EVIDENCE_S3_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"  # nobody listens
    from common.evidence_store import evidence_store

    store = evidence_store()
    with pytest.raises(EvidenceStoreError, match="failed reading clip.cnev"):
        store.open("clip.cnev")
    health = store.health()
    assert health["ok"] is False and health["detail"].startswith(f"bucket {store.bucket}:")


def test_the_local_store_reports_free_space_and_lists_its_files(tmp_path):
    store = LocalStore(tmp_path / "evidence")
    health = store.health()
    assert health["ok"] and health["free_bytes"] > 0
    plaintext, _ = sealed_file(tmp_path / "staged.cnev", 10)
    store.adopt(tmp_path / "staged.cnev", "a.cnev")  # another folder: copied, synced, renamed
    assert list(store.names()) == ["a.cnev"] and not (tmp_path / "staged.cnev").exists()
    with pytest.raises(EvidenceMissing):
        store.open("b.cnev")


def _feed(writer, store_upload, total: int, piece: int = 1024 * 1024) -> bytes:
    plaintext = os.urandom(total)
    for offset in range(0, total, piece):
        writer.write(plaintext[offset:offset + piece])
        store_upload.advance(writer.sealed_size())
    return plaintext


def test_a_sealed_upload_goes_to_the_bucket_in_parts_while_it_arrives(s3_evidence, tmp_path):
    from tests.conftest import wait_for

    writer = EncryptingWriter(str(tmp_path / "incoming.cnev"))
    upload = s3_evidence.streaming_upload("clip.cnev", writer.path)
    plaintext = _feed(writer, upload, 13 * CHUNK)

    # Two whole 5 MiB parts were sealed before the end: they are in the bucket before the upload is finished.
    assert wait_for(lambda: upload.sent_parts == 2)
    assert list(s3_evidence.names()) == []  # nothing visible yet
    writer.close()
    upload.complete()

    stored = s3_evidence.client.get_object(Bucket=s3_evidence.bucket, Key="clips/clip.cnev")["Body"].read()
    assert stored == (tmp_path / "incoming.cnev").read_bytes()
    reader = DecryptingReader(s3_evidence.open("clip.cnev"), writer.data_key)
    assert b"".join(reader.chunks()) == plaintext
    reader.close()


def test_an_abandoned_upload_is_aborted_with_its_parts(s3_evidence, tmp_path):
    from tests.conftest import wait_for

    writer = EncryptingWriter(str(tmp_path / "incoming.cnev"))
    upload = s3_evidence.streaming_upload("clip.cnev", writer.path)
    _feed(writer, upload, 12 * CHUNK)
    assert wait_for(lambda: upload.sent_parts >= 1)

    upload.abort()  # the client went away

    assert wait_for(lambda: s3_evidence.incomplete_uploads() == [])
    assert list(s3_evidence.names()) == []


def test_a_cut_mid_upload_is_an_error_at_completion_and_nothing_is_visible(s3_evidence, moto_server, tmp_path):
    writer = EncryptingWriter(str(tmp_path / "incoming.cnev"))
    upload = s3_evidence.streaming_upload("clip.cnev", writer.path)
    _feed(writer, upload, 3 * CHUNK)
    moto_server.kill()  # the network is cut before the first part is due
    _feed(writer, upload, 9 * CHUNK)
    writer.close()

    with pytest.raises(EvidenceStoreError, match="storing clip.cnev"):
        upload.complete()
    moto_server.start()


def test_a_bucket_that_never_answers_fails_after_the_timeout_with_a_message(s3_evidence, settings):
    import socket

    from common.evidence_store import evidence_store

    silent = socket.socket()  # accepts connections (the kernel does) and never says a word
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    try:
        settings.EVIDENCE_S3_ENDPOINT_URL = f"http://127.0.0.1:{silent.getsockname()[1]}"
        settings.EVIDENCE_S3_TIMEOUT_SECONDS = 1
        with pytest.raises(EvidenceStoreError, match="failed reading clip.cnev: .*[Tt]imeout"):
            evidence_store().open("clip.cnev")
    finally:
        silent.close()
