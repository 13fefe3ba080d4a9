"""Runs the same purge beat runs on schedule (clips); safe to run again at any time."""

from django.core.management.base import BaseCommand

from requests_app.services import clips_expired_purge, requests_orphaned_scrub


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def handle(self, *args, **options):
        self.stdout.write(f"purged {clips_expired_purge()} clips, scrubbed {requests_orphaned_scrub()} requests of "
                          "deleted cameras")
