"""Built letter PDFs at rest: sealed like evidence (common/sealed.py) in a folder of their own beside the clips, the
data key wrapped by the key service and bound to the file's stored name. A PDF of a campaign lists every address
and code it invites, so it is never left in plain text on disk."""

import secrets
from pathlib import Path

from django.conf import settings

from common import sealed
from common.private_files import private_folder


def _folder() -> Path:
    return private_folder(Path(settings.EVIDENCE_DIR) / "letters")


def _context(stored_name: str) -> bytes:
    return b"invitation-letters:" + stored_name.encode()


def seal(pdf: bytes) -> dict:
    """Seals the PDF; returns the LetterPrint fields describing it."""
    stored_name = secrets.token_hex(20)
    writer = sealed.EncryptingWriter(str(_folder() / stored_name))
    try:
        writer.write(pdf)
        writer.close()
        master_key_id, wrapped = sealed.wrap_key(writer.data_key, context=_context(stored_name))
    except BaseException:
        writer.abort()
        raise
    writer.lease.release()
    return {"stored_name": stored_name, "master_key_id": master_key_id, "wrapped_key": wrapped, "size": writer.size}


def read(letter_print) -> bytes:
    """The PDF's plaintext, every record authenticated (EvidenceIntegrityError if altered)."""
    data_key = sealed.unwrap_key(bytes(letter_print.wrapped_key), master_id=letter_print.master_key_id,
                                 context=_context(letter_print.stored_name))
    reader = sealed.DecryptingReader(str(_folder() / letter_print.stored_name), data_key)
    try:
        return b"".join(reader.chunks())
    finally:
        reader.close()


def delete(stored_name: str) -> None:
    if stored_name:
        (_folder() / stored_name).unlink(missing_ok=True)
