"""Celery adapters for public_requests services: take ids, call one service, return a short string."""

import smtplib

from celery import shared_task

from public_requests import services

_MAIL_RETRY = {"autoretry_for": (smtplib.SMTPException, OSError), "retry_backoff": 30, "retry_backoff_max": 480,
               "retry_jitter": False, "max_retries": 5}


@shared_task(**_MAIL_RETRY)
def public_answer_confirmation_send_task(answer_id: int) -> str:
    return services.public_answer_confirmation_send(answer_id=answer_id)


@shared_task(**_MAIL_RETRY)
def public_answer_receipt_send_task(answer_id: int, clip_ids: list[int]) -> str:
    return services.public_answer_receipt_send(answer_id=answer_id, clip_ids=clip_ids)


@shared_task
def public_clip_deletion_receipts_send_task() -> str:
    return f"sent {services.public_clip_deletion_receipts_send()}"


@shared_task
def public_answers_unconfirmed_purge_task() -> str:
    return f"purged {services.public_answers_unconfirmed_purge()}"


@shared_task
def public_answer_emails_erase_task() -> str:
    return f"erased {services.public_answer_emails_erase()}"
