import time

import pytest

from accounts.services import accounts_inactive_disable
from tests.conftest import make_staff

pytestmark = pytest.mark.django_db
PASSWORD = "correct-horse-battery-9"


@pytest.fixture
def signed_in(client):
    make_staff("investigator")
    assert client.post("/admin/login/?next=/admin/", {"username": "investigator", "password": PASSWORD}
                       ).status_code == 302
    return client


REAL_TIME = time.time


def move_clock(monkeypatch, seconds):
    monkeypatch.setattr("accounts.middleware.time.time", lambda: REAL_TIME() + seconds)


def test_idle_for_thirty_minutes_signs_out(signed_in, monkeypatch):
    assert signed_in.get("/map/").status_code == 200
    move_clock(monkeypatch, 31 * 60)
    response = signed_in.get("/map/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert "_auth_user_id" not in signed_in.session


def test_activity_keeps_the_session_until_twelve_hours(signed_in, monkeypatch):
    for minutes in range(25, 12 * 60, 25):  # active every 25 minutes
        move_clock(monkeypatch, minutes * 60)
        assert signed_in.get("/map/").status_code == 200, minutes
    move_clock(monkeypatch, 12 * 3600 + 60)
    assert signed_in.get("/map/").status_code == 302


def test_data_endpoints_answer_401_after_expiry(signed_in, monkeypatch):
    move_clock(monkeypatch, 31 * 60)
    response = signed_in.get("/map/nearby.json?lat=35.78&lng=-78.64&radius=100")
    assert response.status_code == 401


def test_accounts_unused_for_90_days_are_disabled(django_user_model):
    from datetime import timedelta

    from django.utils import timezone

    old = make_staff("analyst")
    django_user_model.objects.filter(pk=old.pk).update(last_login=timezone.now() - timedelta(days=91))
    recent = make_staff("auditor")
    django_user_model.objects.filter(pk=recent.pk).update(last_login=timezone.now() - timedelta(days=89))

    assert accounts_inactive_disable() == 1
    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.is_active, recent.is_active) == (False, True)


def test_short_and_common_passwords_are_refused():
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    for weak in ("short-pw1", "password1234", "qwertyuiop123"):
        with pytest.raises(ValidationError):
            validate_password(weak)
    validate_password("a long passphrase of my own")


# Sign-out and lock end every session of the user, not only the browser that signed out (issue 12, item 5).

def test_signing_out_ends_the_users_other_sessions(second_session):
    make_staff("analyst")
    laptop, phone = second_session("analyst"), second_session("analyst")
    assert phone.get("/map/").status_code == 200
    laptop.post("/admin/logout/")
    response = phone.get("/map/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert phone.get("/map/nearby.json?lat=35.78&lng=-78.64&radius=100").status_code in (302, 401, 403)


def test_signing_out_leaves_other_users_signed_in(second_session):
    make_staff("analyst")
    make_staff("investigator")
    analyst, investigator = second_session("analyst"), second_session("investigator")
    analyst.post("/admin/logout/")
    assert investigator.get("/map/").status_code == 200


def test_a_lock_ends_the_users_sessions(client, second_session):
    make_staff("investigator")
    desk = second_session("investigator")
    for _ in range(5):
        client.post("/admin/login/", {"username": "investigator", "password": "wrong"},
                    HTTP_X_FORWARDED_FOR="203.0.113.5")
    response = desk.get("/map/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_every_request_checks_the_lock_even_for_a_session_from_before_the_register(client):
    from accounts.models import AccountLock, StaffSession

    make_staff("investigator")
    client.post("/admin/login/", {"username": "investigator", "password": PASSWORD})
    StaffSession.objects.all().delete()  # a session opened before sessions were registered
    AccountLock.objects.create(username="investigator", reason="test")
    response = client.get("/map/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert "_auth_user_id" not in client.session


def test_one_idle_session_running_out_leaves_the_other_signed_in(second_session, monkeypatch):
    make_staff("investigator")
    idle, busy = second_session("investigator"), second_session("investigator")
    move_clock(monkeypatch, 20 * 60)
    assert busy.get("/map/").status_code == 200
    move_clock(monkeypatch, 40 * 60)  # idle has been idle 40 minutes, busy 20
    assert idle.get("/map/").status_code == 302
    assert busy.get("/map/").status_code == 200
