"""Re-wraps every clip's data key under the current master key (CONNECT_EVIDENCE_KEY, or the KMS key).

Rotation: put the old key in CONNECT_EVIDENCE_PREVIOUS_KEYS (CONNECT_KMS_PREVIOUS_KEY_IDS), the new one in
CONNECT_EVIDENCE_KEY (CONNECT_KMS_KEY_ID), run this, then remove the old key. Clip files are not rewritten; only
their wrapped keys change. Clips sealed before the shred key store existed get their shred key here too
(docs/BACKUPS.md).
"""

from django.core.management.base import BaseCommand, CommandError

from requests_app.evidence_keys import EvidenceKeyUnavailable, clips_shred_keys_add
from requests_app.services import clip_keys_rewrap


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def handle(self, *args, **options):
        try:
            done, missing = clip_keys_rewrap()
            self.stdout.write(f"re-wrapped {done} clip key(s)")
            added = clips_shred_keys_add()
        except EvidenceKeyUnavailable as exc:
            raise CommandError(f"stopped, the key service failed (recorded in the ledger): {exc}") from None
        if added:
            self.stdout.write(f"gave {added} older clip(s) a shred key")
        if missing:
            self.stderr.write(f"{missing} clip(s) are wrapped by a key that is not configured; add it to "
                              "CONNECT_EVIDENCE_PREVIOUS_KEYS and run again")
