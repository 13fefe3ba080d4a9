"""Demo: two patrol officers (`patrol` in unit 2B11, `patrol2` in 4C22) with fresh positions near the demo case
26-004512, so "units within 2 km" of its live view finds `patrol`. Run at each `make run`: positions older than
CONNECT_POSITIONS_KEEP_HOURS are purged, so each run reports them anew. Demo mode only."""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.gis.geos import Point
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from bulletins.models import PatrolOfficer
from common import roles
from dispatch.models import OfficerPosition

DEMO_PASSWORD = "connect-demo-2026"  # as registry's seed_demo
OFFICERS = [  # user name, first, last, unit, zone, where (lat, lng)
    ("patrol", "Jordan", "Reyes", "2B11", "Downtown", (35.7990, -78.6560)),  # about 500 m from the demo case
    ("patrol2", "Sam", "Okafor", "4C22", "North", (35.8700, -78.6400)),  # about 8 km north
]


class Command(BaseCommand):
    help = __doc__.splitlines()[0]

    def handle(self, *args, **options):
        if not settings.DEMO:
            raise CommandError("seed_demo_bulletins runs only in demo mode (CONNECT_MODE=demo).")
        group = Group.objects.get(name=roles.PATROL_OFFICER)
        now = timezone.now()
        for username, first, last, unit, zone, (lat, lng) in OFFICERS:
            user = get_user_model().objects.filter(username=username).first()
            if user is None:
                user = get_user_model().objects.create_user(username=username, password=DEMO_PASSWORD, is_staff=True,
                                                            first_name=first, last_name=last,
                                                            email=f"{username}@police.example")
                user.groups.add(group)
            PatrolOfficer.objects.get_or_create(user=user, defaults={"unit": unit, "zone": zone})
            OfficerPosition.objects.create(unit=unit, location=Point(lng, lat, srid=4326),
                                           recorded_at=now - timedelta(seconds=5))
        self.stdout.write("demo patrol officers: patrol (2B11), patrol2 (4C22)")
