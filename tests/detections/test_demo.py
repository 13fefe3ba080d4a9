"""The demo: case 26-004512 gets a generated clip in which an investigator finds "white hat, backpack"."""

import pytest
from django.core.management import call_command

from detections import services
from detections.models import Detection
from requests_app.models import Clip

pytestmark = pytest.mark.django_db


def test_the_demo_case_has_a_clip_with_a_white_hat_and_backpack_at_the_third_second(settings):
    settings.DEMO = True
    call_command("seed_demo")
    call_command("seed_demo_incidents")
    call_command("seed_demo_detections")
    call_command("seed_demo_detections")  # idempotent
    (clip,) = Clip.objects.filter(incident__case_number="26-004512")
    services.clip_index(clip_id=clip.pk, max_attempts=3)  # what the demo's worker does once the upload commits
    (suspect,) = Detection.objects.filter(clip=clip, hat_colour="white", bag=True)
    assert 2.0 <= suspect.first_s <= 2.5 and suspect.direction == "right"
