"""The Celery application: settings come from Django's CELERY_* settings, tasks from each app."""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "connect.settings")

app = Celery("connect")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

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
