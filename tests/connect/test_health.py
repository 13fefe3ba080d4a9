"""/healthz: 503 when connect cannot work (database, Redis, worker, evidence store), 200 "degraded" when an operator
should look (no sealer, a ledger backlog, little free space), and details only for the holder of the metrics token."""

import os
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings

from tests.conftest import wait_for

TOKEN = "metrics-token-for-the-tests-0123456789"


@contextmanager
def sealer_process():
    """The ledger's sealer as the Procfile runs it (`manage.py seal_ledger --follow`), on the test database."""
    db = settings.DATABASES["default"]
    env = {**os.environ, "CONNECT_DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}
    process = subprocess.Popen([sys.executable, "manage.py", "seal_ledger", "--follow"],
                               cwd=Path(__file__).resolve().parents[2], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)


@pytest.fixture(autouse=True)
def evidence_dir(settings, tmp_path):
    settings.EVIDENCE_DIR = tmp_path / "evidence"
    return settings.EVIDENCE_DIR


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


@pytest.mark.django_db
def test_little_free_space_is_degraded_and_the_token_holder_sees_how_much(client, settings):
    settings.HEALTH_MIN_FREE_MB = 1024 * 1024 * 1024  # a petabyte: never free
    settings.METRICS_TOKEN = TOKEN
    public = client.get("/healthz").json()
    assert public["evidence_store"] == "low on space" and "detail" not in public
    assert "free" not in client.get("/healthz").content.decode()
    wrong = client.get("/healthz", HTTP_AUTHORIZATION="Bearer not-the-token").json()
    assert "detail" not in wrong
    detail = client.get("/healthz", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").json()["detail"]
    assert detail["evidence_store"]["free_bytes"] > 0
    assert detail["ledger"] == {"pending": 0, "lag_seconds": 0.0}


@pytest.mark.django_db(transaction=True)
def test_a_ledger_entry_left_unsealed_makes_healthz_say_lagging(client, settings, monkeypatch):
    from audit.ledger import Action, record, seal, writing

    monkeypatch.setattr(writing, "_seal_after_commit", lambda ids: None)  # as if the writer died after its commit
    settings.HEALTH_SEALER_LAG_S = 1
    settings.METRICS_TOKEN = TOKEN
    record(actor=None, action=Action.LEDGER_PURGED, target_type="ledger")
    body = wait_for(lambda: (b := client.get("/healthz", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").json())["ledger"]
                    == "lagging" and b)
    assert body["detail"]["ledger"]["pending"] == 1 and body["detail"]["ledger"]["lag_seconds"] > 1
    monkeypatch.undo()
    seal()
    assert client.get("/healthz").json()["ledger"] == "ok"


@pytest.mark.django_db
def test_evidence_in_a_bucket_that_stops_answering_is_down_in_healthz_and_the_metrics_within_seconds(
        client, settings, s3_evidence):
    import time

    from tests.conftest import free_port
    from tests.connect.test_metrics import scrape, value

    settings.METRICS_TOKEN = TOKEN
    assert client.get("/healthz").json()["evidence_store"] == "ok"
    assert value(scrape(client), "connect_evidence_store_up") == 1

    settings.EVIDENCE_S3_ENDPOINT_URL = f"http://127.0.0.1:{free_port()}"  # the bucket's server gone
    started = time.monotonic()
    response = client.get("/healthz", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert time.monotonic() - started < 10  # one short try, not the downloads' three 5 s attempts
    assert response.status_code == 503
    assert response.json()["evidence_store"] == "down" and response.json()["status"] == "down"
    assert s3_evidence.bucket in response.json()["detail"]["evidence_store"]["error"]
    assert value(scrape(client), "connect_evidence_store_up") == 0

    settings.EVIDENCE_S3_ENDPOINT_URL = s3_evidence.client.meta.endpoint_url
    settings.EVIDENCE_STORAGE = {**settings.EVIDENCE_STORAGE, "bucket": "no-such-bucket"}
    assert client.get("/healthz").json()["evidence_store"] == "down"


def test_healthz_ok_then_degraded_without_the_sealer_then_503_without_the_evidence_store(client, celery_worker,
                                                                                       settings, tmp_path):
    # Last in the module, and the only one with a worker: after a celery_worker test, the next test's new database
    # connection can hang in the pool's check (seen on main as well).
    with sealer_process():
        response = wait_for(lambda: (r := client.get("/healthz")).json()["status"] == "ok" and r, timeout=30)
        assert response.status_code == 200
        assert response.json() == {"status": "ok", "database": "ok", "redis": "ok", "celery": "ok",
                                   "evidence_store": "ok", "sealer": "running", "ledger": "ok"}

    # Writers seal their own entries without it: connect works, an operator should look.
    response = wait_for(lambda: (r := client.get("/healthz")).json()["sealer"] == "stopped" and r)
    assert response.status_code == 200 and response.json()["status"] == "degraded"

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the evidence folder should be")
    settings.EVIDENCE_DIR = blocker / "evidence"
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["evidence_store"] == "down" and response.json()["status"] == "down"
    assert str(tmp_path) not in response.content.decode() and "detail" not in response.json()
    assert "detail" not in client.get("/healthz", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").json()  # no token set
    settings.METRICS_TOKEN = TOKEN
    detailed = client.get("/healthz", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").json()
    assert "NotADirectoryError" in detailed["detail"]["evidence_store"]["error"]
