"""Demo: a neighbour's confirmed concern about a home in an integrated camera's view, its owner asked by email (read
it in the demo inbox) and able to answer by adding a mask. Idempotent; demo mode only."""

import math

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from addresses.geocoders import GeocoderUnavailable, geocoder
from audit.actions import Action
from audit.ledger import record
from concerns import services
from concerns.models import Concern
from registry.models import Camera

NEIGHBOUR = "neighbour@example.org"


def _ahead(camera: Camera, metres: float) -> tuple[float, float]:
    """(lat, lng) `metres` along the camera's direction: a home it faces."""
    bearing = math.radians(camera.direction_deg)
    lat = camera.latitude + metres * math.cos(bearing) / 111_320
    lng = camera.longitude + metres * math.sin(bearing) / (111_320 * math.cos(math.radians(camera.latitude)))
    return lat, lng


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def handle(self, *args, **options):
        if not settings.DEMO:
            raise CommandError("seed_demo_concern runs only in demo mode (CONNECT_MODE=demo).")
        if Concern.objects.filter(email=NEIGHBOUR).exists():
            return
        camera = (Camera.objects.filter(level=Camera.Level.INTEGRATED, status=Camera.Status.ACTIVE,
                                        field_of_view_deg__lt=360).select_related("owner").order_by("pk").first())
        if camera is None:
            self.stderr.write("no integrated camera to seed a neighbour's concern for")
            return
        lat, lng = _ahead(camera, min(camera.range_m / 2, 15))
        try:
            place = geocoder().reverse(lat, lng)
        except GeocoderUnavailable:
            place = None
        concern = services.concern_submit(
            email=NEIGHBOUR, address=place.address if place else f"{lat:.5f}, {lng:.5f}", latitude=lat, longitude=lng,
            text="The camera across the street seems to look straight into our front room. Could it be turned "
                 "away, or our windows hidden?", language="en")
        Concern.objects.filter(pk=concern.pk).update(state=Concern.State.OPEN, confirmed_at=timezone.now(),
                                                     confirm_sent_at=timezone.now())
        record(actor="neighbour", action=Action.CONCERN_RECEIVED, target_type="concern", target_code=concern.code)
        concern.refresh_from_db()
        supervisor = get_user_model().objects.filter(username="supervisor").first()
        asked = services.concern_owners_ask(concern=concern, user=supervisor)
        self.stdout.write(f"demo neighbour's concern: the owners of {asked} camera(s) asked (see /demo/mail/)")
