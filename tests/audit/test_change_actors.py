"""The change history names who made each change (staff, owners) and keeps no personal values. Tasks and
commands: tests/integration/test_change_history_live.py; emailed links: tests/requests_app/test_consent.py."""

import pytest
from auditlog.models import LogEntry

from registry.models import Camera
from tests.conftest import make_staff, sign_in_owner
from tests.registry.test_registration import camera_fields

pytestmark = pytest.mark.django_db


def changes_of(obj) -> list[LogEntry]:
    return list(LogEntry.objects.get_for_object(obj).filter(action=LogEntry.Action.UPDATE))


def test_an_owner_editing_in_the_portal_is_named_by_their_code(client, owner_a):
    sign_in_owner(client, owner_a)
    camera = owner_a.cameras.get()
    data = {key.replace("cameras-0-", ""): value for key, value in camera_fields(label="Porch (new)").items()}
    assert client.post(f"/owner/cameras/{camera.code}/", data).status_code == 302

    [change] = changes_of(Camera.objects.get(pk=camera.pk))
    assert change.actor is None and change.actor_email == f"owner {owner_a.code}"


def test_staff_stay_named_as_users_and_the_admin_shows_every_kind_of_actor(client, owner_a):
    admin = make_staff("administrator")
    client.force_login(admin)
    camera = owner_a.cameras.get()
    client.post(f"/admin/registry/camera/{camera.pk}/change/", {
        **{key.replace("cameras-0-", ""): value for key, value in camera_fields(label="Renamed").items()},
        "owner": owner_a.pk})
    LogEntry.objects.create(content_type=LogEntry.objects.get_for_object(camera).first().content_type,
                            object_pk=str(camera.pk), object_repr="x", action=LogEntry.Action.UPDATE,
                            changes={"label": ["a", "b"]}, actor_email="task registry.tasks.example")

    page = client.get("/admin/auditlog/logentry/").content.decode()

    assert "task registry.tasks.example" in page
    assert f">{admin.get_username()}<" in page


def test_staff_accounts_keep_a_history_of_role_changes_without_password_hashes():
    user = make_staff("investigator")
    user.first_name = "Dana"
    user.set_password("a-new-password-2026")
    user.save()

    history = LogEntry.objects.get_for_object(user)
    assert any("first_name" in entry.changes_dict for entry in history)
    assert not any("password" in str(entry.changes) for entry in history)
    assert any("groups" in str(entry.changes) and "Investigator" in str(entry.changes) for entry in history)
