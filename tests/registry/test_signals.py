"""What registry announces to the apps above it (registry/signals.py): when, with what, and while the rows exist,
since the receivers read them (integration ends the views of an owner's integrated cameras)."""

from contextlib import contextmanager

import pytest
from django.db import connection

from registry import services, signals
from registry.models import Camera, Owner
from tests.registry.factories import CameraFactory

pytestmark = pytest.mark.django_db


@contextmanager
def heard(*watched):
    """(signal name, arguments, whether the camera rows still existed, whether the sender's own transaction was
    open) for each send. The test itself runs in a transaction: the sender's is one more level."""
    sent = []
    depth = len(connection.atomic_blocks)

    def listener(signal, sender, **arguments):
        ids = arguments.get("camera_ids") or [arguments["camera"].pk]
        name = next(name for name in watched if getattr(signals, name) is signal)
        sent.append((name, arguments, Camera.objects.filter(pk__in=ids).count() == len(ids),
                     len(connection.atomic_blocks) > depth))

    for name in watched:
        getattr(signals, name).connect(listener, dispatch_uid=f"test-{name}")
    try:
        yield sent
    finally:
        for name in watched:
            getattr(signals, name).disconnect(dispatch_uid=f"test-{name}")


def test_every_registry_signal_has_a_receiver_in_a_higher_app():
    for name in ("camera_changed", "camera_withdrawn", "cameras_deleted", "owner_deleted"):
        assert getattr(signals, name).has_listeners(), f"{name}: nobody connects to it in AppConfig.ready"


def test_deleting_an_owner_announces_it_then_the_cameras_while_the_rows_exist(owner_a):
    garage = CameraFactory(owner=owner_a, label="Alice garage")
    camera_ids = sorted(owner_a.cameras.values_list("pk", flat=True))

    with heard("owner_deleted", "cameras_deleted", "camera_withdrawn") as sent:
        services.owner_delete(owner=owner_a)

    assert [name for name, *_ in sent] == ["owner_deleted", "cameras_deleted"]
    assert sorted(sent[0][1]["camera_ids"]) == camera_ids and sent[0][1]["owner"].pk == owner_a.pk
    assert sorted(sent[1][1]["camera_ids"]) == camera_ids and garage.pk in camera_ids
    assert all(rows_exist and in_transaction for _, _, rows_exist, in_transaction in sent)
    assert not Owner.objects.filter(pk=owner_a.pk).exists()


def test_deleting_one_camera_withdraws_it_then_announces_its_deletion(owner_a):
    garage = CameraFactory(owner=owner_a, label="Alice garage")
    garage_id = garage.pk  # deleting clears it on the instance

    with heard("owner_deleted", "cameras_deleted", "camera_withdrawn") as sent:
        services.camera_delete(camera=garage)

    assert [(name, arguments.get("deleted")) for name, arguments, *_ in sent] == [
        ("camera_withdrawn", True), ("cameras_deleted", None)]
    assert sent[1][1]["camera_ids"] == [garage_id] and not Camera.objects.filter(pk=garage_id).exists()
    assert all(rows_exist and in_transaction for _, _, rows_exist, in_transaction in sent)


def test_pausing_withdraws_the_camera_and_resuming_does_not(owner_a):
    camera = owner_a.cameras.get()

    with heard("camera_withdrawn") as sent:
        services.camera_set_paused(camera=camera, paused=True)
        services.camera_set_paused(camera=camera, paused=True)  # already paused: nothing changes
        services.camera_set_paused(camera=camera, paused=False)

    assert [(arguments["camera"].pk, arguments["deleted"]) for _, arguments, *_ in sent] == [(camera.pk, False)]
