from celery import shared_task

from accounts import services


@shared_task
def accounts_inactive_disable_task() -> str:
    return f"disabled {services.accounts_inactive_disable()}"
