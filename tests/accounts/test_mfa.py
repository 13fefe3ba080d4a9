import re

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.conftest import make_staff

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery-9"


@pytest.fixture(autouse=True)
def mfa_on(settings):
    settings.MFA_REQUIRED = True


def sign_in(client, username="investigator"):
    return client.post("/admin/login/?next=/map/", {"username": username, "password": PASSWORD})


def current_code(device) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


@pytest.mark.parametrize("path", ["/map/", "/admin/", "/admin/registry/owner/", "/demo/mail/",
                                  "/admin/requests_app/incident/"])
def test_a_staff_page_without_the_second_factor_is_refused(client, path):
    make_staff("investigator")
    sign_in(client)
    response = client.get(path)
    assert response.status_code == 302 and response["Location"].startswith("/account/mfa/setup/")


def test_data_endpoints_say_401_until_the_second_factor(client):
    make_staff("investigator")
    sign_in(client)
    assert client.get("/map/nearby.json?lat=35.78&lng=-78.64").status_code == 401


def test_enrolment_then_every_sign_in_asks_for_a_code(client):
    user = make_staff("investigator")
    sign_in(client)
    page = client.get("/account/mfa/setup/?next=/map/").content.decode()
    assert "<svg" in page  # the QR code is drawn here, not fetched from anywhere
    device = TOTPDevice.objects.get(user=user)

    response = client.post("/account/mfa/setup/?next=/map/", {"token": current_code(device)})
    codes = re.findall(r"<li><code>(\w+)</code></li>", response.content.decode())
    assert len(codes) == 10
    assert client.get("/map/").status_code == 200

    client.logout()
    sign_in(client)
    assert client.get("/map/")["Location"].startswith("/account/mfa/verify/")
    assert client.post("/account/mfa/verify/?next=/map/", {"token": codes[0]}).status_code == 302
    assert client.get("/map/").status_code == 200

    client.logout()
    sign_in(client)
    response = client.post("/account/mfa/verify/?next=/map/", {"token": codes[0]})  # used once already
    assert "did not match" in response.content.decode()


def test_wrong_codes_count_toward_the_lockout(client):
    from accounts.models import AccountLock

    make_staff("investigator")
    sign_in(client)
    client.get("/account/mfa/setup/")
    for _ in range(5):
        response = client.post("/account/mfa/setup/", {"token": "000000"})
    assert AccountLock.objects.filter(username="investigator").exists()
    assert response.status_code == 302 and "_auth_user_id" not in client.session


def test_next_cannot_leave_the_site(client):
    user = make_staff("investigator")
    sign_in(client)
    client.get("/account/mfa/setup/")
    device = TOTPDevice.objects.get(user=user)
    response = client.post("/account/mfa/setup/?next=https://evil.example/", {"token": current_code(device)})
    assert "https://evil.example/" not in response.content.decode()


def test_public_pages_stay_open_to_a_half_signed_in_staff_member(client):
    make_staff("investigator")
    sign_in(client)
    assert client.get("/register/").status_code == 200
