"""Integration's answers to what the apps below it announce (connected in IntegrationConfig.ready).

Each receiver is one call of a service in integration/services.py: the logic stays there.
"""

from integration import services


def camera_changed(*, camera, **_signal) -> None:
    services.camera_changed(camera=camera)


def camera_withdrawn(*, camera, deleted: bool, **_signal) -> None:
    services.camera_withdrawn(camera=camera, deleted=deleted)


def owner_deleted(*, owner, **_signal) -> None:
    services.owner_cameras_withdrawn(owner=owner)


def cameras_deleted(*, camera_ids: list[int], **_signal) -> None:
    services.cameras_history_forget(camera_ids=camera_ids)
