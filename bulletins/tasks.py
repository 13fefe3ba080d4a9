from celery import shared_task

from bulletins import services


@shared_task
def bulletins_media_purge_task() -> str:
    return f"purged {services.bulletins_media_purge()} stills"
