import pytest
from celery.contrib.testing.worker import start_worker

from connect.celery import app as celery_app


@pytest.fixture
def celery_worker(transactional_db):
    """A real Celery worker (in a thread) consuming from the test Redis broker."""
    celery_app.conf.task_always_eager = False
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as worker:
        yield worker
    celery_app.conf.task_always_eager = True
