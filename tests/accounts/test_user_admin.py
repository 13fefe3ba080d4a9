"""Administrators run staff accounts, but cannot take over a superuser or another Administrator, and a password
they set is a reset: in the ledger, the account's sessions end and its owner hears of it by email."""

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from audit.models import AccessEntry
from common import roles
from tests.conftest import STAFF_PASSWORD, make_staff, parsed_mail, staff_session, wait_for

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a brand new passphrase 42"


def as_user(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def password_form(new=NEW_PASSWORD):
    return {"password1": new, "password2": new, "usable_password": "true", "set_usable_password": "true"}


def signs_in(username, password) -> bool:
    return Client().post("/admin/login/?next=/admin/", {"username": username, "password": password}
                         ).status_code == 302


@pytest.fixture
def administrator(db):
    return make_staff("administrator")


@pytest.mark.parametrize("target", ["superuser", "other_administrator"])
def test_an_administrator_cannot_reset_a_superusers_or_another_administrators_password(
        request, administrator, target):
    victim = request.getfixturevalue(target)
    client = as_user(administrator)
    assert client.get(f"/admin/auth/user/{victim.pk}/password/").status_code == 403
    assert not AccessEntry.objects.filter(action="user.change_refused").exists()  # looking is not an attempt
    response = client.post(f"/admin/auth/user/{victim.pk}/password/", password_form())
    assert response.status_code == 403
    assert not signs_in(victim.username, NEW_PASSWORD)
    assert signs_in(victim.username, STAFF_PASSWORD)
    refused = AccessEntry.objects.get(action="user.change_refused")
    assert (refused.actor_label, refused.target_code, refused.reason) == ("administrator", str(victim.pk), "password")


@pytest.mark.parametrize("target", ["superuser", "other_administrator"])
def test_an_administrator_cannot_change_a_superusers_or_another_administrators_roles_or_state(
        request, administrator, target):
    victim = request.getfixturevalue(target)
    client = as_user(administrator)
    page = client.get(f"/admin/auth/user/{victim.pk}/change/")
    assert page.status_code == 200 and 'name="is_active"' not in page.content.decode()  # read-only
    response = client.post(f"/admin/auth/user/{victim.pk}/change/", {
        "username": victim.username, "email": victim.email, "is_active": "", "is_staff": "on",
        "groups": [Group.objects.get(name=roles.INVESTIGATOR).pk]})
    assert response.status_code == 403
    victim.refresh_from_db()
    assert victim.is_active
    assert not victim.groups.filter(name=roles.INVESTIGATOR).exists()
    assert client.post(f"/admin/auth/user/{victim.pk}/delete/", {"post": "yes"}).status_code == 403
    assert User.objects.filter(pk=victim.pk).exists()
    # The auditors see both attempts, though the admin's own transaction was refused
    assert list(AccessEntry.objects.filter(action="user.change_refused", actor_label="administrator",
                                           target_code=str(victim.pk)).order_by("seq").values_list(
        "reason", flat=True)) == ["change", "delete"]


def test_an_administrator_cannot_reset_their_own_password_without_the_old_one(administrator):
    response = as_user(administrator).post(f"/admin/auth/user/{administrator.pk}/password/", password_form())
    assert response.status_code == 403
    assert signs_in("administrator", STAFF_PASSWORD)


def test_a_reset_is_recorded_ends_the_sessions_and_tells_the_owner(administrator, smtp_sink,
                                                                      django_capture_on_commit_callbacks):
    investigator = make_staff("investigator")
    investigator.email = "ivy@example.org"
    investigator.first_name, investigator.last_name = "Ivy", "O'Neil & Sons"
    investigator.save()
    elsewhere = staff_session("investigator")
    assert elsewhere.get("/admin/").status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(administrator).post(f"/admin/auth/user/{investigator.pk}/password/", password_form())
    assert response.status_code == 302

    assert signs_in("investigator", NEW_PASSWORD)
    assert elsewhere.get("/admin/").status_code == 302  # the other browser is signed out
    entry = AccessEntry.objects.get(action="user.password_reset")
    assert (entry.actor_label, entry.target_code) == ("administrator", str(investigator.pk))

    wait_for(lambda: smtp_sink.messages)
    message = parsed_mail(smtp_sink)[0]
    assert message["To"] == "ivy@example.org"
    assert "changed by administrator" in message["Subject"]
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "Ivy O'Neil & Sons" in text and "&amp;" not in text and "&#x27;" not in text
    assert NEW_PASSWORD not in message.as_string()


def test_an_administrator_still_resets_an_investigators_password(administrator):
    investigator = make_staff("investigator")
    response = as_user(administrator).post(f"/admin/auth/user/{investigator.pk}/password/", password_form())
    assert response.status_code == 302
    assert signs_in("investigator", NEW_PASSWORD)


def test_a_superuser_may_reset_an_administrators_password(superuser, other_administrator):
    response = as_user(superuser).post(f"/admin/auth/user/{other_administrator.pk}/password/", password_form())
    assert response.status_code == 302
    assert signs_in("administrator2", NEW_PASSWORD)
    assert AccessEntry.objects.filter(action="user.password_reset", actor_label="superuser").exists()


def test_the_change_history_never_holds_the_password(administrator):
    investigator = make_staff("investigator")
    as_user(administrator).post(f"/admin/auth/user/{investigator.pk}/password/", password_form())
    from auditlog.models import LogEntry

    assert not any(NEW_PASSWORD in str(entry.changes) for entry in LogEntry.objects.all())
    assert User.objects.get(pk=investigator.pk).password.startswith(("pbkdf2", "argon2", "bcrypt", "scrypt"))


def test_changing_a_staff_email_tells_the_old_address(administrator, smtp_sink, django_capture_on_commit_callbacks):
    investigator = make_staff("investigator")
    investigator.email = "ivy@example.org"
    investigator.save()
    joined = investigator.date_joined
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(administrator).post(f"/admin/auth/user/{investigator.pk}/change/", {
            "username": "investigator", "email": "attacker@example.net", "first_name": "", "last_name": "",
            "is_active": "on", "is_staff": "on", "groups": [Group.objects.get(name=roles.INVESTIGATOR).pk],
            "date_joined_0": joined.strftime("%Y-%m-%d"), "date_joined_1": joined.strftime("%H:%M:%S")})
    assert response.status_code == 302, response.content.decode()[:2000]
    wait_for(lambda: smtp_sink.messages)
    message = parsed_mail(smtp_sink)[0]
    assert message["To"] == "ivy@example.org" and "changed by administrator" in message["Subject"]
    assert "email" in AccessEntry.objects.get(action="user.changed").reason


def test_an_administrator_cannot_make_themselves_superuser_or_change_their_own_roles(client):
    admin = make_staff("administrator")
    client.force_login(admin)
    page = client.get(f"/admin/auth/user/{admin.pk}/change/").content.decode()
    assert 'name="is_superuser"' not in page and 'name="groups"' not in page
    other = make_staff("analyst")
    page = client.get(f"/admin/auth/user/{other.pk}/change/").content.decode()
    assert 'name="is_superuser"' not in page and 'name="groups"' in page
