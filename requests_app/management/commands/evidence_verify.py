"""Re-hashes every clip in the evidence store against the SHA-256 taken at upload, one line per clip.

The daily beat entry `clips-verify-due` does the same a slice at a time; this checks everything now (after a
restore, a move or a disk incident). Each check is in the ledger; a mismatch or a missing file flags the clip.
"""

from django.core.management.base import BaseCommand, CommandError

from common.evidence_store import EvidenceStoreError
from requests_app.evidence_keys import ClipDestroyed, EvidenceKeyUnavailable
from requests_app.models import Clip
from requests_app.services import clip_verify


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def handle(self, *args, **options):
        failed = 0
        clips = Clip.objects.filter(wrapped_key__isnull=False).select_related("incident", "request__camera__owner")
        for clip in clips.order_by("pk").iterator(chunk_size=200):
            try:
                ok = clip_verify(clip=clip)
            except EvidenceStoreError as exc:
                raise CommandError(f"the evidence store failed at clip {clip.code}: {exc}") from None
            except EvidenceKeyUnavailable as exc:
                raise CommandError(f"the evidence key service failed at clip {clip.code}: {exc}") from None
            except ClipDestroyed:
                self.stdout.write(f"clip {clip.code}: destroyed (its shred key was gone: now marked purged)")
                continue
            failed += not ok
            (self.stdout if ok else self.stderr).write(f"clip {clip.code}: {'verified' if ok else 'FAILED'}")
        if failed:
            raise CommandError(f"{failed} clip(s) failed their check and are flagged; see the chain of custody")
