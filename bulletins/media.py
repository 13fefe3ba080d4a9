"""A bulletin's still, sealed at rest: AES-256-GCM under a data key of its own, the data key wrapped by the key
service's master key (common.sealed, as evidence is) and bound to the bulletin's code. Stills are small (a phone
picture), so the ciphertext lives in the row; destroying the wrapped key shreds it."""

import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from common import sealed

MAX_BYTES = 4 * 1024 * 1024


def _context(code) -> bytes:
    return f"bulletin-media:{code}".encode()


def media_seal(data: bytes, *, code) -> tuple[bytes, bytes, str]:
    """(sealed bytes, wrapped key, master key id)."""
    data_key = AESGCM.generate_key(bit_length=256)
    nonce = os.urandom(12)
    sealed_bytes = nonce + AESGCM(data_key).encrypt(nonce, data, _context(code))
    key_id, wrapped = sealed.wrap_key(data_key, context=_context(code))
    return sealed_bytes, wrapped, key_id


def media_open(sealed_bytes: bytes, *, wrapped: bytes, key_id: str, code) -> bytes:
    data_key = sealed.unwrap_key(bytes(wrapped), master_id=key_id, context=_context(code))
    sealed_bytes = bytes(sealed_bytes)
    return AESGCM(data_key).decrypt(sealed_bytes[:12], sealed_bytes[12:], _context(code))
