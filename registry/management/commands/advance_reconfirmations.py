"""Runs the same step beat runs daily: asks, reminds, pauses and purges cameras due for their yearly re-confirmation."""

from django.core.management.base import BaseCommand

from registry.reconfirmation import reconfirmations_advance


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def handle(self, *args, **options):
        counts = reconfirmations_advance()
        self.stdout.write(", ".join(f"{step}: {owners} owners" for step, owners in counts.items()))
