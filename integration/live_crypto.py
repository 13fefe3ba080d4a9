"""Live pictures while they pass through Redis: every relayed frame, the owner's unmasked still and the frame an
analyst holds to send to patrol ("send this frame") are sealed with AES-256-GCM under CONNECT_LIVE_FRAME_KEYS, so
someone who can read Redis (a shared instance, a dump on disk, a MONITOR) sees none of them.

Sealed form: version (1 byte) | key id (4 bytes) | random 96-bit nonce | ciphertext and 16-byte tag.
The associated data names the purpose and the camera: a frame captured on one camera's channel does not open
when replayed onto another's, and a relayed frame cannot pass for the owner's still (or the reverse). Each
camera and purpose seals under its own key, derived (HKDF) from the configured one.

Rotation: the first key seals, every listed key opens (found by its id, no trial decryption), so processes
restarted one by one with "new,old" keep reading what the others still seal under the old key.
"""

import hashlib
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

VERSION = b"\x01"
KEY_ID_BYTES = 4
NONCE_BYTES = 12
HEADER_BYTES = len(VERSION) + KEY_ID_BYTES + NONCE_BYTES
FRAME = b"connect-live-frame:"
STILL = b"connect-live-still:"
HELD = b"connect-live-held:"


class Unreadable(Exception):
    """Not sealed by connect under a configured key for this camera and purpose (tampered, replayed or stale)."""


def key_id(key: bytes) -> bytes:
    return hashlib.sha256(b"connect-live-frame-key-id" + key).digest()[:KEY_ID_BYTES]


@lru_cache(maxsize=4)  # one entry per key list; tests and rotation change it rarely
def _keyring(keys: tuple[bytes, ...]) -> tuple[bytes, dict[bytes, bytes]]:
    """(id of the sealing key, every key by its id)."""
    if not keys:
        raise ValueError("CONNECT_LIVE_FRAME_KEYS is empty")
    by_id = {key_id(key): key for key in reversed(keys)}  # the first key wins an id collision
    return key_id(keys[0]), by_id


@lru_cache(maxsize=4096)
def _cipher(key: bytes, aad: bytes) -> AESGCM:
    """A key of its own per camera and purpose, derived from the configured one: with random nonces a key should
    seal at most 2^32 messages, which a fleet of cameras sharing one key would reach in days, one camera in years."""
    return AESGCM(HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=aad).derive(key))


def _seal(data: bytes, aad: bytes) -> bytes:
    current, keys = _keyring(tuple(settings.LIVE_FRAME_KEYS))
    nonce = os.urandom(NONCE_BYTES)
    return b"".join((VERSION, current, nonce, _cipher(keys[current], aad).encrypt(nonce, data, aad)))


def _open(sealed: bytes, aad: bytes) -> bytes:
    if not isinstance(sealed, bytes) or len(sealed) <= HEADER_BYTES or sealed[:1] != VERSION:
        raise Unreadable("not a sealed live picture")
    _, keys = _keyring(tuple(settings.LIVE_FRAME_KEYS))
    key = keys.get(sealed[1:1 + KEY_ID_BYTES])
    if key is None:
        raise Unreadable("sealed under a key that is not in CONNECT_LIVE_FRAME_KEYS")
    view = memoryview(sealed)  # no copy of the ciphertext: this runs for every frame
    try:
        return _cipher(key, aad).decrypt(view[1 + KEY_ID_BYTES:HEADER_BYTES], view[HEADER_BYTES:], aad)
    except InvalidTag:
        raise Unreadable("does not authenticate for this camera") from None


def frame_seal(frame: bytes, *, camera_code) -> bytes:
    return _seal(frame, FRAME + str(camera_code).encode())


def frame_open(sealed: bytes, *, camera_code) -> bytes:
    return _open(sealed, FRAME + str(camera_code).encode())


def still_seal(frame: bytes, *, camera_code) -> bytes:
    return _seal(frame, STILL + str(camera_code).encode())


def still_open(sealed: bytes, *, camera_code) -> bytes:
    return _open(sealed, STILL + str(camera_code).encode())


def held_seal(held: bytes, *, token: str) -> bytes:
    """A held frame (with what goes with it), bound to the token it is held under."""
    return _seal(held, HELD + token.encode())


def held_open(sealed: bytes, *, token: str) -> bytes:
    return _open(sealed, HELD + token.encode())
