"""Celery adapters for footage requests: take ids, call one service, return a short string."""

import smtplib

from celery import shared_task

from common.queue import enqueue_on_commit
from requests_app import mailing, services

_RETRYABLE = (smtplib.SMTPException, OSError)
# 30 s, 1, 2, 4, 8, 15, 15, 15 min: an SMTP server down for an hour loses nothing; after that the request
# shows as failed with the reason, and staff can resend it.
MAX_SEND_RETRIES = 8
# Requests per task: one SMTP connection, one claim and one ledger write each; several tasks let the pool's
# processes share a large batch.
MAIL_BATCH_SIZE = 100


def _backoff(retries: int) -> int:
    return min(30 * 2**retries, 900)


def footage_requests_mail_queue(request_ids: list[int]) -> None:
    """Queues the requests' mail, MAIL_BATCH_SIZE to a task, once the caller's transaction commits."""
    for batch in _batches(request_ids):
        enqueue_on_commit(footage_requests_mail_task, batch)


def _batches(items: list) -> list[list]:
    return [list(items[start:start + MAIL_BATCH_SIZE]) for start in range(0, len(items), MAIL_BATCH_SIZE)]


@shared_task(bind=True, max_retries=MAX_SEND_RETRIES)
def footage_requests_mail_task(self, request_ids: list[int]) -> str:
    run = mailing.footage_requests_mail(request_ids=request_ids)
    if run.retry:
        if self.request.retries >= self.max_retries:
            run.failed += mailing.footage_requests_give_up(request_ids=run.retry)
        else:
            raise self.retry(args=(run.retry,), countdown=_backoff(self.request.retries))
    return run.summary()


@shared_task(bind=True, max_retries=MAX_SEND_RETRIES)
def footage_reminders_send_task(self, due: list[list[int]]) -> str:
    run = mailing.footage_reminders_send(due=due)
    if run.retry and self.request.retries < self.max_retries:
        raise self.retry(args=(run.retry,), countdown=_backoff(self.request.retries))
    return run.summary()  # reminders given back after the last retry are due again at the next sweep


@shared_task
def footage_requests_sweep_task() -> str:
    """Beat: reminders due, lapsed requests, and requests or deletion receipts a killed worker, a lost message or
    a dead mail server left behind."""
    reminders = mailing.footage_reminders_due()
    for batch in _batches(reminders):
        footage_reminders_send_task.delay(batch)
    stuck = mailing.footage_requests_stuck()
    for batch in _batches(stuck):
        footage_requests_mail_task.delay(batch)
    lapsed = services.footage_requests_lapse()
    receipts = services.clip_deletion_receipts_unsent()
    if receipts:
        clip_deletion_receipts_task.delay(receipts)
    return f"reminders {len(reminders)}, requeued {len(stuck)}, lapsed {lapsed}, receipts resent {len(receipts)}"


@shared_task
def clips_expired_purge_task() -> str:
    return f"purged {services.clips_expired_purge()} clips, scrubbed {services.requests_orphaned_scrub()} requests"


@shared_task
def upload_leftovers_sweep_task() -> str:
    return f"removed {services.upload_leftovers_sweep()} upload files left by stopped processes"


@shared_task
def clips_verify_due_task() -> str:
    from django.conf import settings

    verified, failed = services.clips_verify_due(budget_bytes=settings.EVIDENCE_VERIFY_GB_PER_RUN * 1024 ** 3)
    return f"verified {verified} clips, {failed} failed"


@shared_task(bind=True, max_retries=MAX_SEND_RETRIES)
def clip_deletion_receipts_task(self, clip_ids: list[int]) -> str:
    """One task per purge batch; a retry resends only the receipts not yet sent."""
    sent = 0
    for clip_id in clip_ids:
        try:
            services.clip_deletion_receipt_send(clip_id=clip_id)
        except _RETRYABLE as exc:
            raise self.retry(args=(clip_ids[sent:],), exc=exc,
                             countdown=min(30 * 2**self.request.retries, 900)) from None
        sent += 1
    return f"sent {sent} receipts"
