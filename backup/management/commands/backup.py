"""Writes a backup set (the database, the evidence files, the key inventory, a signed manifest) into a new folder
under DESTINATION. Master keys and the shred key store are backed up apart: see docs/BACKUPS.md."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from backup.database import DatabaseToolError
from backup.evidence import EvidenceCopyFailed
from backup.services import backup_create


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def add_arguments(self, parser):
        parser.add_argument("destination", type=Path, help="a folder; the set is written into a new folder in it")

    def handle(self, *args, destination: Path, **options):
        try:
            result = backup_create(destination=destination)
        except (DatabaseToolError, EvidenceCopyFailed, OSError) as exc:
            raise CommandError(f"backup failed, nothing was kept: {exc}") from None
        manifest = result.manifest
        self.stdout.write(f"backup written to {result.folder}: {len(manifest.parts)} parts, ledger head "
                          f"{manifest.ledger_head['seq']}, {manifest.keys['clips_alive']} clips")
