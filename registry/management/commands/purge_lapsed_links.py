"""Runs the same purge beat runs on schedule (links); safe to run again at any time."""

from django.core.management.base import BaseCommand

from registry.services import links_lapsed_purge


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def handle(self, *args, **options):
        self.stdout.write(f"purged {links_lapsed_purge()} links")
