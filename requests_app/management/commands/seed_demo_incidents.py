"""Demo: one open incident downtown, assigned to the demo investigator. Idempotent; demo mode only."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from requests_app import services
from requests_app.models import Incident

CASE = "26-004512"


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def handle(self, *args, **options):
        if not settings.DEMO:
            raise CommandError("seed_demo_incidents runs only in demo mode (CONNECT_MODE=demo).")
        if Incident.objects.filter(case_number=CASE).exists():
            return
        investigator = get_user_model().objects.filter(username="investigator").first()
        now = timezone.now()
        incident = Incident.objects.create(
            case_number=CASE, offense_type="Vehicle break-in", location=Point(-78.6612, 35.7982, srid=4326),
            address="200 block of Oberlin Rd", starts_at=now - timedelta(hours=20), ends_at=now - timedelta(hours=17),
            radius_m=250, owner_summary="A parked car was broken into on this block last night. We are looking for "
                                        "footage of people or vehicles passing between those times.",
            internal_notes="Demo case.", created_by=investigator)
        if investigator:
            services.incident_investigators_set(incident=incident, users=[investigator])
        self.stdout.write(f"demo incident {CASE} created")
