"""Seals what is pending, then walks the access ledger's hash chain; exits 1 and names the first entry changed,
removed or inserted, or a pending entry that was not written by record()."""

import sys
from datetime import timedelta

from django.core.management.base import BaseCommand

from audit import ledger


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def add_arguments(self, parser):
        parser.add_argument("--stale-after", type=int, default=300, metavar="SECONDS",
                            help="report entries recorded longer ago than this and still not sealed (default 300)")
        parser.add_argument("--no-seal", dest="seal", action="store_false",
                            help="only look: do not seal pending entries first")

    def handle(self, *args, stale_after: int, seal: bool, **options):
        older_than = timedelta(seconds=stale_after)
        before = ledger.pending(older_than=older_than)
        sealed = ledger.seal() if seal and before.count else 0
        result = ledger.verify()
        after = ledger.pending(older_than=older_than) if sealed else before
        if before.stale:
            self.stderr.write(f"WARNING: {before.stale} entries had waited more than {stale_after} s to be sealed "
                              f"(the oldest recorded at {before.oldest_at:%Y-%m-%d %H:%M:%S} UTC): is the beat "
                              "(ledger-seal) running?")
        if sealed:
            self.stdout.write(f"sealed {sealed} pending entries")
        problems = []
        if not result.ok:
            problems.append(f"{result.problem} ({result.checked} entries verified before it)")
        problems += after.forged
        if problems:
            for problem in problems:
                self.stderr.write(f"LEDGER TAMPERED: {problem}")
            sys.exit(1)
        if after.stale:
            self.stderr.write(f"LEDGER NOT SEALED: {after.stale} entries recorded more than {stale_after} s ago are "
                              "still pending" + ("" if seal else " (--no-seal)"))
            sys.exit(1)
        self.stdout.write(f"ledger intact: {result.checked} entries verified")
