"""Moves every clip's sealed file from the local evidence folder into the bucket in CONNECT_EVIDENCE_STORAGE.

Run it with CONNECT_EVIDENCE_STORAGE=s3://... set (and the bucket's settings), while the old folder is still
mounted. Each clip is copied (in parts), read back from the bucket and its whole SHA-256 checked against the one
taken at upload, and reported on its own line; the ledger records each move and each check. Run it again after
a failure or an interruption: clips already in the bucket are only checked. With --remove-local, a clip's local
file is deleted once its copy is verified. The exit status is 1 if any clip failed or is missing.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from common.evidence_store import evidence_store
from common.evidence_store.s3 import S3Store
from requests_app.evidence_move import clip_move_to_bucket, clips_to_move, default_source


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def add_arguments(self, parser):
        parser.add_argument("--from-dir", type=Path, default=None,
                            help="the local evidence folder (default: CONNECT_EVIDENCE_DIR)")
        parser.add_argument("--remove-local", action="store_true",
                            help="delete each local file once its copy in the bucket is verified")

    def handle(self, *args, from_dir: Path | None, remove_local: bool, **options):
        if not isinstance(evidence_store(), S3Store):
            raise CommandError("Set CONNECT_EVIDENCE_STORAGE to s3://bucket/prefix (and the bucket's "
                               "CONNECT_EVIDENCE_S3_* settings) before moving evidence into it.")
        source = from_dir or default_source()
        if not source.is_dir():
            raise CommandError(f"{source} is not a folder")
        counts: dict[str, int] = {}
        for clip in clips_to_move().iterator(chunk_size=200):
            outcome = clip_move_to_bucket(clip=clip, source=source, remove_local=remove_local)
            counts[outcome.state] = counts.get(outcome.state, 0) + 1
            line = f"clip {clip.code} ({clip.size} bytes): {outcome.state}" + (
                f": {outcome.detail}" if outcome.detail else "")
            (self.stdout if outcome.ok else self.stderr).write(line)
        self.stdout.write("done: " + (", ".join(f"{n} {state}" for state, n in sorted(counts.items())) or
                                      "no clips"))
        if counts.get("failed") or counts.get("missing"):
            raise CommandError("some clips were not moved; fix what is reported above and run the command again")
