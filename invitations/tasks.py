"""Celery adapters for invitation services."""

import smtplib

from celery import shared_task

from common.mail import MailServerLost
from invitations import letter_prints, services


# The mail server away: tried again with backoff; what went out already is not sent twice.
@shared_task(autoretry_for=(MailServerLost, smtplib.SMTPException, OSError), retry_backoff=30, retry_backoff_max=480,
             retry_jitter=False, max_retries=8)
def campaign_mail_task(campaign_id: int, actor_id: int | None = None) -> str:
    return services.campaign_mail(campaign_id=campaign_id, actor_id=actor_id)


@shared_task
def invitation_lists_purge_task() -> str:
    return f"erased {services.invitation_lists_purge()}"


@shared_task(acks_late=True)
def letters_build_task(print_id: int) -> str:
    return letter_prints.letters_build(print_id=print_id)
