"""Prometheus metrics: nothing exposed unless configured; by token at /metrics or on a port of their own; request
latency by route name (never a raw path) counted across every web process; state read from the database and Redis
at scrape time."""

import warnings
from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import free_port, make_staff, wait_for
from tests.connect.web_process import get, web_process

TOKEN = "metrics-token-for-the-tests-0123456789"
SIGNED_LINK_TOKEN = ".eJyrVkrOz0vOTC4pSkxJUbIyMtAB8-OTS1SsjAwNDS1hLANjPQ:1tZ2Xq:abcDEF1234567"


def samples(text: bytes | str, name: str) -> dict[tuple, float]:
    """{sorted label items: value} of one metric's samples in a scrape."""
    text = text.decode() if isinstance(text, bytes) else text
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def value(text, name: str, **labels) -> float | None:
    return samples(text, name).get(tuple(sorted(labels.items())))


def requests_counted(text, route: str) -> float:
    return sum(count for labels, count in samples(text, "connect_http_request_duration_seconds_count").items()
               if dict(labels)["route"] == route)


def test_two_web_processes_count_into_one_scrape_by_route_name_and_only_the_token_opens_metrics(
        transactional_db, tmp_path):
    port = free_port()
    env = {"CONNECT_METRICS_PORT": str(port), "CONNECT_METRICS_TOKEN": TOKEN,
           "CONNECT_METRICS_DIR": str(tmp_path / "metrics")}
    with web_process(env) as first, web_process(env) as second:
        for base, times in ((first, 3), (second, 2)):
            for _ in range(times):
                assert get(base + "/api/v1/cameras/")[0] == 401
        get(second + f"/footage/{SIGNED_LINK_TOKEN}/?view=secret-view-token")

        # One of the two holds the metrics port (the other stands by); either way the scrape has both processes.
        status, _, scraped = wait_for(lambda: (r := get(f"http://127.0.0.1:{port}/metrics"))[0] == 200 and r)
        assert requests_counted(scraped, "api:camera-list") == 5
        assert requests_counted(scraped, "requests_app:consent") == 1
        assert value(scraped, "connect_http_request_duration_seconds_count", route="api:camera-list", method="GET",
                     status="4xx") == 5
        assert b"secret-view-token" not in scraped and SIGNED_LINK_TOKEN.encode() not in scraped
        assert get(f"http://127.0.0.1:{port}/")[0] == 404  # the port serves /metrics and nothing else

        # On the site itself: only with the token, and again every process's counts.
        assert get(first + "/metrics")[0] == 401
        assert get(first + "/metrics", {"Authorization": "Bearer not-the-token"})[0] == 401
        status, headers, body = get(first + "/metrics", {"Authorization": f"Bearer {TOKEN}"})
        assert status == 200 and headers["Content-Type"].startswith("text/plain")
        assert requests_counted(body, "api:camera-list") == 5
        assert value(body, "connect_metrics_source_up", source="database") == 1


