"""Celery adapters for integration services: take ids, call one service, return a short string."""

import smtplib

from celery import shared_task

from integration import notices, override_notices, queue, services


@shared_task(autoretry_for=(smtplib.SMTPException, OSError), retry_backoff=30, retry_backoff_max=480, max_retries=5)
def live_view_notice_send_task(session_id: int) -> str:
    return notices.live_view_notice_send(session_id=session_id)


@shared_task
def live_sessions_sweep_task() -> str:
    return f"ended {services.live_sessions_sweep()}"


@shared_task
def live_sessions_purge_task() -> str:
    return f"purged {services.live_sessions_purge()}"


@shared_task(autoretry_for=(smtplib.SMTPException, OSError), retry_backoff=15, retry_backoff_max=120, max_retries=5)
def override_request_notice_send_task(override_id: int) -> str:
    return override_notices.override_request_notice_send(override_id=override_id)


@shared_task
def pilot_limits_apply_task() -> str:
    return " ".join(f"{step} {count}" for step, count in queue.pilot_limits_apply().items())


@shared_task(autoretry_for=(smtplib.SMTPException, OSError), retry_backoff=30, retry_backoff_max=480, max_retries=5)
def live_share_news_send_task(camera_id: int, news: str) -> str:
    return notices.live_share_news_send(camera_id=camera_id, news=news)
