from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from registry.models import Camera, Owner
from tests.conftest import link_in, make_staff, parsed_mail, sign_in_owner, token_from
from tests.registry.factories import CameraFactory
from tests.registry.test_registration import camera_fields

pytestmark = pytest.mark.django_db


def test_asking_for_a_link_never_reveals_whether_an_email_is_registered(
    client, owner_a, smtp_sink, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        known = client.post("/owner/", {"email": "alice@example.org"})
        unknown = client.post("/owner/", {"email": "nobody@example.org"})

    assert known.status_code == unknown.status_code == 200
    assert known.content == unknown.content
    [message] = parsed_mail(smtp_sink)
    assert message["To"] == "alice@example.org"


def test_a_sign_in_link_works_once(client, owner_a, smtp_sink, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/owner/", {"email": "ALICE@example.org "})
    url = link_in(parsed_mail(smtp_sink)[0])
    path = "/owner/sign-in/" + token_from(url) + "/"

    assert "Sign in" in client.get(path).content.decode()
    assert client.post(path).status_code == 302
    assert "Alice porch" in client.get("/owner/").content.decode()
    other = client.__class__()
    assert other.post(path).status_code == 410


def test_the_portal_session_expires(client, owner_a, settings):
    sign_in_owner(client, owner_a)
    session = client.session
    session["portal_owner"]["until"] = (timezone.now() - timedelta(seconds=1)).timestamp()
    session.save()

    response = client.get("/owner/")
    assert "Email me a sign-in link" in response.content.decode()


def test_owner_edits_a_camera(client, owner_a):
    sign_in_owner(client, owner_a)
    camera = owner_a.cameras.get()
    data = {key.replace("cameras-0-", ""): value for key, value in camera_fields(label="Porch (new)").items()}
    response = client.post(f"/owner/cameras/{camera.code}/", data)

    assert response.status_code == 302
    camera.refresh_from_db()
    assert camera.label == "Porch (new)"


def test_each_camera_shows_the_address_its_owner_gave(client, owner_a):
    sign_in_owner(client, owner_a)
    CameraFactory(owner=owner_a, label="Shop door", address="9 Side Lane, Raleigh, NC")
    owner_a.cameras.filter(label="Alice porch").update(address="")  # none given for it: the owner's own
    page = client.get("/owner/").content.decode()
    assert "9 Side Lane, Raleigh, NC" in page
    assert "At your address, 1 Alpha Street, Raleigh, NC" in page and "No address given" not in page


def test_owner_edit_with_bad_direction_keeps_the_camera(client, owner_a):
    sign_in_owner(client, owner_a)
    camera = owner_a.cameras.get()
    data = {key.replace("cameras-0-", ""): value for key, value in camera_fields(direction_deg="999").items()}
    response = client.post(f"/owner/cameras/{camera.code}/", data)

    assert "Direction must be between 0 and 359" in response.content.decode()
    camera.refresh_from_db()
    assert camera.label == "Alice porch" and camera.direction_deg == 90


def test_owner_pauses_and_resumes(client, owner_a):
    sign_in_owner(client, owner_a)
    camera = owner_a.cameras.get()

    client.post(f"/owner/cameras/{camera.code}/pause/", {"action": "pause"})
    camera.refresh_from_db()
    assert camera.status == Camera.Status.PAUSED
    client.post(f"/owner/cameras/{camera.code}/pause/", {"action": "resume"})
    camera.refresh_from_db()
    assert camera.status == Camera.Status.ACTIVE


def test_owner_adds_a_camera_that_is_active_at_once(client, owner_a):
    sign_in_owner(client, owner_a)
    data = {key.replace("cameras-0-", ""): value for key, value in camera_fields(label="Garage").items()}
    assert client.post("/owner/cameras/add/", data).status_code == 302
    assert owner_a.cameras.get(label="Garage").status == Camera.Status.ACTIVE


def test_owner_updates_details(client, owner_a):
    sign_in_owner(client, owner_a)
    client.post("/owner/details/", {"name": "Alice A.", "phone": "919 555 0199", "address": ""})
    owner_a.refresh_from_db()
    assert (owner_a.name, owner_a.phone) == ("Alice A.", "919 555 0199")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/owner/cameras/{code}/"),
        ("post", "/owner/cameras/{code}/"),
        ("post", "/owner/cameras/{code}/pause/"),
        ("get", "/owner/cameras/{code}/delete/"),
        ("post", "/owner/cameras/{code}/delete/"),
    ],
)
def test_owner_a_can_never_reach_owner_b_cameras(client, owner_a, owner_b, method, path):
    sign_in_owner(client, owner_a)
    camera_b = owner_b.cameras.get()
    response = getattr(client, method)(path.format(code=camera_b.code))

    assert response.status_code == 404
    camera_b.refresh_from_db()
    assert camera_b.status == Camera.Status.ACTIVE and camera_b.label == "Bob driveway"
    portal = client.get("/owner/").content.decode()
    assert "Bob" not in portal and "bob@example.org" not in portal


@pytest.mark.parametrize("path", ["/owner/details/", "/owner/cameras/add/", "/owner/delete/"])
def test_portal_pages_need_a_signed_in_owner(client, path):
    response = client.get(path)
    assert response.status_code == 302 and response["Location"] == "/owner/"


def test_staff_session_is_not_an_owner_session(client, staff_user, owner_a):
    client.force_login(staff_user("administrator"))
    assert "My cameras" not in client.get("/owner/").content.decode()


def _map_search(client, case: str) -> None:
    response = client.get("/map/nearby.json", {"lat": 35.7796, "lng": -78.6382, "radius": 250, "case": case})
    assert response.status_code == 200


def test_map_searches_that_found_a_camera_are_one_summary_line_per_day(client, owner_a):
    investigator = Client()
    investigator.force_login(make_staff("investigator"))
    for case in ("26-000012", "26-000031", "26-000012"):
        _map_search(investigator, case)

    sign_in_owner(client, owner_a)
    page = client.get("/owner/history/").content.decode()
    assert page.count('<tr class="summary">') == 1
    assert "was in 3 map searches" in page and "26-000012, 26-000031" in page and "Alice porch" in page


def test_the_daily_digest_summarises_map_searches(client, owner_a, smtp_sink):
    from registry.services import owner_digests_send

    Owner.objects.filter(pk=owner_a.pk).update(daily_digest=True)
    investigator = Client()
    investigator.force_login(make_staff("investigator"))
    for case in ("26-000012", "26-000031"):
        _map_search(investigator, case)

    assert owner_digests_send() == 1
    [message] = parsed_mail(smtp_sink)
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "Alice porch · was in 2 map searches by Investigator · for cases 26-000012, 26-000031" in text
    assert text.count("map search") == 1 and "1 event" in message["Subject"]
