"""Demo data: a city's worth of cameras around Raleigh, NC, and one staff user per role. Idempotent."""

import random
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.contrib.gis.geos import Point
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from addresses.demo import DEMO_CITY, demo_addresses
from addresses.models import AddressPoint
from addresses.services import address_points_replace
from common import roles
from registry.models import Camera, Owner
from registry.services import cameras_registered_record

DEMO_PASSWORD = "connect-demo-2026"
DEMO_OWNER_EMAIL = "resident@example.org"
STAFF = [
    ("investigator", roles.INVESTIGATOR, "Dana", "Reyes"),
    ("analyst", roles.CRIME_ANALYST, "Sam", "Okafor"),
    ("supervisor", roles.SUPERVISOR, "Lee", "Whitaker"),
    ("auditor", roles.AUDITOR, "Pat", "Nguyen"),
    ("admin", roles.ADMINISTRATOR, "Alex", "Morgan"),
    ("records", roles.RECORDS_OFFICER, "Robin", "Castillo"),
]
STREETS = ["Fayetteville St", "Hillsborough St", "Glenwood Ave", "Person St", "Blount St", "Wade Ave",
           "Oberlin Rd", "New Bern Ave", "Capital Blvd", "Six Forks Rd", "Falls of Neuse Rd", "Western Blvd",
           "Poole Rd", "Rock Quarry Rd", "Lake Boone Trl", "Atlantic Ave", "Peace St", "Edenton St"]
# Neighbourhood centres (lat, lng) the points cluster around, like a real city's.
CENTRES = [(35.7796, -78.6382), (35.8032, -78.6460), (35.7880, -78.6700), (35.8300, -78.6400),
           (35.7700, -78.6000), (35.8600, -78.6200), (35.7450, -78.6600), (35.8200, -78.5800),
           (35.8700, -78.7000), (35.7600, -78.7100)]
FIRST = ["Maria", "James", "Aisha", "Robert", "Mei", "Carlos", "Linda", "Tyrone", "Priya", "John", "Fatima",
         "David", "Grace", "Luis", "Emily", "Kwame", "Sarah", "Michael", "Olga", "Jamal"]
LAST = ["Johnson", "Smith", "Williams", "Garcia", "Brown", "Lee", "Patel", "Davis", "Martinez", "Wilson",
        "Thompson", "Moore", "Jackson", "White", "Harris", "Clark", "Lewis", "Walker", "Young", "Allen"]
BUSINESS = ["Market", "Pharmacy", "Cafe", "Hardware", "Auto Repair", "Bakery", "Gas Station", "Laundromat",
            "Bank Branch", "Convenience Store", "Diner", "Salon", "Bookstore", "Pizza", "Dental Office"]
LABELS = {"resident": ["Front porch", "Driveway", "Doorbell", "Garage", "Side yard facing street"],
          "business": ["Entrance", "Parking lot", "Storefront", "Loading dock", "Drive-through", "Register area"],
          "agency": ["Traffic camera", "Intersection CCTV", "Park CCTV", "Transit stop camera"]}


