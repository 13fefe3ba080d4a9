"""Where sealed evidence lives: local disk (the default) or an S3-compatible bucket, chosen by
CONNECT_EVIDENCE_STORAGE. Any app gets the configured store with `evidence_store()`.

Uploads are sealed into the staging folder (CONNECT_EVIDENCE_DIR, ciphertext only) as they arrive, probed there,
and `adopt`ed into the store under the clip's name before the clip's row commits; with the local store that is
a rename.
"""

import threading

from django.conf import settings

from common.evidence_store.base import EvidenceMissing, EvidenceStore, EvidenceStoreError, StoredObject

__all__ = ["EvidenceMissing", "EvidenceStore", "EvidenceStoreError", "StoredObject", "evidence_store"]

_stores: dict[tuple, EvidenceStore] = {}
_lock = threading.Lock()


def _config() -> tuple:
    storage = settings.EVIDENCE_STORAGE
    if storage["kind"] == "local":
        return ("local", str(settings.EVIDENCE_DIR))
    return ("s3", storage["bucket"], storage["prefix"], settings.EVIDENCE_S3_ENDPOINT_URL,
            settings.EVIDENCE_S3_REGION, settings.EVIDENCE_S3_ACCESS_KEY_ID, settings.EVIDENCE_S3_SECRET_ACCESS_KEY,
            settings.EVIDENCE_S3_PATH_STYLE, settings.EVIDENCE_S3_TIMEOUT_SECONDS, settings.EVIDENCE_S3_PART_MB)


def evidence_store() -> EvidenceStore:
    """The configured store, one per process and configuration (boto3 clients are thread-safe and keep a pool)."""
    config = _config()
    with _lock:
        store = _stores.get(config)
        if store is None:
            store = _stores[config] = _build(config)
        return store


def _build(config: tuple) -> EvidenceStore:
    if config[0] == "local":
        from common.evidence_store.local import LocalStore

        return LocalStore(config[1])
    from common.evidence_store.s3 import S3Store

    _, bucket, prefix, endpoint, region, key_id, secret, path_style, timeout_s, part_mb = config
    return S3Store(bucket=bucket, prefix=prefix, endpoint_url=endpoint, region=region, access_key_id=key_id,
                   secret_access_key=secret, path_style=path_style, timeout_s=timeout_s, part_mb=part_mb)
