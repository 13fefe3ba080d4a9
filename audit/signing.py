"""The Ed25519 key that signs public checkpoints, and its public half as the transparency page shows it."""

import base64
import functools
import hashlib

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def private_key() -> Ed25519PrivateKey:
    return _private_key(settings.LEDGER_SIGNING_KEY, settings.LEDGER_KEY)


@functools.lru_cache(maxsize=4)
def _private_key(configured: str, ledger_key: str) -> Ed25519PrivateKey:
    if not configured:
        # A key of its own for signing, derived so that no second secret has to be kept for the life of the chain.
        seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                    info=b"connect ledger checkpoint signing key v1").derive(ledger_key.encode())
        return Ed25519PrivateKey.from_private_bytes(seed)
    if configured.lstrip().startswith("-----BEGIN"):
        key = serialization.load_pem_private_key(configured.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ImproperlyConfigured("CONNECT_LEDGER_SIGNING_KEY must be an Ed25519 key.")
        return key
    try:
        seed = base64.b64decode(configured, validate=True)
    except ValueError:
        seed = b""
    if len(seed) != 32:
        raise ImproperlyConfigured("CONNECT_LEDGER_SIGNING_KEY must be a PEM Ed25519 private key or 32 random bytes "
                                   "in base64 (openssl rand -base64 32).")
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key_bytes(key: Ed25519PublicKey | None = None) -> bytes:
    key = key or private_key().public_key()
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_b64() -> str:
    return base64.b64encode(public_key_bytes()).decode()


def key_id(raw_public_key: bytes | None = None) -> str:
    """A short name for a public key: the first 16 hex digits of its SHA-256 (what people compare by eye)."""
    return hashlib.sha256(raw_public_key or public_key_bytes()).hexdigest()[:16]


def sign(statement: str) -> str:
    return base64.b64encode(private_key().sign(statement.encode())).decode()
