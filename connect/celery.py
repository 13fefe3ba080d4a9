"""The Celery application: settings come from Django's CELERY_* settings, tasks from each app."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "connect.settings")

app = Celery("connect")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

import common.change_history  # noqa: E402,F401 -- names each task as the actor of the changes it saves
