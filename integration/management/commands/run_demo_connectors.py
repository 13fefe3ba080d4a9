"""Demo: runs camera connectors with the built-in test pattern for the demo owner's cameras and the
integrated cameras nearest the demo incident, so the live map works out of the box.

Each start issues fresh tokens (only their hashes are stored) and hands them to the connector processes;
Ctrl-C or SIGTERM stops them all.
"""

import signal
import subprocess
import sys
import time

from django.conf import settings
from django.contrib.gis.db.models.functions import Distance
from django.contrib.gis.geos import Point
from django.core.management.base import BaseCommand, CommandError

from integration import services
from registry.models import Camera, Owner

DEMO_OWNER_EMAIL = "resident@example.org"
DEMO_SPOT = Point(-78.6612, 35.7982, srid=4326)  # the demo incident


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=4, help="integrated cameras near the demo incident")
        parser.add_argument("--fps", type=int, default=5)

    def handle(self, *args, **options):
        if not settings.DEMO:
            raise CommandError("run_demo_connectors runs only in demo mode (CONNECT_MODE=demo).")
        cameras = list(Camera.objects.filter(owner__email=DEMO_OWNER_EMAIL, owner__kind=Owner.Kind.RESIDENT))
        cameras += list(Camera.objects.filter(level=Camera.Level.INTEGRATED, status=Camera.Status.ACTIVE)
                        .exclude(owner__email=DEMO_OWNER_EMAIL)
                        .annotate(d=Distance("location", DEMO_SPOT)).order_by("d")[:options["count"]])
        children = []
        for camera in cameras:
            token = services.connector_token_issue(camera=camera, by="demo")
            command = [sys.executable, "-m", "connect_connector", "--server", settings.PUBLIC_URL,
                       "--camera", str(camera.code), "--token", token, "--source", "test",
                       "--fps", str(options["fps"]), "--width", "640", "--log-format", settings.LOG_FORMAT]
            children.append(subprocess.Popen(command))
            self.stdout.write(f"demo connector for “{camera.label}” ({camera.code})")

        def stop(*_):
            for child in children:
                child.terminate()
            for child in children:
                child.wait(timeout=10)
            sys.exit(0)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        while True:
            time.sleep(5)
            for index, child in enumerate(children):
                if child.poll() is not None:  # a connector that died is started again
                    children[index] = subprocess.Popen(child.args)
