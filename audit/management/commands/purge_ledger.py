"""Purges access-ledger entries past CONNECT_LEDGER_KEEP_DAYS, leaving a signed checkpoint (as beat does daily)."""

from django.core.management.base import BaseCommand

from audit import ledger


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def handle(self, *args, **options):
        self.stdout.write(f"purged {ledger.purge()} ledger entries")
