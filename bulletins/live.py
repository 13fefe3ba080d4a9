"""Channel-layer messages of bulletins, sent after the change commits.

Every patrol socket listens on one group, `bulletins.patrol`, and a new bulletin is one message to it naming its
recipients' user ids; each socket forwards it only when its own user is among them (bulletins.consumers). One
message, not one per recipient: channels-redis delivers a group message once per server process, while one group
per recipient put 200 messages into the process's one Redis queue, past its capacity (100), and half were dropped
(bench/bulletin_fanout.py). A bulletin's thread has a group its sender's page listens on for receipts."""

import logging

from django.db import transaction

from common.channel_layer import group_send_from_sync

logger = logging.getLogger(__name__)

PATROL_GROUP = "bulletins.patrol"


def receipts_group(thread_code) -> str:
    return f"bulletins.receipts.{thread_code}"


def _send_now(group: str, message: dict) -> None:
    try:
        group_send_from_sync(group, message)
    except Exception as exc:  # Redis away: the page shows what is stored when its socket comes back
        logger.warning("bulletins: could not reach %s (%s)", group, exc)


def after_commit(group: str, message: dict) -> None:
    transaction.on_commit(lambda: _send_now(group, message))