@pytest.mark.django_db
def test_without_a_token_setting_metrics_are_not_there_at_all(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 404


@pytest.mark.django_db
def test_the_token_opens_metrics_whatever_the_case_of_its_scheme_and_nothing_else_does(client, settings):
    settings.METRICS_TOKEN = TOKEN
    for header in (f"bearer {TOKEN}", f"BEARER {TOKEN}"):  # HTTP: a scheme's name is case-insensitive
        assert client.get("/metrics", HTTP_AUTHORIZATION=header).status_code == 200
    for header in ("", TOKEN, f"Basic {TOKEN}", f"Token {TOKEN}", f"Bearer  {TOKEN}", f"Bearer {TOKEN.upper()}",
                   f"Bearer {TOKEN} ", "Bearer", f"Bearer{TOKEN}"):
        assert client.get("/metrics", HTTP_AUTHORIZATION=header).status_code == 401, header
    assert client.get(f"/metrics?token={TOKEN}").status_code == 401


def scrape(client) -> bytes:
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    return response.content


@pytest.mark.django_db
def test_the_state_gauges_say_what_is_in_the_database_and_redis_now(client, settings, monkeypatch):
    from django.core.cache import cache

    from audit.ledger import Action, record, writing
    from connect.celery import app as celery_app
    from integration.consumers.connector import presence_key
    from integration.models import LiveSession
    from tests.registry.factories import CameraFactory

    settings.METRICS_TOKEN = TOKEN
    before = scrape(client)
    assert value(before, "connect_ledger_pending_entries") == 0
    assert value(before, "connect_ledger_sealer_lag_seconds") == 0
    assert value(before, "connect_ledger_sealer_running") == 0
    assert value(before, "connect_live_viewers") == 0
    for source in ("database", "redis", "evidence_store"):
        assert value(before, "connect_metrics_source_up", source=source) == 1
    assert value(before, "connect_evidence_store_up") == 1 and value(before, "connect_evidence_store_free_bytes") > 0

    monkeypatch.setattr(writing, "_seal_after_commit", lambda ids: None)  # as if its writer died before sealing
    record(actor=None, action=Action.LEDGER_PURGED, target_type="ledger")
    camera = CameraFactory()
    LiveSession.objects.create(analyst=make_staff("analyst"), camera=camera, reason="Watching for case 1",
                               ends_by=timezone.now() + timedelta(minutes=30), watched_at=timezone.now())
    LiveSession.objects.create(analyst=make_staff("supervisor"), camera=camera, reason="Never opened",
                               ends_by=timezone.now() + timedelta(minutes=30))
    cache.set(presence_key(camera.code), "specific.channel", 30)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # task_always_eager does not apply to send_task: it is queued, as wanted
        celery_app.send_task("connect.metrics_probe")  # waits in the queue: no worker here
    try:
        after = scrape(client)
    finally:
        cache.delete(presence_key(camera.code))
        celery_app.control.purge()
    assert value(after, "connect_ledger_pending_entries") >= 1  # that entry, and what the set-up recorded
    assert value(after, "connect_ledger_sealer_lag_seconds") > 0
    assert value(after, "connect_live_viewers") == 1  # the view that never connected is no viewer
    assert value(after, "connect_live_connectors_online") == value(before, "connect_live_connectors_online") + 1
    assert value(after, "connect_celery_queue_length", queue="celery") == \
        value(before, "connect_celery_queue_length", queue="celery") + 1


@pytest.mark.django_db
def test_a_scrape_with_redis_gone_still_answers_and_says_so(client, settings):
    settings.METRICS_TOKEN = TOKEN
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"
    body = scrape(client)
    assert value(body, "connect_metrics_source_up", source="redis") == 0
    assert value(body, "connect_metrics_source_up", source="database") == 1
    assert value(body, "connect_celery_queue_length", queue="celery") is None
    assert value(body, "connect_ledger_pending_entries") == 0


def test_the_fast_routes_are_labelled_with_the_names_django_gives_their_views():
    from api.nearby_route import NearbyRoute
    from api.position_push import PositionPush

    assert PositionPush(None).route_name == "api:position-list"
    assert NearbyRoute(None).route_name == "api:camera-nearby"


def test_a_short_metrics_token_or_a_folder_that_cannot_be_made_stops_start_up(tmp_path):
    from tests.connect.test_env import _import_settings

    result = _import_settings({"CONNECT_MODE": "demo", "CONNECT_METRICS_TOKEN": "guessable"})
    assert result.returncode != 0 and "CONNECT_METRICS_TOKEN must be at least 24 random characters" in result.stderr
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    result = _import_settings({"CONNECT_MODE": "demo", "CONNECT_METRICS_PORT": "9108",
                               "CONNECT_METRICS_DIR": str(blocker / "metrics")})
    assert result.returncode != 0 and "CONNECT_METRICS_DIR: cannot create" in result.stderr
