"""Warrants and court orders at rest: sealed like evidence (common/sealed.py), in a folder of their own beside the
clips; the data key wrapped by the key service and bound to the warrant's stored name."""

import secrets
from pathlib import Path

from django.conf import settings

from common import sealed
from common.private_files import private_folder

MAX_BYTES = 50 * 1024 * 1024  # a scanned order is a few megabytes


def _folder() -> Path:
    return private_folder(Path(settings.EVIDENCE_DIR) / "warrants")


def _context(stored_name: str) -> bytes:
    return b"warrant:" + stored_name.encode()


def seal_upload(upload) -> dict:
    """Seals an uploaded file; returns the Warrant fields describing it. ValueError for an empty or huge file."""
    if upload.size == 0:
        raise ValueError("The warrant file is empty.")
    if upload.size > MAX_BYTES:
        raise ValueError("The warrant file is larger than 50 MB.")
    stored_name = secrets.token_hex(20)
    writer = sealed.EncryptingWriter(str(_folder() / stored_name))
    try:
        for chunk in upload.chunks():
            writer.write(chunk)
        writer.close()
        master_key_id, wrapped = sealed.wrap_key(writer.data_key, context=_context(stored_name))
    except BaseException:
        writer.abort()
        raise
    writer.lease.release()
    return {"original_name": upload.name[:255], "size": writer.size, "sha256": writer.sha256.hexdigest(),
            "stored_name": stored_name, "master_key_id": master_key_id, "wrapped_key": wrapped}


def read(warrant) -> bytes:
    """The warrant's plaintext, every record authenticated (EvidenceIntegrityError if altered)."""
    data_key = sealed.unwrap_key(bytes(warrant.wrapped_key), master_id=warrant.master_key_id,
                                 context=_context(warrant.stored_name))
    reader = sealed.DecryptingReader(str(_folder() / warrant.stored_name), data_key)
    try:
        return b"".join(reader.chunks())
    finally:
        reader.close()
