"""Logs: one JSON object a line with CONNECT_LOG_FORMAT=json in every process (web and its access lines, the
Celery worker, the sealer, the connector), a request id in every line of a request and in its response, the staff
user id where known, and never a signed link's token, a query string, a client address or an e-mail address."""

import http.cookiejar
import json
import logging
import os
import re
import subprocess
import sys
import urllib.parse
import urllib.request
import warnings

import pytest
from django.conf import settings

from common.logs import JsonFormatter, RequestContextFilter, ScrubFilter
from tests.conftest import STAFF_PASSWORD, make_staff, wait_for
from tests.connect.web_process import ROOT, get, web_process

SIGNED_LINK_TOKEN = ".eJyrVkrOz0vOTC4pSkxJUbIyMtAB8-OTS1SsjAwNDS1hLANjPQ:1tZ2Xq:abcDEF1234567"


# Celery itself prints this on stderr as it stops, outside logging.
CELERY_SHUTDOWN = "worker: Warm shutdown (MainProcess)"


def json_lines(path) -> list[dict]:
    lines = [line for line in path.read_text().splitlines() if line.strip() and line.strip() != CELERY_SHUTDOWN]
    assert lines, "the process wrote no log"
    return [json.loads(line) for line in lines]  # a line that is not JSON fails here


def sign_in(base: str, username: str) -> urllib.request.OpenerDirector:
    """A browser of its own, signed in to the admin through the sign-in form of the real server."""
    jar = http.cookiejar.CookieJar()
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    browser.open(base + "/admin/login/", timeout=30).read()
    csrf = next(cookie.value for cookie in jar if cookie.name == "csrftoken")
    form = urllib.parse.urlencode({"username": username, "password": STAFF_PASSWORD, "csrfmiddlewaretoken": csrf,
                                   "next": "/admin/"}).encode()
    browser.open(base + "/admin/login/?next=/admin/", data=form, timeout=30).read()
    return browser


def test_the_web_process_logs_json_with_the_request_id_and_without_secrets(transactional_db, tmp_path):
    log = tmp_path / "web.log"
    staff = make_staff("investigator")
    env = {"CONNECT_LOG_FORMAT": "json", "CONNECT_TRUSTED_PROXIES": "1"}
    with web_process(env, log_path=log, access_log=True) as base:
        status, headers, _ = get(base + "/api/v1/cameras/?bbox=1,2,3,4", {"X-Request-ID": "proxy-id-0123456789"})
        assert status == 401 and headers["X-Request-ID"] == "proxy-id-0123456789"
        _, headers, _ = get(base + "/api/v1/cameras/", {"X-Request-ID": "no\"good id"})
        made = headers["X-Request-ID"]
        assert re.fullmatch(r"[0-9a-f]{32}", made)  # junk from the client is replaced, not logged
        _, headers, _ = get(base + f"/footage/{SIGNED_LINK_TOKEN}/?view=secret-view-token")
        consent_id = headers["X-Request-ID"]
        _, headers, _ = get(base + f"/no-such-page/{SIGNED_LINK_TOKEN}/?email=alice@example.org")
        missing_id = headers["X-Request-ID"]
        browser = sign_in(base, staff.username)
        with browser.open(base + "/admin/", timeout=30) as response:
            admin_id = response.headers["X-Request-ID"]

    text = log.read_text()
    for secret in (SIGNED_LINK_TOKEN, "secret-view-token", "alice@example.org", "bbox=", "sessionid",
                   STAFF_PASSWORD):
        assert secret not in text, secret
    lines = json_lines(log)
    assert not any("127.0.0.1" in json.dumps(line) for line in lines if line["logger"] == "uvicorn.access")
    assert {"time", "level", "logger", "message"} <= set(lines[0])
    access = {line["request_id"]: line for line in lines if line["logger"] == "uvicorn.access"}
    first = access["proxy-id-0123456789"]
    assert first["http_path"] == "/api/v1/cameras/" and first["http_status"] == 401
    assert first["route"] == "api:camera-list" and "user_id" not in first
    assert access[made]["http_method"] == "GET"
    assert access[consent_id]["http_path"] == "/footage/[redacted]/"
    assert access[admin_id]["user_id"] == staff.pk and access[admin_id]["http_status"] == 200
    # Django's own line about the missing page carries the same id as its access line, and no token.
    not_found = [line for line in lines if line["logger"] == "django.request" and line["request_id"] == missing_id]
    assert not_found and "/no-such-page/[redacted]/" in not_found[0]["message"]


