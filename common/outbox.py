"""A transactional outbox: work that must happen after a commit (mail, above all) is written to a table in the
same transaction as the data that asks for it, then handed to Celery.

Why: queueing from `transaction.on_commit` alone loses the work when the broker is away at that moment (a
registration made while Redis restarted never got its confirmation) or when the process dies between the commit
and the publish. Here the row commits with the data; right after the commit this process tries to queue it, and
what could not be queued is queued by a sweep: beat's every minute, and one each time a worker connects to the
broker (at start and after an outage), so work made during a Redis outage goes out soon after Redis returns.

At least once: a row is marked dispatched only after the broker took its message, so a process that dies in
between leaves it to be queued again. Every task queued through here must be safe to run twice (they claim their
work with a conditional UPDATE, or check a "sent" mark under a row lock).

    with transaction.atomic():
        owner = Owner.objects.create(...)
        outbox.enqueue("registry.tasks.registration_confirmation_send_task", {"owner_id": owner.pk})
"""

import enum
import functools
import importlib
import json
import logging
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError

from common.models import OutboxMessage

logger = logging.getLogger(__name__)

LEASE = timedelta(seconds=30)  # far longer than a publish; a dispatcher that died holds a row no longer than this
KEEP_DISPATCHED = timedelta(hours=1)  # dispatched rows are history only (and may hold an address): kept briefly
SWEEP_LIMIT = 1000


class Dispatch(enum.Enum):
    QUEUED = "queued"
    TAKEN = "taken"  # another dispatcher holds it, or it was queued already
    BROKER_AWAY = "broker away"
    REFUSED = "refused"  # anything else: the row waits, with the error, for the next sweep


@dataclass
class Watched:
    """The messages enqueued inside an `outbox.watch()` block."""

    messages: list[OutboxMessage] = field(default_factory=list)

    @property
    def all_queued(self) -> bool:
        return all(message.queued for message in self.messages)


_watching: ContextVar[Watched | None] = ContextVar("outbox_watching", default=None)


def _task(name: str):
    """The task registered as `name`. A web process has not imported every tasks module (a worker has): a task's
    default name is its module's, so that module is imported first."""
    from celery import current_app

    module = name.rpartition(".")[0]
    if name not in current_app.tasks:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:  # no such module; a module that fails to import fails here, loudly
            if exc.name != module:
                raise
    try:
        return current_app.tasks[name]
    except KeyError:
        raise LookupError(f"no Celery task is registered as {name!r}") from None


def enqueue(task: str, kwargs: dict) -> OutboxMessage:
    """Writes `task(**kwargs)` to the outbox in the caller's transaction (or at once, outside one) and queues it
    after the commit. A wrong task name or arguments that are not JSON fail here, in the caller, not later."""
    _task(task)
    json.dumps(kwargs)
    message = OutboxMessage.objects.create(task=task, kwargs=kwargs)
    watched = _watching.get()
    if watched is not None:
        watched.messages.append(message)
    transaction.on_commit(functools.partial(dispatch, message), robust=True)
    return message


@contextmanager
def watch():
    """`with outbox.watch() as watched: service(...)`, then `watched.all_queued`: whether everything the service
    enqueued went to the broker at once, so that a page can say "in a few minutes" when it did not."""
    watched = Watched()
    token = _watching.set(watched)
    try:
        yield watched
    finally:
        _watching.reset(token)


def dispatch(message: OutboxMessage) -> Dispatch:
    """Queues one message unless another dispatcher holds it or it was queued already."""
    now = timezone.now()
    leased = OutboxMessage.objects.filter(pk=message.pk, dispatched_at__isnull=True).filter(
        Q(leased_until__isnull=True) | Q(leased_until__lt=now)).update(
        leased_until=now + LEASE, attempts=F("attempts") + 1)
    if not leased:
        return Dispatch.TAKEN
    try:
        _task(message.task).apply_async(kwargs=message.kwargs, retry=False)
    except Exception as exc:  # the row stays waiting whatever went wrong; the sweep tries again
        away = isinstance(exc, BrokerError | OSError)
        (logger.warning if away else logger.exception)("outbox: %s #%s not queued: %s", message.task, message.pk, exc)
        OutboxMessage.objects.filter(pk=message.pk).update(
            leased_until=None, last_error=f"{exc.__class__.__name__}: {exc}"[:300])
        return Dispatch.BROKER_AWAY if away else Dispatch.REFUSED
    message.dispatched_at = timezone.now()
    OutboxMessage.objects.filter(pk=message.pk).update(dispatched_at=message.dispatched_at, leased_until=None,
                                                       last_error="")
    return Dispatch.QUEUED


def waiting():
    """Messages not yet queued that no dispatcher holds, oldest first."""
    return (OutboxMessage.objects.filter(dispatched_at__isnull=True)
            .filter(Q(leased_until__isnull=True) | Q(leased_until__lt=timezone.now())).order_by("created_at", "pk"))


def sweep(*, limit: int = SWEEP_LIMIT) -> tuple[int, int]:
    """Queues what is waiting; stops at the first sign that the broker is away. Returns (queued, still waiting)."""
    queued = 0
    for message in waiting()[:limit]:
        outcome = dispatch(message)
        if outcome is Dispatch.QUEUED:
            queued += 1
        elif outcome is Dispatch.BROKER_AWAY:
            break
    return queued, OutboxMessage.objects.filter(dispatched_at__isnull=True).count()


def purge() -> int:
    """Dispatched rows once they are an hour old (a sign-in request's row names an address)."""
    return OutboxMessage.objects.filter(dispatched_at__lt=timezone.now() - KEEP_DISPATCHED).delete()[0]
