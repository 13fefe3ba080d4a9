"""The demo's campaigns: an email campaign sent (its mail in the sink, in Spanish for the Spanish rows) and a letter
campaign for a few downtown blocks; loaded once however often `make run` starts."""

import pytest
from django.contrib.gis.geos import Point
from django.core.management import CommandError, call_command

from addresses.models import AddressPoint
from invitations.models import Campaign
from tests.conftest import parsed_mail

pytestmark = pytest.mark.django_db


def test_the_demo_campaigns_load_once(settings, smtp_sink, django_capture_on_commit_callbacks):
    settings.DEMO = True
    for number in range(3):
        AddressPoint.objects.create(city="raleigh-demo", address=f"{number} Test St", search_text=f"{number} test st",
                                    location=Point(-78.6382 + number * 0.0002, 35.7796, srid=4326))

    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo_invitations")
    call_command("seed_demo_invitations")

    assert sorted(Campaign.objects.values_list("channel", "status")) == [("email", "sent"), ("letter", "draft")]
    assert Campaign.objects.get(channel="letter").recipients.count() == 3
    subjects = {message["To"]: message["Subject"] for message in parsed_mail(smtp_sink)}
    assert len(subjects) == 6 and "invitación" in subjects["maria.lopez@example.org"]


def test_the_demo_campaigns_refuse_production(settings):
    settings.DEMO = False
    with pytest.raises(CommandError, match="demo mode"):
        call_command("seed_demo_invitations")
