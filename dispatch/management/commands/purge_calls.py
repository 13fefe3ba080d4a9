"""Runs the same purge beat runs on schedule (calls for service); safe to run again at any time."""

from django.core.management.base import BaseCommand

from dispatch.services import calls_purge


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def handle(self, *args, **options):
        self.stdout.write(f"purged {calls_purge()} calls")
