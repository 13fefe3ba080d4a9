"""`make run`'s supervisor (connect/supervisor.py): a process that dies comes back and the others never stop.

The end-to-end test runs the real Procfile's web (two uvicorn processes on one port), worker, beat and ledger under
the supervisor, on the test database and Redis, kills the worker as the out-of-memory killer would, and watches."""

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import redis
import requests
from django.conf import settings
from django.db import connection

from connect.supervisor import exit_reason, next_backoff, procfile_read
from tests.conftest import free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]
STARTED = re.compile(r"\| (\w+) started with pid (\d+)")


def test_the_procfile_is_read_in_order_and_a_bad_line_is_named(tmp_path):
    procfile = tmp_path / "Procfile"
    procfile.write_text("# processes\nweb: uvicorn app --port ${PORT:-8000}\n\nworker: celery -A x worker\n")
    assert list(procfile_read(procfile).items()) == [("web", "uvicorn app --port ${PORT:-8000}"),
                                                     ("worker", "celery -A x worker")]
    procfile.write_text("web: uvicorn app\nthis is no process line\n")
    with pytest.raises(SystemExit, match=r"Procfile:2: not a `name: command` line"):
        procfile_read(procfile)


def test_the_log_says_how_a_process_ended():
    assert exit_reason(-signal.SIGKILL) == "killed by SIGKILL"
    assert exit_reason(3) == "exited with status 3"


def test_the_back_off_doubles_while_a_process_keeps_dying_and_starts_over_once_it_ran_a_minute():
    waits, wait = [], 0.0
    for _ in range(7):
        wait = next_backoff(wait, ran_for=0.5)
        waits.append(wait)
    assert waits == [1, 2, 4, 8, 16, 30, 30]
    assert next_backoff(30, ran_for=61) == 1


def test_a_process_that_keeps_failing_is_restarted_with_back_off_and_ctrl_c_stops_the_rest(tmp_path):
    procfile = tmp_path / "Procfile"
    marker = tmp_path / "runs"
    procfile.write_text(f"crash: sh -c 'echo run >> {marker}; exit 3'\nsteady: sleep 600\n")
    supervisor = subprocess.Popen([sys.executable, "-m", "connect.supervisor", "-f", str(procfile)], cwd=ROOT,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(lambda: marker.exists() and len(marker.read_text().split()) >= 3, 60, 0.2,
                 what="three runs of the failing process")
    finally:
        supervisor.send_signal(signal.SIGINT)
        output, _ = supervisor.communicate(timeout=30)
    assert supervisor.returncode == 0, output
    assert "crash exited with status 3" in output and "restarting it in 2 s" in output
    assert len(STARTED.findall(output)) >= 4  # steady once, crash three times at least
    steady_pid = int(next(pid for name, pid in STARTED.findall(output) if name == "steady"))
    assert "steady exited" not in output.split("SIGINT received")[0]  # the failing one never took it down
    assert not _alive(steady_pid)
    assert "every process stopped" in output


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is not alive
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def _started(log: Path) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for name, pid in STARTED.findall(log.read_text(errors="replace")):
        found.setdefault(name, []).append(int(pid))
    return found


@pytest.mark.django_db(transaction=True)
def test_killing_the_worker_of_a_running_procfile_brings_it_back_and_leaves_the_others_running(tmp_path):
    db = settings.DATABASES["default"]
    port = free_port()
    env = {**os.environ, "CONNECT_MODE": "demo", "CONNECT_REDIS_URL": settings.REDIS_URL, "PORT": str(port),
           "CONNECT_DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
           "CONNECT_EVIDENCE_DIR": str(tmp_path / "evidence"), "CONNECT_KEY_STORE_DIR": str(tmp_path / "keys"),
           "CONNECT_WEB_PROCESSES": "2", "CONNECT_METRICS_PORT": "0"}
    log = tmp_path / "supervisor.log"
    with log.open("wb") as out:
        supervisor = subprocess.Popen([sys.executable, "-m", "connect.supervisor", "-f", "Procfile",
                                       "web", "worker", "beat", "ledger"],
                                      cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/healthz"
    failures, answered, polling = [], [0], threading.Event()

    def poll_web():
        while not polling.is_set():
            try:
                requests.get(url, timeout=20)
                answered[0] += 1
            except requests.RequestException as exc:
                failures.append(repr(exc))
            time.sleep(0.2)

    def show():
        return log.read_text(errors="replace")[-4000:]

    poller = threading.Thread(target=poll_web, daemon=True)
    try:
        def web_up():
            try:
                return requests.get(url, timeout=5).status_code in (200, 503)
            except requests.RequestException:
                return False

        wait_for(web_up, 120, 0.5, what="web answering under the supervisor", explain=show)
        first = _started(log)
        web_pid, worker_pid = first["web"][0], first["worker"][0]
        # CONNECT_WEB_PROCESSES=2: uvicorn's two processes share the port
        wait_for(lambda: len(_children(web_pid)) >= 2, 60, 0.5, what="two web processes", explain=show)
        wait_for(lambda: b"ready" in log.read_bytes(), 120, 0.5, what="the worker ready", explain=show)
        poller.start()

        os.kill(worker_pid, signal.SIGKILL)  # the out-of-memory killer's way
        wait_for(lambda: len(_started(log).get("worker", [])) >= 2, 60, 0.2, what="the worker restarted",
                 explain=show)
        text = log.read_text(errors="replace")
        assert "worker killed by SIGKILL" in text and "the other processes go on" in text
        new_worker = _started(log)["worker"][1]
        assert new_worker != worker_pid and _alive(new_worker)
        wait_for(lambda: text.count("ready") < log.read_text(errors="replace").count("ready"), 120, 0.5,
                 what="the new worker ready", explain=show)

        after = _started(log)
        for name in ("web", "beat", "ledger"):  # never restarted, still the same processes
            assert after[name] == first[name], f"{name} was restarted: {show()}"
            assert _alive(first[name][0]), f"{name} stopped: {show()}"
        polled_before = answered[0]
        wait_for(lambda: answered[0] > polled_before + 3, 60, 0.2, what="web answering after the kill")
    finally:
        polling.set()
        supervisor.send_signal(signal.SIGINT)  # Ctrl-C
        supervisor.wait(timeout=60)
        if poller.is_alive():
            poller.join(timeout=30)
    assert supervisor.returncode == 0, show()
    assert not failures, failures[:3]
    everything = [pid for pids in _started(log).values() for pid in pids]
    wait_for(lambda: not any(_alive(pid) for pid in everything), 30, 0.2, what="every process gone")
    assert "every process stopped" in log.read_text()
    # The services it found running are running still.
    assert redis.Redis.from_url(settings.REDIS_URL).ping()
    connection.close()
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
