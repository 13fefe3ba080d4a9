"""Celery adapters for the concern mails: take ids, call one service, return a short string."""

import smtplib

from celery import shared_task

from concerns import mailing, services

_MAIL_RETRY = {"autoretry_for": (smtplib.SMTPException, OSError), "retry_backoff": 30, "retry_backoff_max": 480,
               "retry_jitter": False, "max_retries": 5}


@shared_task(**_MAIL_RETRY)
def concern_confirmation_send_task(concern_id: int) -> str:
    return mailing.concern_confirmation_send(concern_id=concern_id)


@shared_task(**_MAIL_RETRY)
def owner_ask_send_task(ask_id: int) -> str:
    return mailing.owner_ask_send(ask_id=ask_id)


@shared_task
def concerns_purge_task() -> str:
    return services.concerns_purge()


@shared_task(**_MAIL_RETRY)
def concern_outcome_send_task(concern_id: int) -> str:
    return mailing.concern_outcome_send(concern_id=concern_id)
