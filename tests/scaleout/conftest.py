"""Several machines on one: every connect process started as a real process of its own, on its own port, sharing
only what separate machines would share: the test's PostgreSQL and Redis, the evidence store and a mail server.

`cluster` starts them once for the module: web A and web B (uvicorn), workers w1 and w2 (Celery, prefork, each in
a process group of its own so a kill takes its pool with it, as a machine going down would), beat and a stand-by
beat, the ledger sealer and a stand-by sealer, and the mail server (tests/scaleout/smtp_counter.py).

The evidence store is one fixture, `shared_evidence`: the environment every process gets to reach it, a folder
all of them share, with the shred key store beside it (every machine mounts the same one). `bucket_web_pair` is
the other form: two more web processes whose evidence is a bucket on moto's standalone server (tests/conftest.py),
each with a staging folder of its own, so nothing passes between them but the bucket, the database and the key
store.
"""

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.conftest import free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]
HOLD_ADDRESS = "held@example.org"  # the mail server holds the first message to this owner (see smtp_counter.py)


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path

    def kill(self) -> None:
        """SIGKILL to the whole process group: the machine went down, nothing gets to clean up."""
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=20)

    def stop(self) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return f"--- {self.name} (exit {self.popen.poll()}) ---\n" + "\n".join(text.splitlines()[-lines:])


@dataclass
class Cluster:
    env: dict
    folder: Path
    processes: dict = field(default_factory=dict)
    web: dict = field(default_factory=dict)  # "a"/"b" -> base URL
    mail_dir: Path = None
    staging: dict = field(default_factory=dict)  # "a"/"b" -> each web's own staging folder (bucket_web_pair)

    def start(self, name: str, args: list[str], **extra_env) -> Process:
        log = self.folder / f"{name}.log"
        popen = subprocess.Popen(args, cwd=ROOT, env={**self.env, **extra_env}, stdout=log.open("wb"),
                                 stderr=subprocess.STDOUT, start_new_session=True)
        process = self.processes[name] = Process(name, popen, log)
        return process

    def logs(self) -> str:
        return "\n".join(process.tail() for process in self.processes.values())

    def mailed(self) -> list[str]:
        """The recipient of every message the mail server accepted."""
        import email

        return [email.message_from_bytes(path.read_bytes())["To"] for path in sorted(self.mail_dir.glob("*.eml"))]


def wait_until(predicate, what: str, cluster: Cluster | None = None, timeout: float = 60.0, interval: float = 0.1):
    """wait_for, showing the processes' logs when it fails."""
    return wait_for(predicate, timeout, interval, what=what, explain=cluster.logs if cluster else None)


def lock_holders(lock: int) -> list[int]:
    """Database sessions (backend pids) of this database holding the advisory lock `lock` (a bigint key: its two
    32-bit halves, objsubid 1)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND mode = 'ExclusiveLock' "
                       "AND objsubid = 1 AND classid::bigint = %s AND objid::bigint = %s "
                       "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                       [lock >> 32, lock & 0xFFFFFFFF])
        return [row[0] for row in cursor.fetchall()]


def lock_holder_names(lock: int) -> list[str]:
    """The application names (PGAPPNAME) of the database sessions holding the advisory lock `lock`."""
    from django.db import connection

    holders = lock_holders(lock)
    with connection.cursor() as cursor:
        cursor.execute("SELECT application_name FROM pg_stat_activity WHERE pid = ANY(%s)", [holders])
        return sorted(row[0] for row in cursor.fetchall())


def locks_free(*locks: int) -> None:
    """The cluster's tests name which of its processes holds each lock, so nothing else may: a holder left by an
    earlier test (a sealer thread still stopping, a process not yet reaped) gets a few seconds to let go, then its
    session is ended, with a warning naming it."""
    import warnings

    from django.db import connection

    try:
        wait_for(lambda: not any(lock_holders(lock) for lock in locks), 10, 0.1, what="the locks are free")
    except AssertionError:
        pids = [pid for lock in locks for pid in lock_holders(lock)]
        with connection.cursor() as cursor:
            cursor.execute("SELECT pid, application_name, backend_start, pg_terminate_backend(pid) "
                           "FROM pg_stat_activity WHERE pid = ANY(%s)", [pids])
            warnings.warn(f"sessions left by earlier tests still held the cluster's locks: {cursor.fetchall()}",
                          stacklevel=2)
        wait_for(lambda: not any(lock_holders(lock) for lock in locks), 10, 0.1, what="the ended sessions let go")


def _answers(url: str) -> bool:
    try:
        return requests.get(url + "/healthz", timeout=2).status_code in (200, 503)
    except requests.RequestException:
        return False


@pytest.fixture(scope="module")
def shared_evidence(tmp_path_factory) -> dict:
    """What every process is given to reach the one evidence store and the one shred key store."""
    return {"CONNECT_EVIDENCE_DIR": str(tmp_path_factory.mktemp("evidence")),
            "CONNECT_KEY_STORE_DIR": str(tmp_path_factory.mktemp("keys"))}


@pytest.fixture(scope="module")
def bucket_evidence(moto_server, tmp_path_factory) -> dict:
    """What every process is given to reach one bucket on moto's server (created here) and the one key store;
    each process adds a staging folder of its own (CONNECT_EVIDENCE_DIR)."""
    import uuid

    import boto3

    if moto_server.process.poll() is not None:  # a test of another module killed it
        moto_server.start()
    bucket = f"scaleout-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", region_name="us-east-1", endpoint_url=moto_server.url, aws_access_key_id="test",
                 aws_secret_access_key="test").create_bucket(Bucket=bucket)
    return {"CONNECT_EVIDENCE_STORAGE": f"s3://{bucket}/clips", "CONNECT_EVIDENCE_S3_ENDPOINT_URL": moto_server.url,
            "CONNECT_EVIDENCE_S3_ACCESS_KEY_ID": "test", "CONNECT_EVIDENCE_S3_SECRET_ACCESS_KEY": "test",
            "CONNECT_EVIDENCE_S3_PATH_STYLE": "true", "CONNECT_KEY_STORE_DIR": str(tmp_path_factory.mktemp("keys"))}


def _base_env(settings, connection) -> dict:
    db = connection.settings_dict
    env = {**os.environ, "CONNECT_MODE": "demo", "CONNECT_CELERY_EAGER": "false",
           "CONNECT_DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
           "CONNECT_REDIS_URL": settings.REDIS_URL, "PYTHONUNBUFFERED": "1"}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # the servers run as they do in production
    return env


def _web_start(machines: Cluster, name: str, **extra_env) -> None:
    port = free_port()
    machines.web[name] = f"http://127.0.0.1:{port}"
    machines.start(f"web-{name}", [sys.executable, "-m", "uvicorn", "connect.asgi:application", "--host",
                                   "127.0.0.1", "--port", str(port), "--no-server-header", "--ws-per-message-deflate",
                                   "false", "--timeout-graceful-shutdown", "3", "--log-level", "warning"],
                   **extra_env)


def _processes_stop(machines: Cluster, django_db_blocker) -> None:
    from django.db import connection

    for process in reversed(list(machines.processes.values())):
        process.stop()
    with django_db_blocker.unblock():
        # What the servers left connected must go, or the test database cannot be dropped at the end.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = current_database() AND pid <> pg_backend_pid()")


@pytest.fixture(scope="module")
def bucket_web_pair(django_db_setup, django_db_blocker, bucket_evidence, tmp_path_factory):
    """Web A and web B (uvicorn) keeping evidence in the bucket of `bucket_evidence`, each with its own staging
    folder. Yields a Cluster whose `web` maps "a" and "b" to their URLs and whose `env` is the bucket's."""
    from django.conf import settings
    from django.db import connection

    folder = tmp_path_factory.mktemp("bucket-machines")
    machines = Cluster(env={**_base_env(settings, connection), **bucket_evidence}, folder=folder)
    try:
        for name in ("a", "b"):
            machines.staging[name] = tmp_path_factory.mktemp(f"staging-{name}")
            _web_start(machines, name, CONNECT_EVIDENCE_DIR=str(machines.staging[name]))
        for name, url in machines.web.items():
            wait_until(lambda url=url: _answers(url), f"web {name} answers", machines)
        yield machines
    finally:
        _processes_stop(machines, django_db_blocker)


