"""Celery adapters for footage requests: take ids, call one service, return a short string."""

import smtplib

from celery import shared_task

from requests_app import services

_RETRYABLE = (smtplib.SMTPException, OSError)
# 30 s, 1, 2, 4, 8, 15, 15, 15 min: an SMTP server down for an hour loses nothing; after that the request
# shows as failed with the reason, and staff can resend it.
MAX_SEND_RETRIES = 8


@shared_task(bind=True, max_retries=MAX_SEND_RETRIES)
def footage_request_send_task(self, request_id: int) -> str:
    try:
        return services.footage_request_send(request_id=request_id)
    except _RETRYABLE as exc:
        final = self.request.retries >= self.max_retries
        services.footage_request_note_failure(request_id=request_id, reason=f"Mail not delivered: {exc}",
                                              final=final)
        if final:
            return "failed"
        raise self.retry(exc=exc, countdown=min(30 * 2**self.request.retries, 900)) from None


@shared_task(bind=True, max_retries=MAX_SEND_RETRIES)
def footage_reminder_send_task(self, request_id: int) -> str:
    try:
        return services.footage_reminder_send(request_id=request_id)
    except _RETRYABLE as exc:
        raise self.retry(exc=exc, countdown=min(30 * 2**self.request.retries, 900)) from None


@shared_task
def footage_requests_sweep_task() -> str:
    """Beat: reminders due, lapsed requests, and requests or deletion receipts a killed worker, a lost message or
    a dead mail server left behind."""
    reminders = services.footage_reminders_due()
    for request_id in reminders:
        footage_reminder_send_task.delay(request_id)
    stuck = services.footage_requests_stuck()
    for request_id in stuck:
        footage_request_send_task.delay(request_id)
    lapsed = services.footage_requests_lapse()
    receipts = services.clip_deletion_receipts_unsent()
    if receipts:
        clip_deletion_receipts_task.delay(receipts)
    return f"reminders {len(reminders)}, requeued {len(stuck)}, lapsed {lapsed}, receipts resent {len(receipts)}"


@shared_task
def clips_expired_purge_task() -> str:
    return f"purged {services.clips_expired_purge()} clips, scrubbed {services.requests_orphaned_scrub()} requests"


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
