from celery import shared_task

from records import services


@shared_task(acks_late=True)
def redaction_run_task(redaction_id: int) -> str:
    return services.redaction_run(redaction_id=redaction_id)


@shared_task(acks_late=True, autoretry_for=(OSError,), retry_backoff=60, max_retries=8)
def owner_notice_send_task(notice_id: int) -> str:
    return services.owner_notice_send(notice_id=notice_id)


@shared_task
def redactions_sweep_task() -> str:
    stuck, destroyed = services.redactions_sweep()
    return f"{stuck} stuck redaction(s) failed, {destroyed} redacted cop(ies) of purged clips destroyed"
