"""Walks the access ledger's hash chain; exits 1 and names the first entry changed, removed or inserted."""

import sys

from django.core.management.base import BaseCommand

from audit.services import ledger_verify


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def handle(self, *args, **options):
        result = ledger_verify()
        if result.ok:
            self.stdout.write(f"ledger intact: {result.checked} entries verified")
            return
        self.stderr.write(f"LEDGER TAMPERED: {result.problem} ({result.checked} entries verified before it)")
        sys.exit(1)
