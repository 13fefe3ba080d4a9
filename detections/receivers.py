"""detections' answers to what requests_app announces (connected in DetectionsConfig.ready): one service call each."""

from detections import services


def clip_stored(*, clip_id: int, camera_id: int | None = None, **_signal) -> None:
    services.clip_index_queue(clip_id=clip_id, camera_id=camera_id)


def clips_purged(*, clip_ids: list[int], **_signal) -> None:
    services.detections_purge(clip_ids=clip_ids)


def incident_closed(*, incident, **_signal) -> None:
    services.watches_end_for_case(incident=incident)
