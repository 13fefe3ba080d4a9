"""Re-wraps every clip's data key under the current CONNECT_EVIDENCE_KEY.

Rotation: put the old key in CONNECT_EVIDENCE_PREVIOUS_KEYS, the new one in CONNECT_EVIDENCE_KEY, run this,
then remove the old key. Clip files are not rewritten; only their wrapped keys change.
"""

from django.core.management.base import BaseCommand

from requests_app.services import clip_keys_rewrap


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def handle(self, *args, **options):
        done, missing = clip_keys_rewrap()
        self.stdout.write(f"re-wrapped {done} clip key(s)")
        if missing:
            self.stderr.write(f"{missing} clip(s) are wrapped by a key that is not configured; add it to "
                              "CONNECT_EVIDENCE_PREVIOUS_KEYS and run again")
