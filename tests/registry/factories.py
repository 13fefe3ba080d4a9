import factory
from django.contrib.gis.geos import Point
from django.utils import timezone

from registry.models import Camera, Owner

# Downtown Raleigh, inside the default service area.
DOWNTOWN = (35.7796, -78.6382)


class OwnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Owner

    kind = Owner.Kind.RESIDENT
    name = factory.Sequence(lambda n: f"Owner Person{n}")
    email = factory.Sequence(lambda n: f"owner{n}@example.org")
    phone = factory.Sequence(lambda n: f"919-555-{1000 + n}")
    address = factory.Sequence(lambda n: f"{100 + n} Test Street, Raleigh, NC")
    terms_version = "2026-1"
    terms_accepted_at = factory.LazyFunction(timezone.now)
    confirmed_at = factory.LazyFunction(timezone.now)


class CameraFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Camera

    owner = factory.SubFactory(OwnerFactory)
    label = factory.Sequence(lambda n: f"Camera {n}")
    location = factory.LazyFunction(lambda: Point(DOWNTOWN[1], DOWNTOWN[0], srid=4326))
    address = factory.LazyAttribute(lambda camera: camera.owner.address)
    placement = Camera.Placement.OUTDOOR
    faces_public = True
    direction_deg = 90
    field_of_view_deg = 90
    range_m = 30
    status = Camera.Status.ACTIVE
