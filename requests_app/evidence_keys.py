"""Clips' keys as requests_app uses them: a new clip's data key sealed under its shred key and the master key
(common/clip_keys.py), shred keys destroyed with their clips, failures of the key service or key store recorded,
and clips found destroyed after a database was restored from a backup older than their shredding."""

import logging

from django.db import transaction
from django.utils import timezone

from audit.actions import Action
from audit.ledger import record
from audit.selectors import entries_for_target
from common import clip_keys, key_store
from common.evidence_store import EvidenceStoreError, evidence_store
from common.key_service import KeyServiceError, MasterKeyMissing
from requests_app import evidence
from requests_app.models import Clip
from requests_app.signals import clips_purged

logger = logging.getLogger(__name__)

KEY_FAILURES = (KeyServiceError, key_store.KeyStoreError)
SWEEP_BATCH = 1000
DESTROYED_REASON = "its shred key had been destroyed (the database was restored from a backup taken before)"


class EvidenceKeyUnavailable(Exception):
    """The key service or the key store cannot answer now: nothing was kept or shown, and the ledger says so."""


class ClipDestroyed(Exception):
    """The clip's shred key is gone: it is marked purged now, and cannot be recovered."""


def _clip_fields(clip: Clip) -> dict:
    camera = clip.request.camera if clip.request_id else None
    return {"target_type": "clip", "target_code": clip.code, "incident_code": clip.incident.code,
            "case_number": clip.incident.case_number, "camera_code": camera.code if camera else "",
            "owner_code": camera.owner.code if camera else ""}


def key_failure_record(*, actor, error: Exception, doing: str, clip: Clip | None = None) -> EvidenceKeyUnavailable:
    """Records that the key service or store failed (outside any transaction that will roll back) and returns the
    exception to raise."""
    fields = _clip_fields(clip) if clip is not None else {"target_type": "evidence"}
    record(actor=actor, action=Action.EVIDENCE_KEY_FAILED, reason=str(error), doing=doing, **fields)
    logger.error("evidence key failure while %s: %s", doing, error)
    return EvidenceKeyUnavailable(str(error))


def clip_key_seal(clip: Clip, data_key: bytes) -> None:
    """Creates the clip's shred key and sets its wrapped data key (the row is saved by the caller)."""
    clip.master_key_id, clip.wrapped_key = clip_keys.clip_key_wrap(data_key, code=clip.code)


def clip_data_key(clip: Clip, *, user, mark_destroyed: bool = True) -> bytes:
    """The clip's data key; ClipDestroyed (after marking it purged) if its shred key is gone, EvidenceKeyUnavailable
    (recorded) if a key service cannot answer. A background reader passes `mark_destroyed=False`: a worker whose key
    store is not the web's (a mount missing on that machine) must not purge a whole clip; people's reads find it."""
    try:
        return clip_keys.clip_key_unwrap(bytes(clip.wrapped_key), master_id=clip.master_key_id, code=clip.code)
    except clip_keys.ClipKeyDestroyed:
        if mark_destroyed:
            clip_destroyed_found(clip)
        raise ClipDestroyed(f"clip {clip.code} was destroyed") from None
    except KEY_FAILURES as exc:
        raise key_failure_record(actor=user, error=exc, doing="opening a clip", clip=clip) from None


def clip_destroyed_found(clip: Clip) -> bool:
    """A clip whose row says it is whole but whose shred key is gone: the database was restored from a backup taken
    before the clip was shredded (by `manage.py restore` or by hand). It is marked purged as retention did, recorded
    in the ledger, and its file removed. True if this call marked it."""
    with transaction.atomic():
        # A ledger carried over by `manage.py restore` already holds the purge that destroyed the key: the clip's
        # page then gives that purge's time, not the restore's.
        purged_at = entries_for_target(target_type="clip", target_code=clip.code).filter(
            action=Action.CLIP_PURGED).values_list("at", flat=True).first()
        marked = Clip.objects.filter(pk=clip.pk, purged_at__isnull=True).update(
            wrapped_key=None, purged_at=purged_at or timezone.now())
        if marked and purged_at is None:
            record(actor=None, action=Action.CLIP_PURGED, sha256=clip.sha256, reason=DESTROYED_REASON,
                   **_clip_fields(clip))
        if marked:
            clips_purged.send(sender=Clip, clip_ids=[clip.pk])
    _evidence_remove(clip.stored_name)
    clip.refresh_from_db()
    return bool(marked)


def shred_keys_destroy(codes) -> int:
    """Destroys the shred keys of clips just purged; a key store that fails now is retried by shred_keys_sweep."""
    destroyed = 0
    for code in codes:
        try:
            destroyed += clip_keys.clip_key_destroy(code)
        except key_store.KeyStoreError as exc:
            logger.error("shred key of clip %s not destroyed yet (the next purge retries): %s", code, exc)
    return destroyed