def test_without_a_trusted_proxy_an_offered_request_id_is_not_taken_and_logs_stay_text(transactional_db, tmp_path):
    log = tmp_path / "web.log"
    with web_process({}, log_path=log, access_log=True) as base:
        _, headers, _ = get(base + "/api/v1/cameras/?view=secret-view-token", {"X-Request-ID": "forged-id-0123456789"})
    request_id = headers["X-Request-ID"]
    assert request_id != "forged-id-0123456789"
    text = log.read_text()
    assert "secret-view-token" not in text and "forged-id" not in text
    assert f'"GET /api/v1/cameras/ HTTP/1.1" 401 [request {request_id}]' in text
    assert not text.lstrip().startswith("{")  # people read the default format


def test_uvicorns_no_access_log_leaves_no_access_lines_and_the_rest_of_the_log_stays(transactional_db, tmp_path):
    log = tmp_path / "web.log"
    with web_process({}, log_path=log) as base:  # --no-access-log, as the benchmarks run it
        status, _, _ = get(base + f"/no-such-page/{SIGNED_LINK_TOKEN}/")
    assert status == 404
    text = log.read_text()
    assert "uvicorn.access" not in text and '"GET /' not in text
    assert "Not Found: /no-such-page/[redacted]/" in text  # Django's own lines still come


def test_an_exception_is_a_field_of_its_own_and_scrubbed():
    record = logging.LogRecord("connect.test", logging.ERROR, __file__, 1, "mail to %s failed", ("bob@example.org",),
                               None)
    try:
        raise ValueError("no route to 2 Beta Street for bob@example.org")
    except ValueError:
        record.exc_info = sys.exc_info()
    RequestContextFilter().filter(record)
    ScrubFilter().filter(record)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "mail to [redacted] failed" and entry["level"] == "error"
    assert entry["exception"]["type"] == "ValueError"
    assert "ValueError: no route to [redacted]" in entry["exception"]["traceback"]
    assert "bob@example.org" not in json.dumps(entry)


@pytest.mark.django_db(transaction=True)
def test_the_worker_and_the_sealer_log_json_lines_with_the_task(tmp_path):
    db = settings.DATABASES["default"]
    env = {**os.environ, "CONNECT_LOG_FORMAT": "json", "CONNECT_REDIS_URL": settings.REDIS_URL,
           "CONNECT_DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
           # Celery warns a worker run as root before any logging is set up; production runs it as its own user.
           "PYTHONWARNINGS": "ignore:You're running the worker with superuser privileges"}
    worker_log, sealer_log = tmp_path / "worker.log", tmp_path / "sealer.log"
    from connect.celery import app as celery_app

    celery_app.control.purge()
    with open(worker_log, "wb") as out, open(sealer_log, "wb") as sealer_out:
        worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "connect", "worker", "--pool=solo",
                                   "--without-gossip", "--without-mingle", "--loglevel=INFO"],
                                  cwd=ROOT, env=env, stdout=out, stderr=out)
        sealer = subprocess.Popen([sys.executable, "manage.py", "seal_ledger", "--follow"], cwd=ROOT, env=env,
                                  stdout=sealer_out, stderr=sealer_out)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # not eager: send_task queues it for the worker, as wanted
                task_id = celery_app.send_task("audit.tasks.ledger_seal_task").id
            wait_for(lambda: task_id in worker_log.read_text() and "succeeded" in worker_log.read_text(), timeout=60)
            wait_for(lambda: "ledger sealer running" in sealer_log.read_text(), timeout=60)
        finally:
            worker.terminate()
            sealer.terminate()
            worker.wait(timeout=30)
            sealer.wait(timeout=30)
    task_lines = [line for line in json_lines(worker_log) if line.get("task_id") == task_id]
    assert task_lines and task_lines[0]["task"] == "audit.tasks.ledger_seal_task"
    assert any(line["message"] == "ledger sealer running" for line in json_lines(sealer_log))


def test_the_connector_logs_json_lines_without_its_token():
    token = "connector-secret-token-0123456789"
    process = subprocess.Popen([sys.executable, "-m", "integration.connector", "--server", "http://127.0.0.1:9",
                                "--camera", "abc", "--token", token, "--source", "test", "--log-format", "json"],
                               cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        lines = [process.stderr.readline() for _ in range(2)]
    finally:
        process.terminate()
        process.wait(timeout=15)
    entries = [json.loads(line) for line in lines]
    assert all({"time", "level", "logger", "message"} <= set(entry) for entry in entries)
    assert token not in "".join(lines)


def test_an_unknown_log_format_stops_start_up_naming_the_variable():
    from tests.connect.test_env import _import_settings

    result = _import_settings({"CONNECT_MODE": "demo", "CONNECT_LOG_FORMAT": "xml"})
    assert result.returncode != 0 and "CONNECT_LOG_FORMAT must be one of text, json" in result.stderr
