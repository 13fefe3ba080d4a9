"""The Administrator role reaches staff members' second-factor devices (a lost phone) without seeing their secrets,
and not those of superusers or other Administrators (issue 12, item 6; docs/SECURITY.md, Keys)."""

import pytest
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.models import AccessEntry
from tests.conftest import make_staff

pytestmark = pytest.mark.django_db


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def enrolled(user) -> TOTPDevice:
    static = StaticDevice.objects.create(user=user, name="Recovery codes")
    StaticToken.objects.create(device=static, token="recoverme42")
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def test_an_administrator_lists_devices_without_their_secrets():
    device = enrolled(make_staff("investigator"))
    client = as_user(make_staff("administrator"))
    listing = client.get("/admin/otp_totp/totpdevice/")
    assert listing.status_code == 200 and "investigator" in listing.content.decode()
    detail = client.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/").content.decode()
    assert device.key not in detail
    for page in ("config", "qrcode"):  # django-otp's own pages that draw the secret are gone
        response = client.get(f"/admin/otp_totp/totpdevice/{device.pk}/{page}/", follow=True)
        assert device.key not in response.content.decode() and "image/svg" not in response["Content-Type"]
    static = StaticDevice.objects.get()
    assert "recoverme42" not in client.get(f"/admin/otp_static/staticdevice/{static.pk}/change/").content.decode()


def test_an_administrator_removes_a_lost_phone_and_it_is_recorded():
    investigator = make_staff("investigator")
    device = enrolled(investigator)
    phone = Client()
    phone.force_login(investigator)
    response = as_user(make_staff("administrator")).post(f"/admin/otp_totp/totpdevice/{device.pk}/delete/",
                                                          {"post": "yes"})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    assert AccessEntry.objects.filter(action="mfa.device_removed", actor_label="administrator",
                                      target_code=str(investigator.pk)).exists()
    assert phone.get("/admin/").status_code == 302  # signed out: it enrols a new phone on the next sign-in


@pytest.mark.parametrize("target", ["superuser", "other_administrator"])
def test_an_administrator_cannot_remove_a_superusers_or_another_administrators_device(request, target):
    device = enrolled(request.getfixturevalue(target))
    client = as_user(make_staff("administrator"))
    assert client.post(f"/admin/otp_totp/totpdevice/{device.pk}/delete/", {"post": "yes"}).status_code == 403
    client.post("/admin/otp_totp/totpdevice/", {"action": "delete_selected", "_selected_action": [device.pk],
                                                "post": "yes"})
    assert TOTPDevice.objects.filter(pk=device.pk).exists()


@pytest.mark.parametrize("role", ["investigator", "analyst", "supervisor", "auditor"])
def test_other_roles_cannot_reach_devices(role):
    enrolled(make_staff("administrator"))
    assert as_user(make_staff(role)).get("/admin/otp_totp/totpdevice/").status_code == 403
