from celery import shared_task

from bulletins import clip_segments, push, services


@shared_task
def bulletins_media_purge_task() -> str:
    return f"purged {services.bulletins_media_purge()} stills"


@shared_task(acks_late=True)
def bulletin_segment_task(bulletin_id: int) -> str:
    """Re-encodes a bulletin's clip segment and sends it, or marks it failed (acks_late: a worker killed mid-segment
    leaves the task queued, and the attempts are counted)."""
    return f"bulletin {bulletin_id}: {clip_segments.bulletin_segment_make(bulletin_id=bulletin_id)}"


@shared_task(acks_late=True)
def bulletin_push_task(bulletin_id: int) -> str:
    delivered, gone = push.bulletin_push(bulletin_id=bulletin_id)
    return f"bulletin {bulletin_id}: pushed to {delivered} subscription(s), {gone} gone"
