"""Queueing Celery work after commit without letting a missing broker lose the user's request."""

import logging
from collections.abc import Callable

from django.db import transaction
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)


def enqueue_on_commit(task, *args, fallback: Callable[[], None] | None = None) -> None:
    """Queues task(*args) once the transaction commits.

    If the broker is unreachable the committed data stays; `fallback` (if given) does the work inline,
    otherwise a beat sweeper picks it up later. Either way the person's request succeeds.
    """

    def send():
        try:
            task.apply_async(args=args, retry=False)
        except (OperationalError, OSError) as exc:
            logger.warning("broker unreachable, %s(%s) not queued: %s", task.name, args, exc)
            if fallback is not None:
                try:
                    fallback()
                except Exception:
                    logger.exception("inline fallback for %s failed", task.name)

    transaction.on_commit(send)
