from datetime import timedelta

import pytest
from django.utils import timezone

from registry import links
from registry.models import Camera, OwnerLink
from tests.conftest import token_from
from tests.registry.factories import CameraFactory, OwnerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending_owner():
    owner = OwnerFactory(confirmed_at=None)
    CameraFactory(owner=owner, status=Camera.Status.PENDING)
    return owner


def confirm_token(owner) -> str:
    return token_from(links.link_issue(owner=owner, purpose=OwnerLink.Purpose.CONFIRM))


def test_opening_the_link_does_not_confirm(client, pending_owner):
    # Mail scanners follow links: a GET only shows the button.
    response = client.get(f"/register/confirm/{confirm_token(pending_owner)}/")

    assert response.status_code == 200 and "Confirm my registration" in response.content.decode()
    pending_owner.refresh_from_db()
    assert pending_owner.confirmed_at is None


def test_confirming_activates_cameras_and_opens_the_portal(client, pending_owner):
    response = client.post(f"/register/confirm/{confirm_token(pending_owner)}/")

    assert response.status_code == 302 and response["Location"] == "/owner/"
    pending_owner.refresh_from_db()
    assert pending_owner.confirmed_at is not None
    assert set(pending_owner.cameras.values_list("status", flat=True)) == {"active"}
    portal = client.get("/owner/").content.decode()
    assert pending_owner.cameras.get().label in portal
    assert "Your registration is confirmed." in portal  # said once, where the link lands
    assert "Your registration is confirmed." not in client.get("/owner/").content.decode()


def test_a_used_link_cannot_be_used_again(client, pending_owner):
    token = confirm_token(pending_owner)
    client.post(f"/register/confirm/{token}/")
    response = client.post(f"/register/confirm/{token}/")

    assert response.status_code == 410
    assert "already been used" in response.content.decode()


def test_an_expired_link_says_so(client, pending_owner, settings):
    token = confirm_token(pending_owner)
    OwnerLink.objects.update(created_at=timezone.now() - timedelta(hours=settings.CONFIRM_LINK_HOURS + 1))
    response = client.post(f"/register/confirm/{token}/")

    assert response.status_code == 410 and "expired" in response.content.decode()
    pending_owner.refresh_from_db()
    assert pending_owner.confirmed_at is None


@pytest.mark.parametrize("token", ["garbage", "eyJuIjoiYWJjIn0:1tXYZ:abcdefghijklmnop"])
def test_an_unknown_link_gets_a_friendly_page(client, token):
    response = client.get(f"/register/confirm/{token}/")

    assert response.status_code == 410
    assert "not valid" in response.content.decode()


def test_a_sign_in_link_cannot_confirm_a_registration(client, pending_owner):
    sign_in = token_from(links.link_issue(owner=pending_owner, purpose=OwnerLink.Purpose.SIGN_IN))
    response = client.post(f"/register/confirm/{sign_in}/")

    assert response.status_code == 410
    pending_owner.refresh_from_db()
    assert pending_owner.confirmed_at is None


def test_a_confirmation_link_cannot_sign_in(client, pending_owner):
    response = client.post(f"/owner/sign-in/{confirm_token(pending_owner)}/")

    assert response.status_code == 410
    assert "My cameras" not in client.get("/owner/").content.decode()
