"""A clip's data key, sealed twice: first under the clip's shred key (common/key_store.py, held apart from the
database), then wrapped by the master key of the key service (common/key_service.py). The row keeps the result.

Reading needs both the master key and the shred key; destroying either destroys the clip. The shred key is the
one destroyed by retention, so a database backup taken before the shredding, restored later by any means
(`manage.py restore` or pg_restore by hand), still opens nothing: its rows point at a shred key that is gone.

Clips sealed before the key store existed unwrap straight to their 32-byte data key and stay readable; the
sealed form is longer (INNER, a nonce, the 32-byte key and its tag), so the two never mix up.
"""

import os
import uuid

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from common import key_service, key_store

INNER = b"CNSK1"
DATA_KEY_BYTES = 32


class ClipKeyDestroyed(Exception):
    """The clip's shred key was destroyed: the clip is gone for good."""


def clip_key_wrap(data_key: bytes, *, code: uuid.UUID) -> tuple[str, bytes]:
    """(master key id, wrapped key) for a new clip; creates its shred key first. A failure of the key service, or a
    transaction rolled back later, leaves an unused shred key behind: it opens nothing without the row."""
    shred_key = key_store.shred_key_create(code)
    nonce = os.urandom(12)
    inner = INNER + nonce + AESGCM(shred_key).encrypt(nonce, data_key, code.bytes)
    return key_service.wrap(inner, context=code.bytes)


def clip_key_unwrap(wrapped: bytes, *, master_id: str, code: uuid.UUID) -> bytes:
    """The clip's data key. ClipKeyDestroyed if its shred key is gone; KeyServiceError or KeyStoreError if a
    service cannot answer; EvidenceIntegrityError if a layer does not authenticate."""
    from common.sealed import EvidenceIntegrityError

    plain = key_service.unwrap(wrapped, master_id=master_id, context=code.bytes)
    if len(plain) == DATA_KEY_BYTES:
        return plain  # sealed before the key store existed
    if not plain.startswith(INNER):
        raise EvidenceIntegrityError("the wrapped data key has an unknown form")
    shred_key = key_store.shred_key_get(code)
    if shred_key is None:
        raise ClipKeyDestroyed(f"the shred key of clip {code} was destroyed")
    body = plain[len(INNER):]
    try:
        return AESGCM(shred_key).decrypt(body[:12], body[12:], code.bytes)
    except InvalidTag:
        raise EvidenceIntegrityError("the data key does not authenticate under the clip's shred key") from None


def clip_key_destroy(code: uuid.UUID) -> bool:
    return key_store.shred_key_destroy(code)


def clip_key_needs_shred_key(wrapped: bytes, *, master_id: str, code: uuid.UUID) -> bool:
    """Whether the clip was sealed with a shred key (and so is unreadable without one)."""
    return len(key_service.unwrap(wrapped, master_id=master_id, context=code.bytes)) != DATA_KEY_BYTES
