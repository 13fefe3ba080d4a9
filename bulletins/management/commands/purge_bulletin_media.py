"""Destroys the stills of bulletins past CONNECT_BULLETIN_HOURS unless saved to the case (as beat does)."""

from django.core.management.base import BaseCommand

from bulletins import services


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def handle(self, *args, **options):
        self.stdout.write(f"purged {services.bulletins_media_purge()} stills")
