"""Demo only: makes sure the demo dispatch token exists (a fixed, public value) and prints it.

With --scopes it prints the scopes the stored token holds instead (for the `make run` banner, which must not
promise less or more than the token can do)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from api import services
from api.models import ApiToken, Scope

DEMO_NAME = "Demo dispatch and vehicle location"
DEMO_TOKEN = "cnt_demo0001_public-demo-token-never-use-in-production"


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def add_arguments(self, parser):
        parser.add_argument("--scopes", action="store_true", help="print the token's scopes, not the token")

    def handle(self, *args, **options):
        if not settings.DEMO:
            raise CommandError("The demo token exists only in demo mode (CONNECT_MODE=demo).")
        if not ApiToken.objects.filter(name=DEMO_NAME).exists():
            services.token_create(name=DEMO_NAME, key=DEMO_TOKEN, scopes=[
                Scope.DISPATCH_WRITE, Scope.POSITIONS_WRITE, Scope.DISPATCH_READ, Scope.REGISTRY_READ])
        if options["scopes"]:
            self.stdout.write(", ".join(ApiToken.objects.get(name=DEMO_NAME).scopes))
            return
        self.stdout.write(DEMO_TOKEN)
