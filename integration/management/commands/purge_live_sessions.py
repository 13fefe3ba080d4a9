"""Deletes live-session rows older than CONNECT_LIVE_SESSION_KEEP_DAYS (the ledger keeps the facts)."""

from django.core.management.base import BaseCommand

from integration import services


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def handle(self, *args, **options):
        self.stdout.write(f"purged {services.live_sessions_purge()} live session(s)")
