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


def test_changed_times_in_the_history_say_they_are_utc(client, django_user_model, answered_request):
    """The admin shows local times; the history's stored values are UTC and must not pass for local ones."""
    client.force_login(django_user_model.objects.create_superuser("root", password="root-password-123456"))
    entry = LogEntry.objects.get_for_object(answered_request).filter(action=LogEntry.Action.UPDATE).last()

    page = client.get(f"/admin/auditlog/logentry/{entry.pk}/change/").content.decode()

    assert "2026-12-05 02:15:53 UTC" in page and "+00:00" not in page


@pytest.fixture
def answered_request(db):
    from datetime import UTC, datetime, timedelta

    from common.change_history import history_note
    from requests_app.models import FootageRequest
    from tests.registry.factories import CameraFactory
    from tests.requests_app.factories import IncidentFactory

    answered = datetime(2026, 12, 5, 2, 15, 53, 1980, tzinfo=UTC)
    request = FootageRequest.objects.create(incident=IncidentFactory(), camera=CameraFactory(), camera_label="Porch",
                                            nonce="n", state="sent", expires_at=answered + timedelta(days=9))
    history_note(request, state=("sent", "no_footage"), answered_at=(None, answered))
    return request
