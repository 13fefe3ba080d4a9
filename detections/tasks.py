"""Celery adapter for the indexer (acks_late, as every task here: a worker killed mid-clip leaves it queued)."""

from celery import Task, shared_task
from celery.exceptions import TimeLimitExceeded
from django.conf import settings

from detections import services

# The indexer checks its deadline (CONNECT_DETECTIONS_TIMEOUT_S) between frames; a detector stuck inside OpenCV never
# gets back to it. This long after the deadline the pool kills the worker process (prefork), so a stuck clip cannot
# hold one of the few workers for good.
HARD_LIMIT_GRACE_S = 60


class IndexTask(Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        # Celery calls this in the worker's main process once the pool has killed the one at its hard time limit:
        # Celery acknowledges that message, so nothing comes back to mark the clip; this does.
        if isinstance(exc, TimeLimitExceeded):
            clip_id = kwargs["clip_id"] if "clip_id" in kwargs else args[0]
            services.clip_index_stopped(clip_id=clip_id, seconds=self.time_limit)


@shared_task(bind=True, base=IndexTask, acks_late=True, max_retries=10,
             time_limit=settings.DETECTIONS_TIMEOUT_S + HARD_LIMIT_GRACE_S)
def clip_index_task(self, clip_id: int) -> str:
    try:
        found = services.clip_index(clip_id=clip_id, max_attempts=settings.DETECTIONS_MAX_ATTEMPTS)
    except services.IndexFailed as exc:
        if exc.retry:
            raise self.retry(countdown=min(60 * 2 ** self.request.retries, 900)) from exc
        return f"clip {clip_id} not indexed: {exc}"
    return f"clip {clip_id}: {found} detections"
