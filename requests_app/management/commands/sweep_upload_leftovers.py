"""Removes the spooled bodies and sealed uploads that stopped web processes left; safe at any time: files a live
process is still writing or reading are locked and stay. Web runs it as it starts; beat runs it hourly."""

from django.core.management.base import BaseCommand

from requests_app.services import upload_leftovers_sweep


class Command(BaseCommand):
    help = __doc__.splitlines()[0]
    requires_system_checks = []  # it runs before every web start: the web process itself runs the checks

    def add_arguments(self, parser):
        parser.add_argument("--grace", type=float, default=60.0, metavar="SECONDS",
                            help="leave files changed within this many seconds (60): a file is locked a moment "
                                 "after it is created")

    def handle(self, *args, grace, **options):
        removed = upload_leftovers_sweep(grace_s=max(grace, 0.0))
        self.stdout.write(f"removed {removed} upload files left by stopped processes")
