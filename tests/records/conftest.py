import pytest
from django.test import Client
from django.utils import timezone

from requests_app import services as case_services
from tests.conftest import make_staff
from tests.records import media
from tests.registry.factories import CameraFactory, OwnerFactory
from tests.requests_app.conftest import clip_uploaded
from tests.requests_app.factories import IncidentFactory


@pytest.fixture(autouse=True)
def evidence_dir(settings, tmp_path):
    settings.EVIDENCE_DIR = tmp_path / "evidence"
    return settings.EVIDENCE_DIR


@pytest.fixture
def releasable(settings):
    settings.RECORDS_POLICY = "releasable"
    settings.RECORDS_OBJECTION_DAYS = 10


@pytest.fixture
def officer(db):
    return make_staff("records_officer")


@pytest.fixture
def officer_client(client, officer):
    client.force_login(officer)
    return client


@pytest.fixture
def case_with_clip(db):
    """A case an owner (Spanish-speaking) shared a clip with a face and a plate for; still open."""
    investigator = make_staff("investigator")
    incident = IncidentFactory(case_number="26-004999")
    case_services.incident_investigators_set(incident=incident, users=[investigator])
    owner = OwnerFactory(name="Rosa Ramírez", email="rosa@example.org", language="es")
    camera = CameraFactory(owner=owner, label="Rosa garage")
    clip = clip_uploaded(Client(), incident, camera, name="driveway.mp4", video=media.scene_mp4(frames=6))
    return {"incident": incident, "owner": owner, "camera": camera, "clip": clip, "investigator": investigator}


def close(incident):
    incident.status = incident.Status.CLOSED
    incident.closed_at = timezone.now()
    incident.save(update_fields=["status", "closed_at"])
