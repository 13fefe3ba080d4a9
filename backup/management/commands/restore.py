"""Restores a backup set made by `manage.py backup` over connect's database and evidence store; stop web, worker,
beat and the sealer first. Refuses, changing nothing, a set from a newer schema, with a part missing or altered,
or whose keys are not configured here. With --reconcile-only, changes no data from a set: after a database
restored by hand (pg_restore), marks the clips whose shred keys are gone as purged and records them."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from backup.database import DatabaseToolError
from backup.evidence import EvidenceCopyFailed
from backup.manifest import BackupRefused
from backup.services import backup_restore, restore_check
from requests_app import evidence_keys


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def add_arguments(self, parser):
        parser.add_argument("folder", type=Path, nargs="?", help="the backup set's folder")
        parser.add_argument("--check", action="store_true", help="only check the set; change nothing")
        parser.add_argument("--reconcile-only", action="store_true",
                            help="after a pg_restore by hand: mark clips whose shred keys are gone as purged")

    def handle(self, *args, folder: Path | None, check: bool, reconcile_only: bool, **options):
        if reconcile_only:
            destroyed = evidence_keys.clips_destroyed_reconcile()
            self.stdout.write(f"{destroyed} clip(s) whose shred keys were destroyed are now marked purged")
            return
        if folder is None:
            raise CommandError("name the backup set's folder")
        try:
            if check:
                manifest = restore_check(folder)
                self.stdout.write(f"the set from {manifest.created_at} can be restored here")
                return
            result = backup_restore(folder=folder)
        except BackupRefused as exc:
            raise CommandError(f"restore refused, nothing was changed: {exc}") from None
        except DatabaseToolError as exc:
            raise CommandError(f"restore failed, the database is unchanged: {exc}") from None
        except EvidenceCopyFailed as exc:
            raise CommandError(f"restore incomplete: the database was restored, the evidence not all: {exc}") from None
        self.stdout.write(
            f"restored the backup of {result.manifest.created_at}: {result.evidence_files} evidence files; "
            + (f"{result.carried_entries} ledger entries made since the backup carried over; "
               if result.ledger_carried else "the live ledger did not continue the backup's chain, so entries "
               "made since the backup are not in it; ")
            + f"{result.clips_destroyed} clip(s) shredded since the backup marked purged; "
            + ("migrations applied; " if result.migrated else "")
            + f"ledger intact: {result.ledger_entries_verified} entries verified")