def shred_keys_sweep() -> int:
    """Destroys the shred keys of purged clips that still have one (a purge stopped before destroying them, or the
    key store was down then). Keys of no clip at all are left: they open nothing without a row, and they may belong
    to clips of a newer backup than the database now holds (a restore of the wrong set, undone by restoring the
    right one). Returns how many were destroyed."""
    codes = sorted(key_store.shred_key_codes())
    destroyed = 0
    for start in range(0, len(codes), SWEEP_BATCH):
        batch = codes[start:start + SWEEP_BATCH]
        purged = Clip.objects.filter(code__in=batch, purged_at__isnull=False).values_list("code", flat=True)
        destroyed += shred_keys_destroy(list(purged))
    return destroyed


def clips_destroyed_reconcile() -> int:
    """After a restore: marks purged (and records) every clip the restored database calls whole whose shred key is
    gone, and removes files of purged clips. Returns how many clips it marked."""
    present = key_store.shred_key_codes()
    marked = 0
    candidates = (Clip.objects.filter(purged_at__isnull=True, wrapped_key__isnull=False)
                  .select_related("incident", "request__camera__owner").order_by("pk"))
    for clip in candidates.iterator(chunk_size=SWEEP_BATCH):
        if clip.code in present:
            continue
        try:
            needs_shred_key = clip_keys.clip_key_needs_shred_key(bytes(clip.wrapped_key), master_id=clip.master_key_id,
                                                                 code=clip.code)
        except MasterKeyMissing:
            continue  # restore refuses a backup whose master keys are missing; left for evidence_rotate_key to name
        if needs_shred_key:
            marked += clip_destroyed_found(clip)
    stored = _stored_names()
    for stored_name in Clip.objects.filter(purged_at__isnull=False).values_list("stored_name", flat=True).iterator():
        if stored is None or stored_name in stored:
            _evidence_remove(stored_name)
    return marked


def _stored_names() -> set[str] | None:
    """Every object in the evidence store and file in the local folder, listed once (a bucket answers a listing
    of a thousand names in one request, a delete per purged clip in one each); None if the store cannot list."""
    local = evidence.evidence_dir()
    names = {path.name for path in local.glob("*.cnev")} if local.is_dir() else set()
    try:
        return names | set(evidence_store().names())
    except EvidenceStoreError as exc:
        logger.warning("the evidence store could not be listed; removing purged clips' objects one by one: %s", exc)
        return None


def _evidence_remove(stored_name: str) -> None:
    """A destroyed clip's sealed object goes from the evidence store, and any copy left in the local folder (from
    before a move into a bucket). A store that is down now keeps it until the hourly purge retries recently purged
    clips; it opens nothing either way, its shred key being gone."""
    (evidence.evidence_dir() / stored_name).unlink(missing_ok=True)
    store = evidence_store()
    if store.name == "local":
        return
    try:
        store.delete(stored_name)
    except EvidenceStoreError as exc:
        logger.warning("destroyed clip's evidence object %s stays until the next purge: %s", stored_name, exc)


def clips_shred_keys_add(*, batch: int = 500) -> int:
    """Gives a shred key to every live clip sealed before the key store existed (its row unwraps straight to the data
    key), so that shredding it later survives backups too. Returns how many it converted."""
    present = key_store.shred_key_codes()
    converted = 0
    candidates = Clip.objects.filter(purged_at__isnull=True, wrapped_key__isnull=False).order_by("pk")
    for clip in candidates.iterator(chunk_size=batch):
        if clip.code in present:
            continue
        wrapped = bytes(clip.wrapped_key)
        try:
            if clip_keys.clip_key_needs_shred_key(wrapped, master_id=clip.master_key_id, code=clip.code):
                continue  # its shred key is gone: reconcile's business, not this
            data_key = clip_keys.clip_key_unwrap(wrapped, master_id=clip.master_key_id, code=clip.code)
            master_id, sealed = clip_keys.clip_key_wrap(data_key, code=clip.code)
        except MasterKeyMissing:
            continue  # evidence_rotate_key reports these
        except KEY_FAILURES as exc:
            raise key_failure_record(actor=None, error=exc, doing="adding shred keys to older clips") from None
        converted += Clip.objects.filter(pk=clip.pk, wrapped_key=wrapped).update(master_key_id=master_id,
                                                                                 wrapped_key=sealed)
    if converted:
        record(actor=None, action=Action.EVIDENCE_KEY_ROTATED, target_type="evidence", shred_keys_added=converted)
    return converted
