import pytest
from django.contrib.auth.models import Group

from common import roles

pytestmark = pytest.mark.django_db


def perms(name):
    return {f"{p.content_type.app_label}.{p.codename}" for p in Group.objects.get(name=name).permissions.all()}


def test_the_migration_creates_every_role_with_exactly_its_permissions():
    assert set(Group.objects.values_list("name", flat=True)) >= set(roles.ROLES)
    for name, expected in roles.ROLES.items():
        assert perms(name) == expected, name


def test_analysts_never_see_owner_contact_details():
    assert "registry.view_owner" not in perms(roles.CRIME_ANALYST)


def test_auditors_change_nothing():
    assert all(perm.split(".")[1].startswith("view_") for perm in perms(roles.AUDITOR))


def test_roles_sync_is_idempotent():
    from django.apps import apps

    roles.roles_sync(apps)
    roles.roles_sync(apps)
    for name, expected in roles.ROLES.items():
        assert perms(name) == expected
