"""The change history names Celery tasks and management commands as the actors of their changes, and forgets
a deleted owner's sharing terms."""

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from auditlog.models import LogEntry
from django.conf import settings
from django.utils import timezone

from common.change_history import command_label
from integration.models import LiveSession, LiveShare
from integration.tasks import live_sessions_sweep_task
from registry.services import owner_delete
from tests.integration.test_gating import opened

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def changes_of(obj) -> list[LogEntry]:
    return list(LogEntry.objects.get_for_object(obj).filter(action=LogEntry.Action.UPDATE))


def overdue_session(live_camera, analyst, incident_near) -> LiveSession:
    session = opened(analyst, live_camera, incident_near)
    LiveSession.objects.filter(pk=session.pk).update(started_at=timezone.now() - timedelta(minutes=31),
                                                     ends_by=timezone.now() - timedelta(minutes=1),
                                                     watched_at=timezone.now() - timedelta(minutes=31))
    return session


def test_a_task_is_named_by_its_name(live_camera, analyst, incident_near):
    session = overdue_session(live_camera, analyst, incident_near)

    live_sessions_sweep_task.apply()

    [change] = changes_of(session)
    assert change.actor is None and change.actor_email == "task integration.tasks.live_sessions_sweep_task"


@pytest.mark.django_db(transaction=True)
def test_a_command_run_through_manage_py_is_named_with_the_system_user_who_ran_it(live_camera, analyst,
                                                                                    incident_near):
    session = overdue_session(live_camera, analyst, incident_near)
    db = settings.DATABASES["default"]
    env = {**os.environ, "CONNECT_DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}

    run = subprocess.run([sys.executable, "manage.py", "sweep_live_sessions"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)

    assert run.returncode == 0, run.stderr
    [change] = changes_of(session)
    assert change.actor_email == command_label(["manage.py", "sweep_live_sessions"])
    assert change.actor_email.startswith("command sweep_live_sessions (run by ")


def test_deleting_an_owner_takes_the_history_of_their_sharing_terms_with_it(live_camera):
    share = LiveShare.objects.get(camera=live_camera)
    assert LogEntry.objects.get_for_object(share).exists()
    assert "Grocery" not in str(list(LogEntry.objects.get_for_object(share).values_list("changes", flat=True)))

    owner_delete(owner=live_camera.owner)

    assert not LogEntry.objects.filter(content_type__model="liveshare", object_id=share.pk).exists()
