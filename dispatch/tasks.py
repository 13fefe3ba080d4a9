"""Celery adapters for the dispatch purges (beat schedule in settings)."""

from celery import shared_task

from dispatch import services


@shared_task
def calls_purge_task() -> str:
    return f"purged {services.calls_purge()} calls"


@shared_task
def positions_purge_task() -> str:
    return f"purged {services.positions_purge()} positions"
