"""Ends live sessions past their limit and views that never connected (a crashed server cannot end them)."""

from django.core.management.base import BaseCommand

from integration import services


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def handle(self, *args, **options):
        self.stdout.write(f"ended {services.live_sessions_sweep()} live session(s)")
