"""The Celery application: settings come from Django's CELERY_* settings, tasks from each app.

Workers outlive database restarts (issue 15). A worker keeps its connection from task to task
(CELERY_DB_REUSE_MAX), and nothing checked it between tasks: after PostgreSQL restarted every task failed on the
dead connection until the worker was restarted by hand. Now each task starts by handing back a connection that is
broken or due (it returns to the pool, whose check replaces a dead one), and a task that still meets a database
error is retried with backoff instead of failing.
"""

import os
import random

from celery import Celery, Task, bootsteps, signals
from celery.fixups.django import DjangoWorkerFixup

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "connect.settings")

DB_RETRIES = 8  # 2, 4, 8 ... 60 s apart: about five minutes of outage, then the task fails where it is logged
DB_RETRY_MAX_S = 60


class RecoveringTask(Task):
    """Every task: a database error (the server restarted, failed over, or refused connections for a while) is
    retried with backoff rather than lost."""

    def __call__(self, *args, **kwargs):
        from django.db import InterfaceError, OperationalError, connections

        try:
            return super().__call__(*args, **kwargs)
        except (OperationalError, InterfaceError) as exc:  # not IntegrityError and such: those would fail again
            if self.request.is_eager or self.request.called_directly:
                raise
            for conn in connections.all(initialized_only=True):
                conn.close()
            delay = min(DB_RETRY_MAX_S, 2 ** (self.request.retries + 1)) * random.uniform(0.5, 1.0)
            raise self.retry(exc=exc, countdown=delay, max_retries=DB_RETRIES) from None


class OutboxOnConnect(bootsteps.StartStopStep):
    """Each time the worker's consumer starts (at worker start, and again after it lost the broker and got it
    back), it queues a sweep of the outbox: work that could not be queued while Redis was away goes out now
    rather than at beat's next minute (common/outbox.py)."""

    requires = {"celery.worker.consumer.tasks:Tasks"}

    def start(self, consumer):
        try:
            consumer.app.tasks["common.tasks.outbox_sweep_task"].apply_async(retry=False)
        except Exception as exc:  # the broker went away again: beat's sweep follows
            import logging

            logging.getLogger(__name__).warning("outbox sweep not queued at connect: %s", exc)


def _close_without_fork(self, **kwargs) -> None:
    """Celery's Django fixup, at worker_process_init, closes each database socket by its file descriptor: right
    for a forked child, whose sockets are its parent's. But the solo pool (and a test's worker thread) sends that
    signal in the process that owns the sockets, and the pooled psycopg connection, its descriptor closed under
    it, went back to the pool: the next checkout sent its query down whatever socket reused the number and hung.
    Without a fork, the connections are closed the ordinary way."""
    if self._is_prefork():
        return _fixup_process_init(self, **kwargs)
    self._close_database()
    self.close_cache()


_fixup_process_init = DjangoWorkerFixup.on_worker_process_init
DjangoWorkerFixup.on_worker_process_init = _close_without_fork

app = Celery("connect", task_cls=RecoveringTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.steps["consumer"].add(OutboxOnConnect)


@signals.task_prerun.connect
def _fresh_connections(task=None, **kwargs) -> None:
    """Before each task, give back a connection that is broken or past its age, as Django does before each request.
    (Not in eager mode: there the task runs inside the caller's transaction.)"""
    from django.db import connections

    if task is not None and not task.request.is_eager:
        for conn in connections.all(initialized_only=True):
            conn.close_if_unusable_or_obsolete()


import common.change_history  # noqa: E402,F401 -- names each task as the actor of the changes it saves
from common import request_context  # noqa: E402

_task_contexts: dict[str, object] = {}


@signals.setup_logging.connect
def _logging_as_configured(**kwargs):
    """Worker and beat log through connect's own LOGGING (the format CONNECT_LOG_FORMAT chose, scrubbed, with the
    task in each line) instead of Celery's handlers."""
    from django.conf import settings

    from common.logs import configure

    configure(settings.LOGGING)


@signals.celeryd_init.connect
def _no_banner_in_json(instance=None, **kwargs):
    """The worker's start-up banner is text on stdout: with JSON logs, the log says it started instead."""
    from django.conf import settings

    if settings.LOG_FORMAT == "json" and instance is not None:
        instance.quiet = True


@signals.task_prerun.connect
def _task_context_begin(task_id=None, task=None, **kwargs):
    _task_contexts[task_id] = request_context.begin(request_context.WorkContext(task=task.name, task_id=task_id))


@signals.task_postrun.connect
def _task_context_end(task_id=None, **kwargs):
    token = _task_contexts.pop(task_id, None)
    if token is not None:
        request_context.end(token)


@signals.worker_ready.connect
def _metrics_port(**kwargs):
    from connect.metrics import metrics_port_serve

    metrics_port_serve()
