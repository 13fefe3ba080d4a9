from datetime import timedelta

import pytest
from django.utils import timezone

from registry.models import Camera
from requests_app import services
from requests_app.models import FootageRequest
from tests.conftest import make_staff
from tests.registry.factories import CameraFactory, OwnerFactory
from tests.requests_app.factories import IncidentFactory


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
    services.incident_investigators_set(incident=incident, users=[investigator])
    return incident


@pytest.fixture
def street_cameras(db):
    """Three active cameras near the incident, one paused, one far away."""
    from django.contrib.gis.geos import Point

    near = [CameraFactory(label=f"Near {i}", owner=OwnerFactory(email=f"near{i}@example.org"),
                          location=Point(-78.6382 + i * 0.0005, 35.7800, srid=4326)) for i in range(3)]
    paused = CameraFactory(label="Paused one", status=Camera.Status.PAUSED, owner=OwnerFactory(email="p@example.org"))
    far = CameraFactory(label="Far", location=Point(-78.70, 35.85, srid=4326))
    return {"near": near, "paused": paused, "far": far}


@pytest.fixture
def footage_request(incident, street_cameras):
    """A request mailed to the first nearby camera's owner, open for ten more days."""
    return FootageRequest.objects.create(incident=incident, camera=street_cameras["near"][0], camera_label="Near 0",
                                         nonce="nonce-1", state="sent", sent_at=timezone.now(),
                                         expires_at=timezone.now() + timedelta(days=10))


def clip_uploaded(client, incident, camera, *, name: str, video: bytes, keep_days: int = 90):
    """The clip an owner uploads through the consent page (the form without JavaScript) for a request sent to
    `camera`; `client` ends signed out."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from requests_app.models import Clip

    request = FootageRequest.objects.create(incident=incident, camera=camera, camera_label="Near", nonce="n",
                                            state="sent", expires_at=timezone.now() + timedelta(days=5))
    url = services.consent_link(request).replace("http://testserver", "")
    client.post(url + "upload/", {"clips": [SimpleUploadedFile(name, video)], "keep_days": str(keep_days)})
    client.logout()
    return Clip.objects.get(request=request)
