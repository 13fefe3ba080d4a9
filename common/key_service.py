"""Who wraps clips' data keys under a master key: connect itself (CONNECT_EVIDENCE_KEY, "local") or AWS KMS.

A wrapped key carries the id of the master key that wrapped it (`Clip.master_key_id`, 16 characters): a local
key's id is a hash of the key, a KMS key's is "kms-" and a hash of the key id as configured. Unwrapping picks the
service by that id, so clips wrapped before a switch from local keys to KMS stay readable while
`evidence_rotate_key` moves them (keep the old key in CONNECT_EVIDENCE_KEY or CONNECT_EVIDENCE_PREVIOUS_KEYS).

A key service that cannot be reached or refuses raises KeyServiceError with a message an operator can act on;
callers record it in the ledger and keep nothing half-written. A wrapped key that does not authenticate is
EvidenceIntegrityError, as before.
"""

import hashlib
import os
from functools import cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings


class KeyServiceError(Exception):
    """The key service is not reachable, not configured or refused: nothing was wrapped or unwrapped."""


class MasterKeyMissing(KeyServiceError):
    """The master key a clip was wrapped with is not configured here."""


def _integrity_error(message: str) -> Exception:
    from common.sealed import EvidenceIntegrityError  # sealed imports this module

    return EvidenceIntegrityError(message)


# --- local master keys ---------------------------------------------------------------------------------------

def local_key_id(master: bytes) -> str:
    return hashlib.sha256(b"connect-evidence-key" + master).hexdigest()[:16]


def _local_keys() -> dict[str, bytes]:
    keys = [settings.EVIDENCE_KEY] if settings.EVIDENCE_KEY else []  # None: KMS only
    return {local_key_id(key): key for key in [*keys, *settings.EVIDENCE_PREVIOUS_KEYS]}


def _local_wrap(secret: bytes, context: bytes) -> tuple[str, bytes]:
    nonce = os.urandom(12)
    return local_key_id(settings.EVIDENCE_KEY), nonce + AESGCM(settings.EVIDENCE_KEY).encrypt(nonce, secret, context)


def _local_unwrap(master: bytes, wrapped: bytes, context: bytes) -> bytes:
    try:
        return AESGCM(master).decrypt(wrapped[:12], wrapped[12:], context)
    except InvalidTag:
        raise _integrity_error("the wrapped data key does not authenticate") from None


# --- AWS KMS ---------------------------------------------------------------------------------------------------

KMS_PREFIX = "kms-"


def kms_key_id(configured: str) -> str:
    return KMS_PREFIX + hashlib.sha256(configured.encode()).hexdigest()[:12]


def _kms_keys() -> dict[str, str]:
    keys = [settings.KMS_KEY_ID] if settings.KMS_KEY_ID else []
    return {kms_key_id(key): key for key in [*keys, *settings.KMS_PREVIOUS_KEY_IDS]}


@cache
def _kms_client(endpoint: str, region: str, timeout: int):
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=timeout, read_timeout=timeout, retries={"max_attempts": 2, "mode": "standard"})
    return boto3.client("kms", region_name=region, endpoint_url=endpoint or None, config=config)


def _kms():
    return _kms_client(settings.KMS_ENDPOINT_URL, settings.KMS_REGION, settings.KMS_TIMEOUT_SECONDS)


def _kms_context(context: bytes) -> dict[str, str]:
    # KMS binds the ciphertext to this context: a wrapped key copied to another clip's row does not open.
    return {"connect-clip": context.hex()}


def _kms_call(what: str, call):
    from botocore.exceptions import BotoCoreError, ClientError

    where = settings.KMS_ENDPOINT_URL or f"AWS KMS in {settings.KMS_REGION}"
    try:
        return call()
    except ClientError as exc:
        error = exc.response.get("Error", {})
        if error.get("Code") == "InvalidCiphertextException":
            raise _integrity_error("the wrapped data key does not authenticate (KMS refused the ciphertext)") from None
        raise KeyServiceError(f"the key service ({where}) refused to {what}: {error.get('Code', '?')}: "
                              f"{error.get('Message', exc)}") from None
    except BotoCoreError as exc:
        raise KeyServiceError(f"the key service ({where}) could not be reached to {what}: {exc}") from None


def _kms_wrap(secret: bytes, context: bytes) -> tuple[str, bytes]:
    key = settings.KMS_KEY_ID
    answer = _kms_call("wrap a key", lambda: _kms().encrypt(KeyId=key, Plaintext=secret,
                                                              EncryptionContext=_kms_context(context)))
    return kms_key_id(key), answer["CiphertextBlob"]


def _kms_unwrap(key: str, wrapped: bytes, context: bytes) -> bytes:
    answer = _kms_call("unwrap a key", lambda: _kms().decrypt(KeyId=key, CiphertextBlob=wrapped,
                                                                EncryptionContext=_kms_context(context)))
    return answer["Plaintext"]


# --- the interface -----------------------------------------------------------------------------------------

def current_key_id() -> str:
    if settings.KEY_SERVICE == "aws-kms":
        return kms_key_id(settings.KMS_KEY_ID)
    return local_key_id(settings.EVIDENCE_KEY)


def wrap(secret: bytes, *, context: bytes) -> tuple[str, bytes]:
    """(master key id, wrapped secret) under the current master key; `context` binds it to one clip."""
    if settings.KEY_SERVICE == "aws-kms":
        return _kms_wrap(secret, context)
    return _local_wrap(secret, context)


def unwrap(wrapped: bytes, *, master_id: str, context: bytes) -> bytes:
    if master_id.startswith(KMS_PREFIX):
        key = _kms_keys().get(master_id)
        if key is None:
            raise MasterKeyMissing(f"master key {master_id} is a KMS key that is not configured "
                                   "(CONNECT_KMS_KEY_ID or CONNECT_KMS_PREVIOUS_KEY_IDS)")
        return _kms_unwrap(key, wrapped, context)
    master = _local_keys().get(master_id)
    if master is None:
        raise MasterKeyMissing(f"master key {master_id} is not configured (CONNECT_EVIDENCE_PREVIOUS_KEYS?)")
    return _local_unwrap(master, wrapped, context)


def missing_master_keys(master_ids) -> list[str]:
    """The ids among `master_ids` that this configuration cannot unwrap (not a reachability check: see check())."""
    known = set(_local_keys()) | set(_kms_keys())
    return sorted(set(master_ids) - known)


def check() -> None:
    """Raises KeyServiceError unless the current master key can wrap and unwrap right now."""
    context = b"connect-key-service-check"
    master_id, wrapped = wrap(b"\0" * 32, context=context)
    if unwrap(wrapped, master_id=master_id, context=context) != b"\0" * 32:
        raise KeyServiceError("the key service answered with the wrong key")
