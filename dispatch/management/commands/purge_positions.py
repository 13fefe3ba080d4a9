"""Runs the same purge beat runs on schedule (officer positions); safe to run again at any time."""

from django.core.management.base import BaseCommand

from dispatch.services import positions_purge


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def handle(self, *args, **options):
        self.stdout.write(f"purged {positions_purge()} positions")
