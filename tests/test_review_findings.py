"""Regression tests for the findings of the first security review."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from registry.models import Camera
from requests_app import services
from requests_app.models import Clip, FootageRequest
from tests.conftest import make_staff
from tests.registry.factories import CameraFactory, OwnerFactory
from tests.requests_app.factories import IncidentFactory
from tests.requests_app.media import tiny_mp4

pytestmark = pytest.mark.django_db


def test_an_administrator_cannot_make_themselves_superuser_or_change_their_own_roles(client):
    admin = make_staff("administrator")
    client.force_login(admin)
    page = client.get(f"/admin/auth/user/{admin.pk}/change/").content.decode()
    assert 'name="is_superuser"' not in page and 'name="groups"' not in page
    other = make_staff("analyst")
    page = client.get(f"/admin/auth/user/{other.pk}/change/").content.decode()
    assert 'name="is_superuser"' not in page and 'name="groups"' in page


def test_an_analyst_cannot_find_an_owner_by_email_or_see_paused_cameras(client):
    owner = OwnerFactory(email="zed@secret.example", name="Zed Secret")
    CameraFactory(owner=owner, label="Zed porch")
    CameraFactory(owner=OwnerFactory(), label="Paused one", status=Camera.Status.PAUSED)
    client.force_login(make_staff("analyst"))
    assert "Zed porch" not in client.get("/admin/registry/camera/?q=zed@secret.example").content.decode()
    assert "Paused one" not in client.get("/admin/registry/camera/").content.decode()
    # Issue 12: investigators neither (one owner at a time, with a reason); administrators, who list owners, do.
    client.force_login(make_staff("investigator"))
    assert "Zed porch" not in client.get("/admin/registry/camera/?q=zed@secret.example").content.decode()
    client.force_login(make_staff("administrator"))
    assert "Zed porch" in client.get("/admin/registry/camera/?q=zed@secret.example").content.decode()


def test_the_map_cannot_locate_a_paused_camera_by_address(client):
    CameraFactory(label="Hidden", address="77 Paused Road", status=Camera.Status.PAUSED)
    client.force_login(make_staff("analyst"))
    assert client.get("/map/nearby.json?q=77 Paused Road&radius=100").status_code == 404


def test_requests_go_only_to_cameras_inside_the_incident_radius(django_capture_on_commit_callbacks):
    from django.contrib.gis.geos import Point

    investigator = make_staff("investigator")
    incident = IncidentFactory(radius_m=300)
    services.incident_investigators_set(incident=incident, users=[investigator])
    near = CameraFactory()
    far = CameraFactory(location=Point(-78.55, 35.90, srid=4326))
    with django_capture_on_commit_callbacks(execute=True):
        services.footage_requests_send(incident=incident, camera_codes=[near.code, far.code], user=investigator)
    assert list(FootageRequest.objects.values_list("camera__label", flat=True)) == [near.label]


@pytest.fixture
def consent_url(settings, tmp_path):
    settings.EVIDENCE_DIR = tmp_path / "evidence"
    from datetime import timedelta

    from django.utils import timezone

    request = FootageRequest.objects.create(incident=IncidentFactory(), camera=CameraFactory(), camera_label="c",
                                            nonce="n", state="sent", expires_at=timezone.now() + timedelta(days=2))
    return services.consent_link(request).replace("http://testserver", "") + "upload/"


def leftovers(settings):
    return list(settings.EVIDENCE_DIR.glob("*")) if settings.EVIDENCE_DIR.exists() else []


def test_a_failed_csrf_check_leaves_no_file(consent_url, settings):
    client = Client(enforce_csrf_checks=True)
    client.cookies["csrftoken"] = "a" * 32
    response = client.post(consent_url, {"clips": [SimpleUploadedFile("a.mp4", tiny_mp4())], "keep_days": "30",
                                         "csrfmiddlewaretoken": "b" * 32})
    assert response.status_code == 403
    assert leftovers(settings) == []


def test_files_under_another_field_are_not_kept(client, consent_url, settings):
    response = client.post(consent_url, {"clips": [SimpleUploadedFile("a.mp4", tiny_mp4())], "keep_days": "30",
                                         "other": [SimpleUploadedFile("b.mp4", tiny_mp4())]})
    assert response.status_code == 200
    assert [p.name for p in leftovers(settings)] == [Clip.objects.get().stored_name]


def test_an_invalid_link_reads_no_body(client, settings):
    response = client.post("/footage/not-a-token/upload/", {"clips": [SimpleUploadedFile("a.mp4", tiny_mp4())]})
    assert response.status_code == 410 and leftovers(settings) == []


def test_csv_export_neutralises_formulas(client):
    from audit.ledger import record

    record(actor="=HYPERLINK(\"https://evil.example\")", action="signin.failed")
    client.force_login(make_staff("auditor"))
    body = b"".join(client.get("/audit/?action=signin&format=csv").streaming_content).decode()
    assert "'=HYPERLINK" in body and "\n=HYPERLINK" not in body.replace(",=", "\n=")


def test_only_investigators_and_supervisors_can_be_put_on_a_case(client):
    investigator = make_staff("investigator")
    make_staff("analyst")
    incident = IncidentFactory()
    services.incident_investigators_set(incident=incident, users=[investigator])
    client.force_login(investigator)
    page = client.get(f"/admin/requests_app/incident/{incident.pk}/change/").content.decode()
    assert ">investigator</option>" in page and ">analyst</option>" not in page
