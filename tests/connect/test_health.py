import pytest

from tests.conftest import wait_for


def test_healthz_is_ok_when_database_redis_and_a_worker_are_up(client, celery_worker):
    response = wait_for(lambda: (r := client.get("/healthz")).status_code == 200 and r)
    assert response.json() == {"status": "ok", "database": "ok", "redis": "ok", "celery": "ok"}


@pytest.mark.django_db
def test_healthz_is_503_without_a_worker(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["celery"] == "down: no worker answered"
    assert response.json()["database"] == "ok"


@pytest.mark.django_db
def test_healthz_is_503_when_redis_is_gone(client, settings):
    from tests.conftest import free_port

    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    body = client.get("/healthz").json()
    assert body["status"] == "down" and body["redis"].startswith("down") and body["celery"] == "down: no broker"
