"""A case with one owner's 720p clip of known content: a person in a red top, blue trousers, a white hat and a
backpack walking right; one in green and black, bare-headed, walking left; a blue car driving right."""

import pytest

from detections import synthetic
from requests_app import services as requests_services
from tests.conftest import make_staff
from tests.registry.factories import CameraFactory, OwnerFactory
from tests.requests_app.conftest import clip_uploaded
from tests.requests_app.factories import IncidentFactory

SUSPECT = synthetic.Figure("red", "blue", hat="white", bag=True, x=200, dx=120, start_s=1.0, end_s=4.0)
PASSER_BY = synthetic.Figure("green", "black", x=1000, dx=-100, top=180, height=260, start_s=1.0)
CAR = synthetic.Vehicle("blue", dx=300)
SECONDS = 4.0


@pytest.fixture(scope="session")
def street_clip() -> bytes:
    return synthetic.clip_mp4([SUSPECT, PASSER_BY], [CAR], seconds=SECONDS)


@pytest.fixture(autouse=True)
def evidence_dir(settings, tmp_path):
    settings.EVIDENCE_DIR = tmp_path / "evidence"
    return settings.EVIDENCE_DIR


@pytest.fixture
def investigator(db):
    return make_staff("investigator")


@pytest.fixture
def incident(investigator):
    incident = IncidentFactory()
    requests_services.incident_investigators_set(incident=incident, users=[investigator])
    return incident


@pytest.fixture
def camera(db):
    return CameraFactory(label="Corner store", owner=OwnerFactory(email="store@example.org"))


@pytest.fixture
def clip(client, incident, camera, street_clip):
    """The owner's upload through the consent page: requests_app announces it, detections queues its index."""
    return clip_uploaded(client, incident, camera, name="street.mp4", video=street_clip)
