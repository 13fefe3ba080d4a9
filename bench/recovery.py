"""Recovery after a service restart (issue 15): how soon work flows again once PostgreSQL or Redis is back.

    PG_PORT=<free port> REDIS_PORT=<free port> .venv/bin/python bench/recovery.py           # 20 s outages, 3 rounds
    PG_PORT=<free port> REDIS_PORT=<free port> .venv/bin/python bench/recovery.py --quick   # 5 s outages, 1 round

It restarts PostgreSQL and Redis, so it runs servers of its own and restarts only those: a PostgreSQL cluster made
with initdb in a temporary folder, on PG_PORT, and a Redis on REDIS_PORT (no persistence, as scripts/services.sh
runs it), both started here and stopped at the end. It refuses, saying why, when CONNECT_DATABASE_URL or
CONNECT_REDIS_URL names a server, when PG_PORT or REDIS_PORT is not given, or when anything already listens on
either port: each would mean restarting a server it did not start. In its own servers it keeps to
bench/_services.py's rules all the same: the marked database connect_bench, Redis database 2, claimed.

What runs: a real Celery worker as the Procfile runs it (prefork, two processes), started again if it exits (as
systemd or the container runtime does; `worker_restarts` counts it), an SMTP sink (aiosmtpd, in this
process, noting when each message arrives), and connect's services called from this process, as a web process
calls them. No beat: the figures are what the worker does by itself (beat's every-minute sweeps are the backstop).

  pg_first_task_s     PostgreSQL stopped (pg_ctl -m fast) for the outage, a footage request's mail task queued
                      during it (the worker takes it, meets the database down and retries with backoff), and
                      another queued the moment the server is back: from `pg_ctl start` returning to the first of
                      the two mails at the sink. Both are reported too (pg_retried_task_s, pg_fresh_task_s).
  redis_first_mail_s  Redis stopped for the outage, a registration made during it (committed; its confirmation
                      waits in the outbox, the page says "in a few minutes"): from Redis's start to the
                      confirmation mail at the sink (the worker reconnects and sweeps the outbox).
  bare_task_s         the baseline, in the same run with nothing restarted: a registration's confirmation, from
                      the call to the mail at the sink (the best of 3). Ratios are against it.
Targets: pg_first_task_s and redis_first_mail_s under 60 s. RECOVERY_OUTAGE_S sets another outage length.
Progress goes to stderr; the last line of stdout is one JSON object.
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHMARK = "recovery"
REDIS_DB = 2  # this script's own Redis database (bench/_services.py)


def refuse(reason: str) -> None:
    print(json.dumps({"benchmark": BENCHMARK, "error": reason}), flush=True)
    sys.exit(2)


def log(*parts) -> None:
    print(*parts, file=sys.stderr, flush=True)


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def ports_of_its_own() -> tuple[int, int]:
    """PG_PORT and REDIS_PORT, where nothing listens yet: the servers there will be this run's own."""
    named = [name for name in ("CONNECT_DATABASE_URL", "CONNECT_REDIS_URL") if os.environ.get(name, "").strip()]
    if named:
        which = "name servers" if len(named) > 1 else "names a server"
        refuse(f"{' and '.join(named)} {which} this benchmark did not start, and it restarts the servers it "
               "uses: unset them and give PG_PORT and REDIS_PORT, free ports where it starts its own")
    try:
        pg_port, redis_port = int(os.environ["PG_PORT"]), int(os.environ["REDIS_PORT"])
    except (KeyError, ValueError):
        refuse("give PG_PORT and REDIS_PORT: free ports where this benchmark starts the PostgreSQL and Redis it "
               "restarts (it never restarts a server it did not start)")
    for name, port in (("PG_PORT", pg_port), ("REDIS_PORT", redis_port)):
        if _listening(port):
            refuse(f"{name}={port} is taken by a server this benchmark did not start (scripts/services.sh's, or "
                   "another's); it restarts the servers it uses, so it starts its own: stop that one "
                   f"(PG_PORT={pg_port} REDIS_PORT={redis_port} scripts/services.sh stop) or choose free ports")
    return pg_port, redis_port


