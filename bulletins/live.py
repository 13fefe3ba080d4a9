"""Channel-layer messages of bulletins, sent after the change commits. Each recipient listens on their own group
(`bulletins.to.<user id>`), so a bulletin reaches only the people it was sent to; a bulletin's thread has a group
its sender's status page listens on (`bulletins.receipts.<thread code>`)."""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)


def recipient_group(user_id: int) -> str:
    return f"bulletins.to.{user_id}"


def receipts_group(thread_code) -> str:
    return f"bulletins.receipts.{thread_code}"


def _send_now(group: str, message: dict) -> None:
    try:
        async_to_sync(get_channel_layer().group_send)(group, message)
    except Exception as exc:  # Redis away: the page shows what is stored when its socket comes back
        logger.warning("bulletins: could not reach %s (%s)", group, exc)


def after_commit(group: str, message: dict) -> None:
    transaction.on_commit(lambda: _send_now(group, message))
