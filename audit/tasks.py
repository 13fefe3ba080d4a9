from celery import shared_task

from audit import services


@shared_task
def ledger_purge_task() -> str:
    return f"purged {services.ledger_purge()} ledger entries"
