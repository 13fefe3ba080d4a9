"""Runs the same step beat runs every few minutes: admits queued live shares as places free, ends the pilot after its
last day."""

from django.core.management.base import BaseCommand

from integration.queue import pilot_limits_apply


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def handle(self, *args, **options):
        self.stdout.write(", ".join(f"{step}: {count}" for step, count in pilot_limits_apply().items()))
