"""Celery adapters for common's helpers."""

from celery import shared_task

from common import outbox


@shared_task
def outbox_sweep_task() -> str:
    """Beat (every minute), and each time a worker connects to the broker: work the outbox could not queue."""
    queued, waiting = outbox.sweep()
    return f"queued {queued}, waiting {waiting}, purged {outbox.purge()}"
