from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from requests_app import services
from requests_app.models import FootageRequest
from tests.conftest import make_staff
from tests.registry.factories import CameraFactory, OwnerFactory
from tests.requests_app.factories import IncidentFactory
from tests.requests_app.media import tiny_mp4

VIDEO = tiny_mp4()


@pytest.fixture(autouse=True)
def evidence_dir(settings, tmp_path):
    settings.EVIDENCE_DIR = tmp_path / "evidence"
    return settings.EVIDENCE_DIR


@pytest.fixture
def backups(tmp_path):
    folder = tmp_path / "backups"
    folder.mkdir()
    return folder


@pytest.fixture
def investigator(db):
    return make_staff("investigator")


def shared_clip(client, investigator, *, email: str, closed_days_ago: int | None = None, keep_days: int = 30):
    """A clip an owner uploaded through the consent page, on a case the investigator works; the case closed
    `closed_days_ago` days ago, if given."""
    incident = IncidentFactory()
    services.incident_investigators_set(incident=incident, users=[investigator])
    camera = CameraFactory(owner=OwnerFactory(email=email))
    request = FootageRequest.objects.create(incident=incident, camera=camera, camera_label=camera.label, nonce=email,
                                            state="sent", expires_at=timezone.now() + timedelta(days=3))
    url = services.consent_link(request).replace("http://testserver", "")
    response = client.post(url + "upload/", {"clips": [SimpleUploadedFile("door.mp4", VIDEO)],
                                             "keep_days": str(keep_days)})
    assert response.status_code == 200, response.content[:500]
    if closed_days_ago is not None:
        incident.status, incident.closed_at = "closed", timezone.now() - timedelta(days=closed_days_ago)
        incident.save()
    return request.clips.get()


def download(client, user, clip):
    client.force_login(user)
    response = client.get(f"/evidence/{clip.code}/download/")
    body = b"".join(response.streaming_content) if response.status_code == 200 else response.content
    client.logout()
    return response, body


@pytest.fixture
def moto_kms(moto_server, monkeypatch, settings):
    """connect pointed at the KMS of the suite's moto server (tests/conftest.py); yields a boto3 KMS client to make
    keys there."""
    import boto3

    if moto_server.process.poll() is not None:  # a test killed it
        moto_server.start()
    for variable, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                            ("AWS_DEFAULT_REGION", "us-east-1")):
        monkeypatch.setenv(variable, value)
    settings.KMS_ENDPOINT_URL, settings.KMS_REGION, settings.KMS_TIMEOUT_SECONDS = moto_server.url, "us-east-1", 2
    return boto3.client("kms", region_name="us-east-1", endpoint_url=moto_server.url)
