import pytest
from django.contrib.auth.models import User
from django.test import Client

from accounts.models import AccountLock
from audit.models import AccessEntry
from common.client import client_ip
from tests.accounts.addresses import OFFICE, STRANGER, fail_from, signed_in_from, still_in, unlock_minutes_pass
from tests.conftest import make_staff

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery-9"


def sign_in(client, username, password, forwarded_for=None):
    extra = {"HTTP_X_FORWARDED_FOR": forwarded_for} if forwarded_for else {}
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password}, **extra)


def test_the_fifth_failure_locks_and_not_the_fourth(client):
    make_staff("investigator")
    for _ in range(4):
        sign_in(client, "investigator", "wrong-password")
    assert sign_in(client, "investigator", PASSWORD).status_code == 302  # four failures: still fine
    client.logout()

    for attempt in range(5):
        response = sign_in(client, "investigator", "wrong-password", forwarded_for=f"10.0.0.{attempt}")
    assert "locked after too many failed sign-ins" in response.content.decode()
    response = sign_in(client, "investigator", PASSWORD)
    assert response.status_code == 200 and "locked" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert AccountLock.objects.filter(username="investigator", unlocked_at=None).exists()
    actions = set(AccessEntry.objects.values_list("action", flat=True))
    assert {"signin.failed", "account.locked", "signin.succeeded"} <= actions


def test_the_lock_is_by_user_name_whatever_the_address(client):
    make_staff("analyst")
    for attempt in range(5):
        sign_in(client, "analyst", "nope", forwarded_for=f"203.0.113.{attempt}, 198.51.100.{attempt}")
    assert AccountLock.objects.filter(username="analyst").exists()


def test_an_administrator_unlocks(client):
    make_staff("supervisor")
    for _ in range(5):
        sign_in(client, "supervisor", "nope")
    admin = make_staff("administrator")
    client.force_login(admin)
    lock = AccountLock.objects.get(address=None)  # the name-wide lock (there is one for the address too)
    client.post("/admin/accounts/accountlock/", {"action": "unlock", "_selected_action": [lock.pk]})
    client.logout()

    assert sign_in(client, "supervisor", PASSWORD).status_code == 302
    assert AccessEntry.objects.filter(action="account.unlocked", actor_label="administrator").exists()


def test_only_administrators_unlock(client):
    make_staff("auditor")
    for _ in range(5):
        sign_in(client, "auditor", "nope")
    client.force_login(make_staff("supervisor"))
    lock = AccountLock.objects.get(address=None)  # the name-wide lock (there is one for the address too)
    client.post("/admin/accounts/accountlock/", {"action": "unlock", "_selected_action": [lock.pk]})
    lock.refresh_from_db()
    assert lock.unlocked_at is None


def test_unknown_user_names_are_counted_too(client):
    for _ in range(5):
        sign_in(client, "nobody", "nope")
    assert AccountLock.objects.filter(username="nobody").exists()
    assert not User.objects.filter(username="nobody").exists()


@pytest.mark.parametrize(
    ("trusted", "remote", "forwarded", "expected"),
    [
        (0, "192.0.2.1", "6.6.6.6", "192.0.2.1"),  # no proxy: the header is the client's own claim
        (1, "10.0.0.1", "6.6.6.6, 203.0.113.9", "203.0.113.9"),  # one proxy: its entry, not the spoof
        (2, "10.0.0.1", "6.6.6.6, 203.0.113.9, 10.0.0.2", "203.0.113.9"),
        (1, "10.0.0.1", "", "10.0.0.1"),
    ],
)
def test_client_address_trusts_only_the_configured_proxies(rf, settings, trusted, remote, forwarded, expected):
    settings.TRUSTED_PROXIES = trusted
    request = rf.get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


# Lockout as a weapon (issue 12, item 6): an attacker's failures lock the name from their address until an
# Administrator acts, but the name from everywhere only for CONNECT_LOCKOUT_UNLOCK_MINUTES.

def from_address(client, username, password, address):
    return client.post("/admin/login/?next=/admin/", {"username": username, "password": password},
                       REMOTE_ADDR=address)


