"""Moving evidence from the local folder into the configured bucket, clip by clip, each one verified there.

Resumable and idempotent: a clip whose object is already in the bucket with the local file's size is not sent
again, only verified; a clip whose local file is gone but whose object is there was moved by an earlier run.
A clip counts as moved only once its whole SHA-256, read back from the bucket, matches the one taken at upload;
only then may its local file be removed.
"""

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from audit.actions import Action
from audit.ledger import record
from common.evidence_store import EvidenceStoreError, evidence_store
from common.evidence_store.s3 import S3Store
from requests_app.evidence_keys import ClipDestroyed, EvidenceKeyUnavailable
from requests_app.models import Clip
from requests_app.services import clip_audit_args, clip_verify


@dataclass
class MoveOutcome:
    clip: Clip
    state: str  # "moved", "verified" (already there), "moved earlier", "failed", "missing", "destroyed"
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.state in {"moved", "verified", "moved earlier", "destroyed"}


def clips_to_move():
    return Clip.objects.filter(wrapped_key__isnull=False).select_related("incident", "request__camera__owner") \
        .order_by("pk")


def clip_move_to_bucket(*, clip: Clip, source: Path, remove_local: bool) -> MoveOutcome:
    store = evidence_store()
    if not isinstance(store, S3Store):
        raise ValueError("CONNECT_EVIDENCE_STORAGE names no bucket to move evidence into")
    local = source / clip.stored_name
    try:
        stored_size = store.object_size(clip.stored_name)
        if not local.exists():
            if stored_size is None:
                return MoveOutcome(clip, "missing", f"neither {local} nor the bucket holds it")
            return MoveOutcome(clip, "moved earlier")
        sent = stored_size != local.stat().st_size
        if sent:
            store.upload(local, clip.stored_name)
    except EvidenceStoreError as exc:
        record(actor=None, action=Action.EVIDENCE_STORE_FAILED, reason=str(exc), **clip_audit_args(clip))
        return MoveOutcome(clip, "failed", str(exc))
    try:
        verified = clip_verify(clip=clip)
    except (EvidenceStoreError, EvidenceKeyUnavailable) as exc:  # recorded by clip_verify
        return MoveOutcome(clip, "failed", str(exc))
    except ClipDestroyed:  # its shred key was gone (a restored backup): purged now, its object and file removed
        return MoveOutcome(clip, "destroyed", "its shred key was gone: marked purged")
    if not verified:
        # The bucket's copy is bad (or the local file was already): the local file stays, the clip is flagged.
        return MoveOutcome(clip, "failed", "the copy in the bucket does not match the SHA-256 taken at upload")
    if sent:
        record(actor=None, action=Action.CLIP_MOVED, sha256=clip.sha256, bucket=store.bucket,
               **clip_audit_args(clip))
    if remove_local:
        local.unlink(missing_ok=True)
    return MoveOutcome(clip, "moved" if sent else "verified")


def default_source() -> Path:
    return Path(settings.EVIDENCE_DIR)
