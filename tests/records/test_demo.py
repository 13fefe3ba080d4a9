"""The demo's closed case: its clip (a rendered plate) is refused under the confidential policy and released,
plate blurred, under the releasable one."""

import pytest
from django.core.management import call_command

from records import services
from records.models import Redaction
from records.policy import ReleaseRefused
from requests_app.models import Incident
from tests.conftest import make_staff
from tests.registry.factories import CameraFactory, OwnerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_case(settings):
    settings.DEMO = True
    CameraFactory(owner=OwnerFactory(email="resident@example.org"))
    call_command("seed_demo_records")
    call_command("seed_demo_records")  # idempotent
    return Incident.objects.get(case_number="26-003170")


def test_the_demo_case_is_refused_when_confidential(demo_case, settings):
    settings.RECORDS_POLICY = "confidential"
    with pytest.raises(ReleaseRefused, match="confidential"):
        services.release_prepare(incident=demo_case, user=make_staff("records_officer"), request_reference="D-1")


def test_the_demo_case_is_redacted_when_releasable(demo_case, settings, django_capture_on_commit_callbacks):
    settings.RECORDS_POLICY = "releasable"
    with django_capture_on_commit_callbacks(execute=True):
        services.release_prepare(incident=demo_case, user=make_staff("records_officer"), request_reference="D-1")
    item = Redaction.objects.get()
    assert item.state == Redaction.State.DONE, item.failure_reason
    assert "plate" in {box[4] for box in item.keyframes[0]["boxes"]}
