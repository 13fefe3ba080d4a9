from datetime import timedelta

import factory
from django.contrib.gis.geos import Point
from django.utils import timezone

from requests_app.models import Incident


class IncidentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Incident

    case_number = factory.Sequence(lambda n: f"26-{n:06d}")
    offense_type = "Burglary"
    location = factory.LazyFunction(lambda: Point(-78.6382, 35.7796, srid=4326))
    address = "200 Fayetteville St"
    starts_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=5))
    ends_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=3))
    radius_m = 300
    owner_summary = "A car was broken into on this block on Tuesday evening."
    internal_notes = "Suspect: SECRET-NOTE tall male, red hoodie"
