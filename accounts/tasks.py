import smtplib

from celery import shared_task

from accounts import notices, services


@shared_task
def accounts_inactive_disable_task() -> str:
    return f"disabled {services.accounts_inactive_disable()}"


# A security notice waits out a mail server's outage (30 s, 1, 2, 4, 8 minutes) rather than being dropped.
_MAIL_RETRY = {"autoretry_for": (smtplib.SMTPException, OSError), "retry_backoff": 30, "retry_backoff_max": 480,
               "retry_jitter": False, "max_retries": 5}


@shared_task(**_MAIL_RETRY)
def password_reset_notice_send_task(user_id: int, by_label: str, at: str) -> str:
    return notices.password_reset_notice_send(user_id=user_id, by_label=by_label, at=at)


@shared_task(**_MAIL_RETRY)
def email_changed_notice_send_task(user_id: int, old_email: str, by_label: str, at: str) -> str:
    return notices.email_changed_notice_send(user_id=user_id, old_email=old_email, by_label=by_label, at=at)