class OwnPostgres:
    """A PostgreSQL cluster of this run: initdb'd in a temporary folder, started and stopped only here."""

    def __init__(self, port: int, folder: Path):
        self.port, self.data, self.sockets = port, folder / "pg", folder / "pg-run"
        self.bin = sorted(Path("/usr/lib/postgresql").glob("*/bin"))[-1]
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_postgres, *args], check=True, cwd="/", stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)

    def create(self) -> None:
        for folder in (self.data, self.sockets):
            folder.mkdir(parents=True)
            if self.as_postgres:
                shutil.chown(folder, "postgres")
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "connect", "--auth=trust", "-E", "UTF8")
        self.start()
        import psycopg

        with psycopg.connect(f"postgresql://connect@127.0.0.1:{self.port}/template1", autocommit=True) as conn:
            conn.execute("SET client_min_messages = warning")
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")  # every database made later is spatial

    def start(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.data / "server.log"), "-w",
                  "-o", f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1", "start")

    def stop(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")


class OwnRedis:
    """A Redis of this run, no persistence (as scripts/services.sh runs it): what a restart loses, it loses."""

    def __init__(self, port: int, folder: Path):
        self.port, self.folder, self.process = port, folder, None

    def start(self) -> None:
        self.process = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--dir",
                                         str(self.folder), "--save", "", "--appendonly", "no"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not _listening(self.port):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("the benchmark's Redis did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


class Sink:
    """An SMTP sink noting when each message arrived and to whom."""

    def __init__(self):
        from aiosmtpd.controller import Controller

        sink = self
        self.arrivals: list[tuple[float, list[str]]] = []

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                sink.arrivals.append((time.monotonic(), list(envelope.rcpt_tos)))
                return "250 Message accepted for delivery"

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=port)
        self.controller.start()
        self.port = port

    def arrived(self, address: str) -> float | None:
        return next((at for at, to in self.arrivals if address in to), None)

    def wait(self, address: str, timeout: float = 150) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            at = self.arrived(address)
            if at is not None:
                return at
            time.sleep(0.02)
        raise TimeoutError(f"no mail to {address} within {timeout:.0f} s")


class SupervisedWorker:
    """The Procfile's worker (prefork, two processes), started again whenever it exits, as systemd's
    Restart=always or the container runtime does in production. Needed: Celery 5.7 / kombu 5.7's worker can die
    when Redis goes away while it holds an unacknowledged message ("Unrecoverable error: AttributeError:
    'NoneType' object has no attribute 'hostname'", in kombu's restore_unacked); `restarts` counts such exits."""

    def __init__(self, env: dict, sink_port: int, log_path: Path):
        import threading

        self.command = [sys.executable, "-m", "celery", "-A", "connect", "worker", "--concurrency", "2",
                        "--without-gossip", "--without-mingle", "--loglevel", "INFO"]
        self.env = {**os.environ, **env, "CONNECT_CELERY_EAGER": "false", "CONNECT_EMAIL_HOST": "127.0.0.1",
                    "CONNECT_EMAIL_PORT": str(sink_port)}
        self.log_path, self.restarts, self.stopping = log_path, 0, False
        self.process = self._start()
        self.watcher = threading.Thread(target=self._watch, daemon=True)
        self.watcher.start()

    def _start(self) -> subprocess.Popen:
        return subprocess.Popen(self.command, cwd=ROOT, env=self.env, stdout=self.log_path.open("ab"),
                                stderr=subprocess.STDOUT)

    def _watch(self) -> None:
        while not self.stopping:
            code = self.process.wait()
            if self.stopping:
                return
            self.restarts += 1
            log(f"  the worker exited ({code}); started again")
            time.sleep(1)
            self.process = self._start()

    def stop(self, *, kill: bool = False) -> None:
        self.stopping = True
        if kill:
            self.process.kill()
        else:
            self.process.terminate()
        self.process.wait(timeout=60)


def _register(n: int, tag: str) -> str:
    from registry import services

    email = f"{tag}-{n}@example.org"
    services.owner_register(kind="resident", name=f"Owner {n}", email=email, phone="", address="1 Main St",
                            cameras=[])
    return email


def _queued_request(incident, n: int):
    """A footage request row, queued but not yet handed to a worker (its task is queued by hand here)."""
    import secrets

    from django.utils import timezone

    from registry.models import Camera, Owner
    from requests_app.models import FootageRequest

    owner = Owner.objects.create(kind="resident", name=f"Camera owner {n}", email=f"pg-{n}@example.org",
                                 terms_version="bench", confirmed_at=timezone.now())
    camera = Camera.objects.create(owner=owner, label=f"Camera {n}", location=incident.location, address="1 Main St",
                                   placement=Camera.Placement.OUTDOOR, faces_public=True, direction_deg=90,
                                   field_of_view_deg=90, range_m=30, status=Camera.Status.ACTIVE)
    return FootageRequest.objects.create(incident=incident, camera=camera, camera_label=camera.label,
                                         nonce=secrets.token_urlsafe(24))


def _incident():
    from datetime import timedelta

    from django.contrib.auth.models import User
    from django.contrib.gis.geos import Point
    from django.utils import timezone

    from requests_app.models import Incident

    user, _ = User.objects.get_or_create(username="bench-recovery", defaults={"is_staff": True})
    now = timezone.now()
    return Incident.objects.create(case_number=f"26-{int(time.time() * 1000) % 10**6:06d}", offense_type="Burglary",
                                   location=Point(-78.6382, 35.7796, srid=4326), starts_at=now - timedelta(hours=2),
                                   ends_at=now - timedelta(hours=1),
                                   owner_summary="bench", created_by=user)


def _close_connections() -> None:
    from django.db import connections

    for conn in connections.all(initialized_only=True):
        conn.close()


def wait_for_worker(sink: Sink, tag: str) -> None:
    """A registration mailed end to end: the worker is up (its first task also warms it)."""
    sink.wait(_register(0, tag), timeout=300)


def bare_round(sink: Sink, n: int) -> float:
    started = time.monotonic()
    return sink.wait(_register(n, "bare")) - started


def postgres_round(pg: OwnPostgres, sink: Sink, outage_s: float, n: int) -> dict:
    from requests_app.tasks import footage_requests_mail_task

    incident = _incident()
    during, after = _queued_request(incident, 2 * n), _queued_request(incident, 2 * n + 1)
    _close_connections()
    pg.stop()
    log(f"  PostgreSQL stopped; a task queued during the outage, {outage_s:.0f} s")
    footage_requests_mail_task.apply_async(kwargs={"request_ids": [during.pk]})
    time.sleep(outage_s)
    pg.start()
    back = time.monotonic()
    footage_requests_mail_task.apply_async(kwargs={"request_ids": [after.pk]})
    retried = sink.wait(during.camera.owner.email) - back
    fresh = sink.wait(after.camera.owner.email) - back
    log(f"  PostgreSQL back: the retried task's mail after {retried:.2f} s, the fresh one's after {fresh:.2f} s")
    return {"retried": retried, "fresh": fresh, "first": min(retried, fresh)}


def redis_round(redis_server: OwnRedis, sink: Sink, outage_s: float, n: int) -> float:
    from common.models import OutboxMessage

    redis_server.stop()
    log(f"  Redis stopped; a registration during the outage, {outage_s:.0f} s")
    email = _register(n, "outage")
    waiting = OutboxMessage.objects.filter(dispatched_at__isnull=True).count()
    if not waiting:
        raise RuntimeError("the registration's confirmation was queued although Redis was down")
    time.sleep(outage_s)
    redis_server.start()
    back = time.monotonic()
    mailed = sink.wait(email) - back
    log(f"  Redis back: the confirmation mailed after {mailed:.2f} s")
    return mailed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 s outages, one round of each")
    args = parser.parse_args()
    outage_s, rounds = (5.0, 1) if args.quick else (20.0, 3)
    outage_s = float(os.environ.get("RECOVERY_OUTAGE_S", outage_s))
    pg_port, redis_port = ports_of_its_own()
    folder = Path(tempfile.mkdtemp(prefix="connect-bench-recovery-"))
    folder.chmod(0o755)  # the postgres user enters it
    pg, redis_server = OwnPostgres(pg_port, folder), OwnRedis(redis_port, folder)
    worker = sink = None
    results: dict = {}
    try:
        log(f"bench/recovery.py: its own PostgreSQL on {pg_port} and Redis on {redis_port}, in {folder}")
        pg.create()
        redis_server.start()
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import _data
        import _services

        _services.database_recreate(_data.PG, _data.DB_NAME, BENCHMARK)
        redis_url = f"{_data.REDIS}/{REDIS_DB}"
        with _services.redis_database(redis_url, BENCHMARK):
            _data.setup_django(REDIS_DB)
            sink = Sink()
            worker = SupervisedWorker(_data.bench_env(REDIS_DB), sink.port, folder / "worker.log")
            wait_for_worker(sink, "warm")
            bare = min(bare_round(sink, n) for n in range(1, 4))
            log(f"bare: a registration's confirmation mailed in {bare:.3f} s")
            pg_rounds, redis_rounds = [], []
            for n in range(rounds):
                log(f"round {n + 1} of {rounds}")
                pg_rounds.append(postgres_round(pg, sink, outage_s, n))
                redis_rounds.append(redis_round(redis_server, sink, outage_s, n))
            pg_first = max(r["first"] for r in pg_rounds)
            redis_first = max(redis_rounds)
            results = {
                "quick": args.quick, "outage_s": outage_s, "rounds": rounds,
                "bare_task_s": round(bare, 3),
                "pg_first_task_s": round(pg_first, 2),
                "pg_retried_task_s": [round(r["retried"], 2) for r in pg_rounds],
                "pg_fresh_task_s": [round(r["fresh"], 2) for r in pg_rounds],
                "redis_first_mail_s": round(redis_first, 2),
                "redis_first_mail_each_s": [round(value, 2) for value in redis_rounds],
                "ratio_pg_vs_bare": round(pg_first / bare, 1),
                "ratio_redis_vs_bare": round(redis_first / bare, 1),
                "worker_restarts": worker.restarts,
                "target_s": 60, "met": pg_first < 60 and redis_first < 60,
            }
            worker.stop()
            worker = None
    except Exception:
        log_file = folder / "worker.log"
        if log_file.exists():  # what the worker said is the first thing to read: kept, with the run's folder gone
            kept = Path(tempfile.gettempdir()) / f"connect-bench-recovery-worker-{os.getpid()}.log"
            shutil.copy(log_file, kept)
            log(f"the worker's log is kept in {kept}")
        raise
    finally:
        if worker is not None:
            worker.stop(kill=True)
        if sink is not None:
            sink.controller.stop()
        _close_connections_quietly()
        redis_server.stop()
        try:
            pg.stop()
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps({"benchmark": BENCHMARK, **results}))


def _close_connections_quietly() -> None:
    try:
        _close_connections()
    except Exception:  # Django may not be set up yet, or the server is gone already
        pass


if __name__ == "__main__":
    main()
