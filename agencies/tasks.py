from celery import shared_task

from agencies import services


@shared_task(acks_late=True)
def owner_notice_send_task(*, notice_id: int) -> str:
    return services.owner_notice_send(notice_id=notice_id)


@shared_task(acks_late=True)
def uploader_notice_send_task(*, notice_id: int) -> str:
    return services.uploader_notice_send(notice_id=notice_id)


@shared_task
def owner_notices_due_send_task() -> str:
    """The beat's hourly pass: notices whose court-ordered delay has ended, and any whose first send failed (owners'
    and public uploaders')."""
    sent = [services.owner_notice_send(notice_id=notice_id) for notice_id in services.owner_notices_due()]
    told = [services.uploader_notice_send(notice_id=notice_id) for notice_id in services.uploader_notices_due()]
    return f"{sent.count('sent')} owners told, {told.count('sent')} uploaders told"
