"""requests_app's answers to what registry announces (connected in RequestsAppConfig.ready).

Each receiver is one call of a service in requests_app/services.py: the logic stays there.
"""

from requests_app import services


def cameras_deleted(*, camera_ids: list[int], **_signal) -> None:
    services.requests_of_cameras_scrub(camera_ids=camera_ids)
