"""Runs the same purge beat runs hourly (registrations never confirmed within CONNECT_UNCONFIRMED_PURGE_DAYS)."""

from django.core.management.base import BaseCommand

from registry.services import registrations_unconfirmed_purge


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def handle(self, *args, **options):
        self.stdout.write(f"purged {registrations_unconfirmed_purge()} unconfirmed registrations")
