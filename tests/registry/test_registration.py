import re

import pytest

from registry.models import Camera, Owner
from tests.conftest import link_in, parsed_mail

pytestmark = pytest.mark.django_db


def camera_fields(index: int = 0, **overrides) -> dict:
    fields = {
        "label": "Front porch", "latitude": "35.7796", "longitude": "-78.6382", "address": "1 Main St",
        "placement": "outdoor", "faces_public": "on", "direction_deg": "90", "field_of_view_deg": "90",
        "range_m": "30", "records": "on", "retention_days": "7",
    }
    fields.update(overrides)
    return {f"cameras-{index}-{key}": value for key, value in fields.items() if value is not None}


def registration(cameras: int = 1, camera_overrides: dict | None = None, **owner_overrides) -> dict:
    data = {
        "kind": "resident", "name": "Rita Resident", "email": "Rita@Example.org", "phone": "919-555-0123",
        "address": "1 Main St, Raleigh", "accept_terms": "on",
        "cameras-TOTAL_FORMS": str(cameras), "cameras-INITIAL_FORMS": "0",
        "cameras-MIN_NUM_FORMS": "1", "cameras-MAX_NUM_FORMS": "10",
    }
    for index in range(cameras):
        data.update(camera_fields(index, label=f"Camera {index + 1}", **(camera_overrides or {})))
    data.update(owner_overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_registration_creates_pending_owner_and_mails_a_confirmation_link(
    client, smtp_sink, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/register/", registration(cameras=2))

    assert response.status_code == 302 and response["Location"] == "/register/sent/"
    owner = Owner.objects.get()
    assert owner.email == "rita@example.org" and owner.confirmed_at is None and owner.terms_version
    assert sorted(owner.cameras.values_list("label", "status")) == [("Camera 1", "pending"), ("Camera 2", "pending")]
    [message] = parsed_mail(smtp_sink)
    assert message["To"] == "rita@example.org"
    assert "Confirm your camera registration" in message["Subject"]
    assert "/register/confirm/" in link_in(message)
    assert message.get_body(preferencelist=("html",)) is not None
    assert "R…@Example.org" in client.get("/register/sent/").content.decode()


@pytest.mark.parametrize(
    ("overrides", "camera_overrides", "message"),
    [
        ({}, {"latitude": "40.7128", "longitude": "-74.0060"}, "outside the area"),
        ({}, {"faces_public": None}, "face public space"),
        ({}, {"placement": "indoor", "faces_public": "on"}, "An indoor camera cannot be marked as facing public"),
        ({"email": "not-an-email"}, {}, "Enter a valid email address"),
        ({"phone": "call me"}, {}, "Enter a phone number of 7 to 15 digits"),
        ({}, {"direction_deg": "360"}, "Direction must be between 0 and 359"),
        ({}, {"direction_deg": "-1"}, "Direction must be between 0 and 359"),
        ({"accept_terms": None}, {}, "accept the program terms"),
        ({}, {"latitude": "north"}, "Enter a number"),
        ({}, {"range_m": "5000"}, "Range can be at most"),
    ],
)
def test_bad_registration_says_what_is_wrong_and_saves_nothing(client, overrides, camera_overrides, message):
    response = client.post("/register/", registration(camera_overrides=camera_overrides, **overrides))

    assert response.status_code == 200
    assert message in response.content.decode()
    assert Owner.objects.count() == 0 and Camera.objects.count() == 0


def test_one_bad_camera_among_several_saves_none(client):
    data = registration(cameras=2)
    data["cameras-1-direction_deg"] = "400"
    response = client.post("/register/", data)

    assert "Direction must be between 0 and 359" in response.content.decode()
    assert Owner.objects.count() == 0 and Camera.objects.count() == 0


def test_registration_without_cameras_is_refused(client):
    data = registration(cameras=0)
    response = client.post("/register/", data)

    assert response.status_code == 200
    page = response.content.decode()
    assert "Add at least one camera: its name and where it is." in page and "Please submit" not in page
    assert Owner.objects.count() == 0


def test_indoor_camera_without_attestation_is_accepted(client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/register/", registration(camera_overrides={"placement": "indoor",
                                                                             "faces_public": None}))
    assert response.status_code == 302
    camera = Camera.objects.get()
    assert camera.placement == "indoor" and camera.faces_public is False


def test_dead_smtp_server_loses_no_registration(client, settings, django_capture_on_commit_callbacks):
    from tests.conftest import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nothing listens there
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/register/", registration())

    assert response.status_code == 302
    owner = Owner.objects.get()
    assert owner.confirmation_sent_at is None  # the beat sweeper will send it when SMTP is back


def test_registration_page_is_accessible_without_javascript(client):
    html = client.get("/register/").content.decode()
    # Every camera field has a label tied to its input, and the coordinates are plain inputs.
    for field in ("label", "latitude", "longitude", "direction_deg", "field_of_view_deg", "faces_public"):
        assert f'for="id_cameras-0-{field}"' in html
    assert 'name="cameras-0-latitude"' in html
    assert 'name="viewport"' in html
    # Without JavaScript: no empty map box, no "add another" button that does nothing, and words for what to do
    assert re.search(r'<div class="camera-map"[^>]*\shidden>', html)
    assert re.search(r'<button type="button" id="add-camera"[^>]*\shidden>', html)
    assert "<noscript><p>To register more cameras, register this one first" in html


def test_the_service_area_can_be_any_polygon(client, settings):
    # A triangle north of downtown: the default downtown point is now outside.
    settings.SERVICE_AREA = {"type": "Polygon", "coordinates": [[[-78.70, 35.80], [-78.60, 35.80],
                                                                 [-78.65, 35.90], [-78.70, 35.80]]]}
    response = client.post("/register/", registration())
    assert "outside the area" in response.content.decode()
    response = client.post("/register/", registration(camera_overrides={"latitude": "35.82",
                                                                         "longitude": "-78.65"}))
    assert response.status_code == 302
