"""Who may open what: the staff pages against anonymous, owners A and B and every staff role; owner A never reaches
owner B's request; the neighbour's pages never name an owner, a camera or a place."""

import pytest
from django.test import Client

from concerns import links, services
from concerns.models import Concern, OwnerAsk
from tests.concerns.helpers import concern_form, confirmed_concern, supervisor
from tests.conftest import STAFF_ROLES, make_staff, sign_in_owner
from tests.registry.factories import CameraFactory

pytestmark = pytest.mark.django_db

ALL = ["anonymous", "owner_a", "owner_b", *STAFF_ROLES]
HANDLERS = {"supervisor"}


def as_who(client, who, owner_a, owner_b):
    if who in ("owner_a", "owner_b"):
        sign_in_owner(client, owner_a if who == "owner_a" else owner_b)
    elif who != "anonymous":
        from django.contrib.auth.models import User

        client.force_login(User.objects.filter(username=who).first() or make_staff(who))
    return client


@pytest.mark.parametrize("who", ALL)
def test_staff_concern_pages_are_for_supervisors_only(client, owner_a, owner_b, who):
    concern = confirmed_concern()
    as_who(client, who, owner_a, owner_b)
    for path in ("/staff/concerns/", f"/staff/concerns/{concern.code}/"):
        response = client.get(path)
        if who in HANDLERS:
            assert response.status_code == 200
        elif who in STAFF_ROLES:
            assert response.status_code == 403
        else:
            assert response.status_code == 302 and "/login/" in response["Location"]
        if response.status_code != 200:
            assert b"Alice" not in response.content and b"Gamma" not in response.content
    client.post(f"/staff/concerns/{concern.code}/", {"action": "ask"})
    assert OwnerAsk.objects.exists() == (who in HANDLERS)


def test_unconfirmed_concerns_are_not_shown_to_staff(client):
    concern = services.concern_submit(email="x@example.org", address="1 Main", latitude=35.7796, longitude=-78.6382,
                                      text="?", language="en")
    client.force_login(supervisor())
    assert client.get(f"/staff/concerns/{concern.code}/").status_code == 404
    assert b"1 Main" not in client.get("/staff/concerns/").content


def test_owner_a_never_sees_owner_b_request(client, owner_a, owner_b):
    bob_camera = owner_b.cameras.get()
    concern = confirmed_concern(lat=bob_camera.latitude, lng=bob_camera.longitude)
    services.concern_owners_ask(concern=concern, user=supervisor())
    bob_ask = OwnerAsk.objects.get(camera=bob_camera)
    assert not OwnerAsk.objects.filter(camera__owner=owner_a).exists()
    sign_in_owner(client, owner_a)
    assert client.get(f"/owner/concerns/{bob_ask.code}/").status_code == 404
    assert client.post(f"/owner/concerns/{bob_ask.code}/", {"answer": "declined"}).status_code == 404
    assert bob_camera.label.encode() not in client.get("/owner/concerns/").content
    assert OwnerAsk.objects.get(pk=bob_ask.pk).answer == OwnerAsk.Answer.PENDING
    anonymous = Client()
    assert anonymous.get(f"/owner/concerns/{bob_ask.code}/").status_code == 302


def test_the_neighbour_pages_name_no_owner_camera_or_place(client, owner_a, django_capture_on_commit_callbacks):
    CameraFactory(owner=owner_a, label="Secret side gate")
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/concern/", concern_form())
    concern = Concern.objects.get()
    confirm_url = links.link_url(nonce=concern.confirm_nonce, purpose=links.CONFIRM)
    pages = [client.get("/concern/"), client.get("/concern/sent/"), client.get(confirm_url),
             client.post(confirm_url)]
    services.concern_owners_ask(concern=concern, user=supervisor())
    pages.append(client.post(confirm_url))  # the used link, after owners were asked
    for response in pages:
        text = response.content.decode()
        for secret in ("Alice", "alice@", "porch", "Secret side gate", str(owner_a.code), "Alpha Street"):
            assert secret not in text


@pytest.mark.parametrize("language, says", [
    ("en", "The owners are told the address to keep out of view, never your name or email."),
    ("es", "A los propietarios les decimos la dirección que deben dejar fuera de la vista, nunca su nombre ni su "
           "correo."),
])
def test_the_form_says_what_owners_are_told_the_address(client, language, says):
    # The owners asked are mailed the neighbour's address: the form must not promise they never learn who asked.
    page = " ".join(client.get("/concern/", HTTP_ACCEPT_LANGUAGE=language).content.decode().split())
    assert says in page
    assert "never tell them who you are" not in page and "nunca les decimos a ellos quién es usted" not in page
