import pytest
from auditlog.models import LogEntry

from registry.models import Owner
from tests.conftest import make_staff

pytestmark = pytest.mark.django_db


def test_changes_are_logged_with_the_actor_and_personal_fields_masked(client, owner_a):
    admin = make_staff("administrator")
    client.force_login(admin)
    camera = owner_a.cameras.get()
    client.post(f"/admin/registry/owner/{owner_a.pk}/change/", {
        "kind": "resident", "name": "Alice Changed", "email": "alice@example.org", "phone": "919-555-0199",
        "address": "1 Alpha Street, Raleigh, NC", "cameras-TOTAL_FORMS": "1", "cameras-INITIAL_FORMS": "1",
        "cameras-0-id": camera.pk, "cameras-0-owner": owner_a.pk})

    history = LogEntry.objects.get_for_object(Owner.objects.get(pk=owner_a.pk))
    entry = history.filter(action=LogEntry.Action.UPDATE).get()
    assert entry.actor == admin
    assert "Changed" not in str(entry.changes) and "0199" not in str(entry.changes)  # not even half of them
    assert "name" in entry.changes_dict and "phone" in entry.changes_dict