class Command(BaseCommand):
    help = "Loads demo owners, cameras and staff users (once; running it again changes nothing)."

    def add_arguments(self, parser):
        parser.add_argument("--residents", type=int, default=2000, help="resident cameras")
        parser.add_argument("--businesses", type=int, default=1300, help="business cameras")
        parser.add_argument("--agency", type=int, default=150, help="agency cameras")
        parser.add_argument("--addresses", type=int, default=30000, help="generated Raleigh address points")

    def handle(self, *args, **options):
        if not settings.DEMO:
            raise CommandError("seed_demo runs only in demo mode (CONNECT_MODE=demo): it creates known passwords.")
        self._staff()
        self._addresses(options["addresses"])
        if Owner.objects.filter(email=DEMO_OWNER_EMAIL).exists():
            self.stdout.write("demo data already loaded")
            return
        rng = random.Random(2026)
        with transaction.atomic():
            self._demo_owner()
            made = sum(
                self._owners_and_cameras(rng, kind, count)
                for kind, count in (("resident", options["residents"]), ("business", options["businesses"]),
                                    ("agency", options["agency"]))
            )
        self.stdout.write(f"demo data loaded: {made} cameras")

    def _staff(self):
        for username, role, first, last in STAFF:
            user, created = User.objects.get_or_create(
                username=username, defaults={"first_name": first, "last_name": last, "is_staff": True,
                                             "email": f"{username}@police.example.org"})
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            user.groups.add(Group.objects.get(name=role))

    def _addresses(self, count):
        """A generated Raleigh address set for address search (addresses/demo.py), loaded once, apart from the
        cameras so that a demo database made before it gets it too."""
        if AddressPoint.objects.filter(city=DEMO_CITY).exists():
            return
        loaded = address_points_replace(city=DEMO_CITY, rows=demo_addresses(count))
        self.stdout.write(f"demo address points loaded: {loaded}")

    def _demo_owner(self):
        now = timezone.now()
        owner = Owner.objects.create(
            kind="resident", name="Jordan Demo", email=DEMO_OWNER_EMAIL, phone="919-555-0142",
            address="210 Oberlin Rd, Raleigh, NC", terms_version=settings.TERMS_VERSION, terms_accepted_at=now,
            confirmed_at=now, confirmation_sent_at=now)
        # The driveway camera was last confirmed over a year ago: the yearly re-confirmation asks about it
        # (`manage.py advance_reconfirmations`, or beat's daily run), and the mail lands in the demo inbox.
        year_ago = now - timedelta(days=settings.RECONFIRM_DAYS + 1)
        demo_cameras = (("Front porch", -78.6612, 35.7981, 90, None), ("Driveway", -78.6610, 35.7983, 180, year_ago))
        for label, lng, lat, direction, confirmed in demo_cameras:
            Camera.objects.create(owner=owner, label=label, location=Point(lng, lat, srid=4326),
                                  address=owner.address, direction_deg=direction, faces_public=True,
                                  status=Camera.Status.ACTIVE, reconfirmed_at=confirmed)

    def _point(self, rng):
        lat, lng = rng.choice(CENTRES)
        return Point(lng + rng.gauss(0, 0.018), lat + rng.gauss(0, 0.014), srid=4326)

    def _owners_and_cameras(self, rng, kind, camera_count):
        now = timezone.now()
        cameras = []
        while len(cameras) < camera_count:
            name = self._name(rng, kind)
            street = f"{rng.randint(100, 4999)} {rng.choice(STREETS)}, Raleigh, NC"
            owner = Owner.objects.create(
                kind=kind, name=name, email=f"owner{rng.randrange(10**9)}@example.org",
                phone=f"919-555-{rng.randint(1000, 9999)}", address=street, terms_version=settings.TERMS_VERSION,
                terms_accepted_at=now, confirmed_at=now, confirmation_sent_at=now)
            per_owner = {"resident": rng.choice([1, 1, 1, 2]), "business": rng.randint(1, 3), "agency": 75}[kind]
            base = self._point(rng)
            for i in range(min(per_owner, camera_count - len(cameras))):
                point = base if kind != "agency" else self._point(rng)
                indoor = kind == "business" and rng.random() < 0.15
                integrated = not indoor and rng.random() < {"resident": 0.03, "business": 0.10, "agency": 0.5}[kind]
                cameras.append(Camera(
                    owner=owner, label=rng.choice(LABELS[kind]) + (f" {i + 1}" if i else ""),
                    location=Point(point.x + rng.gauss(0, 0.0002), point.y + rng.gauss(0, 0.0002), srid=4326),
                    address=street, placement="indoor" if indoor else "outdoor", faces_public=not indoor,
                    direction_deg=rng.randrange(360), field_of_view_deg=rng.choice([90, 110, 130, 180]),
                    range_m=rng.choice([15, 25, 40, 60]), retention_days=rng.choice([3, 7, 14, 30]),
                    level="integrated" if integrated else "registered",
                    status=self._status(rng, integrated), verified=rng.random() < 0.6))
        Camera.objects.bulk_create(cameras, batch_size=1000)
        for camera in cameras:
            if camera.status == "active":
                cameras_registered_record(camera=camera, kind=kind)
        return len(cameras)

    def _status(self, rng, integrated):
        # Drawn every time, so the demo's other cameras stay the same. An integrated camera is active: its owner
        # signs the live-sharing terms (seed_demo_live), which cannot be done for a paused camera.
        drawn = rng.choices(["active", "paused"], [0.95, 0.05])[0]
        return "active" if integrated else drawn

    def _name(self, rng, kind):
        if kind == "agency":
            return rng.choice(["Raleigh Police Department", "City of Raleigh Transportation"])
        if kind == "business":
            return f"{rng.choice(LAST)}'s {rng.choice(BUSINESS)}"
        return f"{rng.choice(FIRST)} {rng.choice(LAST)}"
