"""Celery adapter for the indexer (acks_late, as every task here: a worker killed mid-clip leaves it queued)."""

from celery import shared_task
from django.conf import settings

from detections import services


@shared_task(bind=True, acks_late=True, max_retries=10)
def clip_index_task(self, clip_id: int) -> str:
    try:
        found = services.clip_index(clip_id=clip_id, max_attempts=settings.DETECTIONS_MAX_ATTEMPTS)
    except services.IndexFailed as exc:
        if exc.retry:
            raise self.retry(countdown=min(60 * 2 ** self.request.retries, 900)) from exc
        return f"clip {clip_id} not indexed: {exc}"
    return f"clip {clip_id}: {found} detections"