@pytest.fixture(scope="module")
def cluster(django_db_setup, django_db_blocker, shared_evidence, tmp_path_factory):
    from django.conf import settings
    from django.db import connection

    from audit.ledger.locks import SEALER_LOCK
    from connect.beat import BEAT_LOCK

    folder = tmp_path_factory.mktemp("machines")
    env = {**_base_env(settings, connection), **shared_evidence, "CONNECT_EMAIL_PORT": str(free_port()),
           # The sweep that finds a dead worker's batch runs every 10 s here instead of every 10 minutes.
           "CONNECT_BEAT_FOOTAGE_REQUESTS_SWEEP": "10"}
    machines = Cluster(env=env, folder=folder, mail_dir=folder / "mail")
    python = sys.executable
    from connect.celery import app as celery_app

    with django_db_blocker.unblock():
        celery_app.control.purge()  # the test broker holds only test work; an earlier run's leftovers go
    try:
        machines.start("mail", [python, "-m", "tests.scaleout.smtp_counter", "--port", env["CONNECT_EMAIL_PORT"],
                                "--dir", str(machines.mail_dir), "--hold-to", HOLD_ADDRESS])
        for name in ("a", "b"):
            _web_start(machines, name)
        for name in ("w1", "w2"):
            machines.start(name, [python, "-m", "celery", "-A", "connect", "worker", "-n", f"{name}@%h",
                                  "--concurrency", "1", "--without-gossip", "--without-mingle", "--loglevel", "INFO"])
        with django_db_blocker.unblock():
            locks_free(BEAT_LOCK, SEALER_LOCK)
            # The first of each pair holds its lock before the second starts: the test knows which one runs.
            machines.start("beat-1", [python, "-m", "celery", "-A", "connect", "beat", "--loglevel", "INFO",
                                      "--schedule", str(folder / "beat-1-schedule")])
            wait_until(lambda: lock_holders(BEAT_LOCK), "beat-1 takes the beat lock", machines)
            machines.start("beat-2", [python, "-m", "celery", "-A", "connect", "beat", "--loglevel", "INFO",
                                      "--schedule", str(folder / "beat-2-schedule")])
            # Each sealer's database sessions carry its name (libpq's PGAPPNAME): lock_holder_names says which holds.
            machines.start("sealer-1", [python, "manage.py", "seal_ledger", "--follow"], PGAPPNAME="sealer-1")
            wait_until(lambda: lock_holders(SEALER_LOCK), "sealer-1 takes the sealer lock", machines)
            machines.start("sealer-2", [python, "manage.py", "seal_ledger", "--follow"], PGAPPNAME="sealer-2")
        for name, url in machines.web.items():
            wait_until(lambda url=url: _answers(url), f"web {name} answers", machines)
        wait_until(lambda: len(celery_app.control.ping(timeout=1)) == 2, "both workers answer", machines)
        yield machines
    finally:
        _processes_stop(machines, django_db_blocker)
        with django_db_blocker.unblock():
            celery_app.control.purge()
