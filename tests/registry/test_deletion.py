import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from registry.models import Camera, DeletionRecord, Owner
from tests.conftest import sign_in_owner
from tests.registry.factories import CameraFactory

pytestmark = pytest.mark.django_db

PERSONAL = ["alice@example.org", "Alice Anderson", "919-555-0101", "1 Alpha Street"]


def rows_containing(value: str) -> list[str]:
    """Every table.column in the database whose text contains value."""
    found = []
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT table_name, column_name FROM information_schema.columns
            WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'jsonb', 'json')
        """)
        for table, column in cursor.fetchall():
            cursor.execute(f'SELECT count(*) FROM "{table}" WHERE "{column}"::text ILIKE %s', [f"%{value}%"])
            if cursor.fetchone()[0]:
                found.append(f"{table}.{column}")
    return found


def test_deleting_everything_leaves_no_trace_of_the_owner(client, owner_a, owner_b, staff_user):
    CameraFactory(owner=owner_a, label="Alice garage")
    # Staff edited the owner in the admin, which logs the change.
    admin = staff_user("administrator")
    LogEntry.objects.log_actions(admin.pk, [owner_a], CHANGE, change_message="Changed phone of Alice Anderson")
    sign_in_owner(client, owner_a)
    client.get("/owner/")  # the session now holds the owner's id

    response = client.post("/owner/delete/")

    assert "Your registration is deleted" in response.content.decode()
    for value in PERSONAL:
        assert rows_containing(value) == [], value
    assert "registry_owner.email" in rows_containing("bob@example.org")  # the scan does find what is there
    assert not Owner.objects.filter(email="alice@example.org").exists()
    assert Camera.objects.filter(owner=owner_b).count() == 1  # Bob is untouched
    record = DeletionRecord.objects.get()
    assert (record.scope, record.owner_kind, record.cameras) == ("owner", "resident", 2)
    assert "My cameras" not in client.get("/owner/").content.decode()


def test_deleting_one_of_two_cameras_keeps_the_owner(client, owner_a):
    garage = CameraFactory(owner=owner_a, label="Alice garage")
    sign_in_owner(client, owner_a)

    client.post(f"/owner/cameras/{garage.code}/delete/")

    assert list(owner_a.cameras.values_list("label", flat=True)) == ["Alice porch"]
    assert DeletionRecord.objects.get().scope == "camera"
    assert rows_containing("Alice garage") == []


def test_deleting_the_last_camera_deletes_the_owner(client, owner_a):
    sign_in_owner(client, owner_a)
    camera = owner_a.cameras.get()
    page = client.get(f"/owner/cameras/{camera.code}/delete/").content.decode()
    assert "This is your last camera" in page

    client.post(f"/owner/cameras/{camera.code}/delete/")

    assert not Owner.objects.filter(pk=owner_a.pk).exists()
    for value in PERSONAL:
        assert rows_containing(value) == [], value


def test_admin_log_of_other_owners_survives(owner_a, owner_b, staff_user):
    from registry.services import owner_delete

    admin = staff_user("administrator")
    LogEntry.objects.log_actions(admin.pk, [owner_b], CHANGE, change_message="checked")
    owner_delete(owner=owner_a)
    assert LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(Owner)).count() == 1


def test_deleting_leaves_no_label_or_words_in_footage_requests(client, owner_a):
    from django.utils import timezone

    from requests_app.models import FootageRequest
    from tests.requests_app.factories import IncidentFactory

    camera = owner_a.cameras.get()
    FootageRequest.objects.create(incident=IncidentFactory(), camera=camera, camera_label="Alice Anderson front door",
                                  nonce="x", state="declined", decline_reason="Alice Anderson does not share",
                                  answered_at=timezone.now())
    sign_in_owner(client, owner_a)
    client.post("/owner/delete/")
    assert rows_containing("Alice Anderson") == []
    assert FootageRequest.objects.get().state == "declined"  # the case keeps its answer