def test_a_strangers_failures_lock_the_name_for_minutes_not_until_an_administrator_acts(client, settings):
    make_staff("investigator")
    for _ in range(5):
        from_address(client, "investigator", "guess", "203.0.113.66")
    assert "locked" in from_address(client, "investigator", PASSWORD, "192.0.2.10").content.decode()

    unlock_minutes_pass(settings)
    assert from_address(client, "investigator", PASSWORD, "192.0.2.10").status_code == 302  # the owner is back
    assert AccessEntry.objects.filter(action="account.locked").count() == 2  # name-wide and from that address


def test_a_strangers_failures_neither_end_the_victims_session_nor_block_their_address_past_the_minutes(settings):
    make_staff("investigator")
    office = signed_in_from("investigator", OFFICE)
    fail_from("investigator", STRANGER)
    assert still_in(office)  # signed in before the guessing began: the lock does not reach it
    assert "locked" in from_address(Client(), "investigator", PASSWORD, OFFICE).content.decode()  # no new sign-in

    unlock_minutes_pass(settings)
    assert from_address(Client(), "investigator", PASSWORD, OFFICE).status_code == 302
    assert "locked" in from_address(Client(), "investigator", PASSWORD, STRANGER).content.decode()
    assert still_in(office)


def test_the_strangers_address_stays_locked_and_cannot_relock_the_name(client, settings):
    make_staff("investigator")
    for _ in range(5):
        from_address(client, "investigator", "guess", "203.0.113.66")
    unlock_minutes_pass(settings)

    for _ in range(10):  # refused at once from that address: not counted, the name stays unlocked
        response = from_address(client, "investigator", PASSWORD, "203.0.113.66")
        assert "locked" in response.content.decode()
    assert from_address(client, "investigator", PASSWORD, "192.0.2.10").status_code == 302


def test_failures_from_many_addresses_still_lock_the_name_cjis(client):
    make_staff("analyst")
    for attempt in range(5):
        from_address(client, "analyst", "guess", f"198.51.100.{attempt}")
    assert "locked" in from_address(client, "analyst", PASSWORD, "192.0.2.10").content.decode()
    assert AccountLock.objects.filter(username="analyst", address=None, expires_at__isnull=False).exists()


def test_an_administrator_unlock_lifts_the_address_lock_too(client):
    make_staff("supervisor")
    for _ in range(5):
        from_address(client, "supervisor", "guess", "192.0.2.10")
    admin = make_staff("administrator")
    client.force_login(admin)
    client.post("/admin/accounts/accountlock/", {"action": "unlock", "_selected_action": [
        AccountLock.objects.get(address="192.0.2.10").pk]})
    client.logout()
    assert from_address(client, "supervisor", PASSWORD, "192.0.2.10").status_code == 302


def test_a_failure_from_an_unknown_address_never_locks_a_name_for_good():
    from accounts.services import sign_in_failed

    make_staff("auditor")
    for _ in range(5):
        sign_in_failed(username="auditor", address=None)
    lock = AccountLock.objects.get()
    assert lock.address is None and lock.expires_at is not None  # name-wide, and it runs out


def test_wrong_codes_behind_a_phished_password_end_only_the_guessers_session(settings):
    """Whoever knows the password but not the code, failing codes from their address, is signed out; the officer's
    verified session elsewhere goes on (it used to end with every other session of the account)."""
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    settings.MFA_REQUIRED = True
    user = make_staff("investigator")
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    office = signed_in_from("investigator", OFFICE)
    code = f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"
    assert office.post("/account/mfa/verify/?next=/map/", {"token": code}).status_code == 302
    assert still_in(office)

    guesser = signed_in_from("investigator", STRANGER)
    for _ in range(5):
        response = guesser.post("/account/mfa/verify/?next=/map/", {"token": "000000"})
    assert response.status_code == 302 and "_auth_user_id" not in guesser.session
    assert AccountLock.objects.filter(address=STRANGER, unlocked_at=None).exists()
    assert still_in(office)
