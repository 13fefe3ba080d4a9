"""Celery adapters for registry services: take ids, call one service, return a short string."""

import smtplib

from celery import shared_task

from registry import reconfirmation, services

# Mail is retried with backoff: 30 s, 1, 2, 4 and 8 minutes, then the beat sweeper takes over.
_MAIL_RETRY = {
    "autoretry_for": (smtplib.SMTPException, OSError),
    "retry_backoff": 30,
    "retry_backoff_max": 480,
    "retry_jitter": False,
    "max_retries": 5,
}


@shared_task(**_MAIL_RETRY)
def registration_confirmation_send_task(owner_id: int) -> str:
    return services.registration_confirmation_send(owner_id=owner_id)


@shared_task(**_MAIL_RETRY)
def sign_in_links_send_task(email: str) -> str:
    return f"sent {services.sign_in_links_send(email=email)}"


@shared_task
def registration_confirmations_resend_task() -> str:
    owner_ids = services.registration_confirmations_pending()
    for owner_id in owner_ids:
        registration_confirmation_send_task.delay(owner_id)
    return f"queued {len(owner_ids)}"


@shared_task
def registrations_unconfirmed_purge_task() -> str:
    return f"purged {services.registrations_unconfirmed_purge()}"


@shared_task
def links_lapsed_purge_task() -> str:
    return f"purged {services.links_lapsed_purge()} links"


@shared_task(autoretry_for=(OSError,), retry_backoff=60, max_retries=6)
def owner_digests_send_task() -> str:
    return f"sent {services.owner_digests_send()} digests"


@shared_task(autoretry_for=(OSError, smtplib.SMTPException), retry_backoff=60, max_retries=6)
def reconfirmations_advance_task() -> str:
    return " ".join(f"{step} {count}" for step, count in reconfirmation.reconfirmations_advance().items())
