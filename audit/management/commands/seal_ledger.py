"""Chains the access ledger's pending entries; with --follow, keeps doing so as the ledger's sealer process."""

import logging
import signal
import threading

from django.core.management.base import BaseCommand

from audit import ledger
from audit.ledger import sealer

log = logging.getLogger("audit.ledger.sealer")


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def add_arguments(self, parser):
        parser.add_argument("--follow", action="store_true",
                            help="run until stopped (SIGTERM, SIGINT), sealing entries milliseconds after they "
                                 "are recorded; a second one stands by until the first stops")

    def handle(self, *args, follow: bool, **options):
        if not follow:
            self.stdout.write(f"sealed {ledger.seal()} pending entries")
            return
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        # A long-running process: its news goes to the log (JSON with CONNECT_LOG_FORMAT=json), not to stdout.
        log.info("sealing the access ledger until stopped")
        sealer.follow(stop)
        log.info("ledger sealer stopped")
