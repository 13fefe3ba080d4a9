"""manage.py staff_recover: the way back when every Administrator is locked out, recorded in the ledger."""

import pytest
from django.core.management import call_command
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AccountLock
from accounts.services import sign_in_failed
from audit.models import AccessEntry
from tests.conftest import STAFF_PASSWORD, make_staff

pytestmark = pytest.mark.django_db


def signs_in(username, password) -> bool:
    return Client().post("/admin/login/?next=/admin/", {"username": username, "password": password}
                         ).status_code == 302


def test_every_administrator_locked_out_then_recovered_from_the_shell():
    admin = make_staff("administrator")
    admin.is_active = False
    admin.save()
    TOTPDevice.objects.create(user=admin, name="lost phone", confirmed=True)
    for _ in range(5):
        sign_in_failed(username="administrator", address="203.0.113.9")
    assert not signs_in("administrator", STAFF_PASSWORD)

    call_command("staff_recover", "administrator", "--remove-second-factor")

    assert signs_in("administrator", STAFF_PASSWORD)
    assert not AccountLock.objects.filter(unlocked_at=None).exists()
    assert not TOTPDevice.objects.filter(user=admin).exists()
    entry = AccessEntry.objects.get(action="account.recovered")
    assert "unlocked" in entry.reason and "re-enabled" in entry.reason and "second factor removed" in entry.reason
    assert entry.actor_label.startswith("command ")


def test_recover_sets_a_new_password_asked_twice(monkeypatch):
    make_staff("administrator")
    answers = iter(["a fresh admin passphrase", "a fresh admin passphrase"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    call_command("staff_recover", "administrator", "--set-password")
    assert signs_in("administrator", "a fresh admin passphrase")
    assert AccessEntry.objects.filter(action="user.password_reset").exists()


def test_recover_refuses_an_unknown_name():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("staff_recover", "nobody")
