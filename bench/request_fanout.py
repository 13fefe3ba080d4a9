"""Footage-request fan-out: one incident's requests mailed to 1,000 owners through a real Celery worker.

    .venv/bin/python bench/request_fanout.py          # 1,000 owners (about a minute)
    .venv/bin/python bench/request_fanout.py --quick  # 200 owners (well under a minute)

Data: 1,000 owners, each with one active outdoor camera within 700 m of downtown Raleigh (every incident is
there, with the largest radius allowed, 800 m: requests go only to cameras inside it), in this script's own
database `connect_bench_requests` (never `connect`), which every run drops, creates from template1 (PostGIS)
and migrates afresh, so it always has the current code's schema.

What runs: a local SMTP sink (`python -m connect.mailsink`, aiosmtpd, one .eml file per message, counted by
listing its folder) and a real Celery worker as the Procfile runs it, but with the pool spelled out
(`celery -A connect worker --pool prefork --concurrency 2 -Q <queue> --without-gossip --without-mingle
--without-heartbeat --loglevel INFO`). The broker is REDIS_PORT's Redis (database 7), on a queue named for this
run (`bench-fanout-<pid>-<random>`), to which this process routes its tasks: no other worker takes them, and
nothing else is touched. Nothing is flushed; at the end the run deletes the Redis keys that carry its queue's
name (the queue, its bindings) and kombu's shared `_kombu.binding_deadlines` if it was not there before the
run, and only those. A warm-up incident of 20 requests goes through first (worker children import, connect,
load templates).

  connect  from calling requests_app.services.footage_requests_send(incident=, camera_codes=<all N>, user=)
           (which creates the N requests and, after commit, queues one footage_requests_mail_task per batch of
           requests_app.tasks.MAIL_BATCH_SIZE) until the sink holds N new messages AND all N requests are SENT
           in the database (each batch: one SMTP connection, its ledger entries written together)
  bare     the same N messages, built and sent by a plain loop in this process to the same sink. Its input is
           what connect sent, read back from the sink and decoded before the clock starts: sender, recipient,
           subject, text and HTML of each message. Timed: building each message with Python's email package
           (bare_build: compat32's MIMEMultipart("alternative") with two MIMEText parts in UTF-8, Subject, From,
           To, a fresh Date and Message-ID; the quickest of the email package's ways, about 4x quicker than
           EmailMessage with policy.SMTP) and smtplib's sendmail:
             bare_single_connection  one connection for all N messages -- the headline baseline, the best
                                     bare loop that builds its messages (the quickest of 3 runs)
             bare_per_connection     the same, with connect, EHLO, MAIL, RCPT, DATA, QUIT per message (what
                                     connect did before it batched)
             bare_prebuilt_single_connection  diagnostic: connect's own bytes sent again over one connection,
                                     nothing built (a lower bound no mailer reaches: `ratio_vs_prebuilt`;
                                     the quickest of 3 runs)
The worker is stopped before the bare loops, so they have the machine to themselves as connect had.

Diagnostics, not targets: the worker's service (requests_app.mailing.footage_requests_mail) run in this
process, serially, on 200 requests (quick: 50) in batches of MAIL_BATCH_SIZE: its cost per request, SQL
statements per request, and a cProfile breakdown of where the time goes (claim, signing the link, template
rendering, building the MIME message, the SMTP conversation, all SQL (which holds the note of each accepted
message), the batch's state change with its ledger write). The worker's own "succeeded in" times of its batch
tasks are parsed from its log (`worker_log.task_runtime`).
Ratio target: connect / bare_single_connection <= 2. Beside it, `cpu_ratio`: the worker's CPU per message (the
prefork parent and its children, from /proc) against the bare loop's (time.process_time), neither counting the
sink: a steadier figure when the machine is shared, since wall time counts the waits for a core.

Experiments (not the standard run): `--db-reuse-max N` runs the worker on connect's settings but with
CELERY_DB_REUSE_MAX = N (a settings module written to the temporary folder; 0 unsets it, which is Celery's
default and connect's before 2990956); `--worker-args '...'` appends options to the worker's command line
(e.g. `--worker-args=--pool=threads`).

Progress goes to stderr; the last line of stdout is one JSON object with every figure.
"""

import argparse
import cProfile
import email
import email.policy
import email.utils
import json
import os
import pstats
import random
import re
import secrets
import signal
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _data  # noqa: E402
import _services  # noqa: E402
from _runs import code_commit, free_port, pressure_share, pressure_totals, single_run_guard  # noqa: E402

DB_NAME = "connect_bench_requests"  # this script's own; never `connect`
DATABASE_URL = f"{_data.PG}/{DB_NAME}"
# REDIS_PORT's Redis (scripts/services.sh); this run's own queue in it, so no other worker consumes its tasks
REDIS_URL = f"{_data.REDIS}/7"
QUEUE = f"bench-fanout-{os.getpid()}-{secrets.token_hex(4)}"
OWNERS = 1000
EMAIL_DOMAIN = "fanout.bench.invalid"
WARMUP = 20
BARE_REPEATS = 3  # each one-connection bare loop runs this often; the quickest run is the baseline
USERNAME = "bench-investigator"
ROOT = _data.ROOT
log = _data.log


def bench_env(smtp_port: int) -> dict[str, str]:
    return {"CONNECT_MODE": "demo", "CONNECT_DATABASE_URL": DATABASE_URL, "CONNECT_REDIS_URL": REDIS_URL,
            "CONNECT_EMAIL_HOST": "127.0.0.1", "CONNECT_EMAIL_PORT": str(smtp_port),
            "DJANGO_SETTINGS_MODULE": "connect.settings"}


def setup_django(smtp_port: int) -> None:

    # A new database every run (about 2 s with the migrations): it always has the schema of the code under
    # test, even when a migration was edited in place, and no rows from earlier runs. It is this script's alone.
    log(f"creating database {DB_NAME} afresh")
    _services.database_recreate(_data.PG, DB_NAME, "request_fanout")  # only a database a benchmark made is dropped
    os.environ.update(bench_env(smtp_port))
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def route_to_own_queue() -> None:
    """Tasks this process queues go to QUEUE (the worker consumes only it); a retry goes back to it."""
    from connect.celery import app

    app.conf.task_default_queue = QUEUE


# kombu's own bookkeeping, shared by every client of the Redis database: deleted at the end only if this run
# made it (it was not there before), since another client's worker may rely on it otherwise.
KOMBU_SHARED_KEYS = ("_kombu.binding_deadlines",)


def redis_client():
    import redis

    return redis.Redis.from_url(REDIS_URL)


def shared_keys_absent() -> list[str]:
    client = redis_client()
    return [key for key in KOMBU_SHARED_KEYS if not client.exists(key)]


def delete_own_keys(made: list[str]) -> int:
    """Deletes the Redis keys that carry QUEUE's name (the queue, kombu's bindings of it) and the shared ones
    this run made: what the run created. Every other key is left alone; nothing is flushed."""
    client = redis_client()
    keys = [*client.scan_iter(match=f"*{QUEUE}*", count=1000), *made]
    return client.delete(*keys) if keys else 0


# Downtown Raleigh. footage_requests_send mails only cameras within the incident's radius, so every camera
# stands within CAMERA_SPREAD_M of the incident, whose radius is the largest allowed (800 m by default).
CENTRE = (-78.6382, 35.7796)
CAMERA_SPREAD_M = 700


def near_centre(rng: random.Random) -> tuple[float, float]:
    """A point drawn uniformly from the disc of CAMERA_SPREAD_M around CENTRE (lon, lat)."""
    import math

    distance, bearing = CAMERA_SPREAD_M * math.sqrt(rng.random()), rng.random() * 2 * math.pi
    lon, lat = CENTRE
    return (lon + distance * math.sin(bearing) / (111_320 * math.cos(math.radians(lat))),
            lat + distance * math.cos(bearing) / 111_320)


def ensure_owners(n: int) -> list[str]:
    """n owners, each with one active outdoor camera; made once, reused. Returns the camera codes."""
    from django.contrib.gis.geos import Point
    from django.utils import timezone

    from registry.models import Camera, Owner

    have = Owner.objects.filter(email__endswith="@" + EMAIL_DOMAIN).count()
    if have < n:
        log(f"fanout: creating {n - have} owners and cameras")
        rng = random.Random(7)
        now = timezone.now()
        owners = Owner.objects.bulk_create([
            Owner(kind=Owner.Kind.RESIDENT, name=f"Fanout Owner {i}", email=f"owner{i:04d}@{EMAIL_DOMAIN}",
                  phone=f"919-555-{i:04d}", address=f"{100 + i} Bench Street, Raleigh, NC", terms_version="2026-1",
                  terms_accepted_at=now, confirmed_at=now)
            for i in range(have, n)])
        Camera.objects.bulk_create([
            Camera(owner=owner, label=f"Porch {owner.email.split('@')[0]}",
                   location=Point(*near_centre(rng), srid=4326),
                   address=owner.address, placement=Camera.Placement.OUTDOOR, faces_public=True, direction_deg=90,
                   field_of_view_deg=90, range_m=30, status=Camera.Status.ACTIVE, verified=True)
            for owner in owners])
    return [str(code) for code in Camera.objects.filter(owner__email__endswith="@" + EMAIL_DOMAIN,
                                                        status=Camera.Status.ACTIVE)
            .order_by("owner__email").values_list("code", flat=True)[:n]]


def investigator():
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(username=USERNAME, defaults={"is_staff": True})
    return user


def new_incident(label: str):
    from datetime import timedelta

    from django.conf import settings
    from django.contrib.gis.geos import Point
    from django.utils import timezone

    from requests_app.models import Incident

    while True:
        case = f"26-{secrets.randbelow(1_000_000):06d}"
        if not Incident.objects.filter(case_number=case).exists():
            break
    now = timezone.now()
    return Incident.objects.create(
        case_number=case, offense_type=settings.OFFENSE_TYPES[0], location=Point(*CENTRE, srid=4326),
        address="200 Fayetteville St", starts_at=now - timedelta(hours=5), ends_at=now - timedelta(hours=3),
        radius_m=settings.INCIDENT_MAX_RADIUS_M,
        owner_summary=f"A car was broken into on this block on Tuesday evening ({label}).",
        internal_notes="bench")


def mail_count(folder: Path) -> int:
    with os.scandir(folder) as entries:
        return sum(1 for entry in entries if entry.name.endswith(".eml") and not entry.name.startswith("."))


def mail_files(folder: Path) -> set[str]:
    with os.scandir(folder) as entries:
        return {entry.name for entry in entries if entry.name.endswith(".eml") and not entry.name.startswith(".")}


def sent_count(incident) -> int:
    return incident.requests.filter(state="sent").count()


def wait_delivered(incident, n: int, folder: Path, mail_before: int, started: float, timeout_s: float,
                   worker: subprocess.Popen) -> tuple[float | None, float | None]:
    """(seconds until the sink held n new messages, seconds until all n requests were SENT), from `started`."""
    mail_at = sent_at = None
    last_db_check = 0.0
    deadline = time.perf_counter() + timeout_s
    while time.perf_counter() < deadline:
        now = time.perf_counter()
        if mail_at is None and mail_count(folder) - mail_before >= n:
            mail_at = now - started
        # The database is polled rarely until the mail is in, so polling costs the worker nothing.
        if sent_at is None and (mail_at is not None or now - last_db_check > 0.25):
            last_db_check = now
            if sent_count(incident) >= n:
                sent_at = time.perf_counter() - started
        if mail_at is not None and sent_at is not None:
            break
        if worker.poll() is not None:
            raise RuntimeError(f"the worker exited with {worker.returncode}")
        # Every 20 ms: listing a folder of a thousand files every 5 ms took a tenth of a core from the run it timed
        # (the bare loops are timed without it); 20 ms is 0.2 % of a ten-second run.
        time.sleep(0.02)
    return mail_at, sent_at


def start_sink(port: int, folder: Path, log_file) -> subprocess.Popen:
    command = [sys.executable, "-m", "connect.mailsink", "--host", "127.0.0.1", "--port", str(port),
               "--dir", str(folder)]
    sink = subprocess.Popen(command, cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if sink.poll() is not None:
            raise RuntimeError(f"the mail sink exited with {sink.returncode}")
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=2) as probe:
                probe.noop()
            return sink
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the mail sink did not start")


WORKER_ARGS = ["-A", "connect", "worker", "--pool", "prefork", "--concurrency", "2", "-Q", QUEUE,
               "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel", "INFO"]


def start_worker(smtp_port: int, log_path: Path, worker_args: list[str], db_reuse_max: int | None) -> subprocess.Popen:
    env = {**os.environ, **bench_env(smtp_port)}
    if db_reuse_max is not None:
        # Experiment: connect's settings but CELERY_DB_REUSE_MAX, from a module in our temporary folder.
        (log_path.parent / "bench_worker_settings.py").write_text(
            f"from connect.settings import *  # noqa\nCELERY_DB_REUSE_MAX = {db_reuse_max or None}\n")
        env["PYTHONPATH"] = os.pathsep.join([str(log_path.parent), str(ROOT)])
        env["DJANGO_SETTINGS_MODULE"] = "bench_worker_settings"
    command = [str(ROOT / ".venv" / "bin" / "celery"), *worker_args, "--hostname", f"bench-fanout-{os.getpid()}@%h"]
    worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=open(log_path, "wb"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if worker.poll() is not None:
            raise RuntimeError(f"the worker exited with {worker.returncode}: {log_path.read_text()[-2000:]}")
        if b" ready." in log_path.read_bytes():
            return worker
        time.sleep(0.1)
    raise RuntimeError("the worker did not become ready")


def stop(process: subprocess.Popen, sig=signal.SIGTERM, timeout_s: float = 30) -> None:
    if process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def process_tree_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and its living children (the worker's pool): less
    sensitive to a busy machine than wall time, which counts the time spent waiting for a core."""
    total, ticks = 0.0, os.sysconf("SC_CLK_TCK")
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        pids += [int(child) for child in (task / "children").read_text().split()]
    for each in pids:
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rpartition(")")[2].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def run_connect(codes: list[str], folder: Path, worker: subprocess.Popen, label: str, timeout_s: float) -> dict:
    from django.db.models import Count, Max, Min

    from requests_app import services

    incident = new_incident(label)
    user = investigator()
    before = mail_count(folder)
    files_before = mail_files(folder)
    cpu_before = process_tree_cpu_s(worker.pid)
    started = time.perf_counter()
    services.footage_requests_send(incident=incident, camera_codes=codes, user=user)
    call_s = time.perf_counter() - started
    created = incident.requests.count()
    if created != len(codes):
        raise RuntimeError(f"footage_requests_send made {created} requests for {len(codes)} cameras")
    mail_s, sent_s = wait_delivered(incident, len(codes), folder, before, started, timeout_s, worker)
    worker_cpu_s = process_tree_cpu_s(worker.pid) - cpu_before
    counts = dict(incident.requests.values_list("state").annotate(n=Count("id")).values_list("state", "n"))
    stats = incident.requests.aggregate(last_sent=Max("sent_at"), first_sent=Min("sent_at"),
                                        max_attempts=Max("attempts"))
    result = {
        "requests": len(codes),
        "footage_requests_send_call_s": round(call_s, 3),
        "mail_arrived_s": round(mail_s, 3) if mail_s is not None else None,
        "all_sent_s": round(sent_s, 3) if sent_s is not None else None,
        "states": counts,
        "max_attempts": stats["max_attempts"],
        "worker_cpu_ms_per_message": round(worker_cpu_s / len(codes) * 1000, 3),
    }
    if stats["first_sent"] and stats["last_sent"]:
        result["first_to_last_sent_s"] = round((stats["last_sent"] - stats["first_sent"]).total_seconds(), 3)
    done = [s for s in (mail_s, sent_s) if s is not None]
    if len(done) == 2:
        seconds = max(done)
        result.update(seconds=round(seconds, 3), msgs_per_s=round(len(codes) / seconds, 1))
    new_files = sorted(mail_files(folder) - files_before)
    return {"result": result, "incident": incident, "files": new_files}


def load_messages(folder: Path, names: list[str]) -> list[dict]:
    """What connect sent, as the sink stored it: the envelope, the bytes, and the content a bare loop starts from
    (sender and recipient headers, subject, text and HTML, decoded)."""
    messages = []
    for name in names:
        data = (folder / name).read_bytes()
        parsed = email.message_from_bytes(data, policy=email.policy.default)
        messages.append({
            "sender": email.utils.parseaddr(str(parsed["From"]))[1],
            "recipients": [email.utils.parseaddr(str(parsed["To"]))[1]],
            "data": data, "from": str(parsed["From"]), "to": str(parsed["To"]), "subject": str(parsed["Subject"]),
            # as the templates gave them: one "\n" per line (a quoted-printable body decodes to CRLF lines)
            "text": parsed.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n"),
            "html": parsed.get_body(preferencelist=("html",)).get_content().replace("\r\n", "\n")})
    return messages


SMTP_COMPAT32 = email.policy.compat32.clone(linesep="\r\n")


def bare_build(message: dict, domain: str) -> bytes:
    """One message built with Python's email package, the quickest way it offers (compat32's email.mime classes,
    about 4x quicker here than EmailMessage with policy.SMTP): multipart/alternative, the text and HTML parts
    in UTF-8 (base64, the email package's default for UTF-8), Subject (RFC 2047 if not ASCII), From, To, a
    fresh Date and Message-ID (the host name looked up once, not per message)."""
    mime = MIMEMultipart("alternative")
    subject = message["subject"]
    mime["Subject"] = subject if subject.isascii() else Header(subject, "utf-8")
    mime["From"], mime["To"] = message["from"], message["to"]
    mime["Date"] = email.utils.formatdate()
    mime["Message-ID"] = email.utils.make_msgid(domain=domain)
    mime.attach(MIMEText(message["text"], "plain", "utf-8"))
    mime.attach(MIMEText(message["html"], "html", "utf-8"))
    return mime.as_bytes(policy=SMTP_COMPAT32)  # CRLF lines: smtplib sends bytes as they are


def bare_per_connection(port: int, messages) -> float:
    """Builds each message (bare_build) and sends it on a connection of its own."""
    domain = socket.getfqdn()
    started = time.perf_counter()
    for message in messages:
        data = bare_build(message, domain)
        smtp = smtplib.SMTP("127.0.0.1", port, timeout=10)
        smtp.sendmail(message["sender"], message["recipients"], data)
        smtp.quit()
    return time.perf_counter() - started


def bare_single_connection(port: int, messages, cpu: list | None = None) -> float:
    """The headline baseline: builds each message (bare_build) and sends it, all over one connection. Appends the
    loop's CPU seconds to `cpu`."""
    domain = socket.getfqdn()
    started, cpu_started = time.perf_counter(), time.process_time()
    smtp = smtplib.SMTP("127.0.0.1", port, timeout=10)
    for message in messages:
        smtp.sendmail(message["sender"], message["recipients"], bare_build(message, domain))
    smtp.quit()
    if cpu is not None:
        cpu.append(time.process_time() - cpu_started)
    return time.perf_counter() - started


def bare_prebuilt_single_connection(port: int, messages) -> float:
    """Diagnostic: the bytes connect sent, sent again over one connection, nothing built (a lower bound)."""
    started = time.perf_counter()
    smtp = smtplib.SMTP("127.0.0.1", port, timeout=10)
    for message in messages:
        smtp.sendmail(message["sender"], message["recipients"], message["data"])
    smtp.quit()
    return time.perf_counter() - started


# What the cProfile breakdown reports: (label, file suffix, function name). Cumulative times, so they nest:
# `mail_per_owner` (filling in one owner's slots and building the bytes) holds `render_once_per_batch` (the
# templates, once per incident in a batch), `render_per_message_fallback` (0 unless the templates use a slot in
# a way the batch cannot reproduce) and `mime_build`; `email_send` holds `smtp_mail_rcpt_data`; the rest are
# disjoint parts of footage_requests_mail.
PROFILE_PARTS = [
    ("service_total", "requests_app/mailing.py", "footage_requests_mail"),
    ("claim_update_and_select", "requests_app/mailing.py", "_claim"),
    ("consent_link_signing", "requests_app/services.py", "consent_link"),
    ("mail_per_owner", "common/mail_batch.py", "mail"),
    ("render_once_per_batch", "common/mail_batch.py", "_compile"),
    ("render_per_message_fallback", "common/mail.py", "render_templated"),
    ("mime_build", "common/mime.py", "alternative"),
    ("email_send", "common/mail.py", "send"),
    ("smtp_connect_ehlo", "django/core/mail/backends/smtp.py", "open"),
    ("smtp_mail_rcpt_data", "smtplib.py", "sendmail"),
    ("smtp_quit", "django/core/mail/backends/smtp.py", "close"),
    ("batch_state_and_ledger", "requests_app/mailing.py", "_accepted_record"),
    ("ledger_record_many", "audit/ledger/writing.py", "record_many"),
    ("sql_execute", "django/db/backends/utils.py", "execute"),
]


def profile_service(codes: list[str], folder: Path) -> dict:
    """mailing.footage_requests_mail in this process, serially, in the worker's batches: cost per request and
    where it goes."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from registry.models import Camera
    from requests_app import mailing
    from requests_app.models import FootageRequest
    from requests_app.tasks import MAIL_BATCH_SIZE

    def make_batches(label: str) -> list[list[int]]:
        incident = new_incident(label)
        cameras = Camera.objects.filter(code__in=codes)
        created = FootageRequest.objects.bulk_create([
            FootageRequest(incident=incident, camera=camera, camera_label=camera.label,
                           nonce=secrets.token_urlsafe(24)) for camera in cameras])
        ids = sorted(request.pk for request in created)
        return [ids[start:start + MAIL_BATCH_SIZE] for start in range(0, len(ids), MAIL_BATCH_SIZE)]

    before = mail_count(folder)
    warm = make_batches("profile, warm-up")  # imports, templates, the pool's connection
    mailing.footage_requests_mail(request_ids=warm[0][:5])
    batches = make_batches("profile, timed")
    requests = sum(len(batch) for batch in batches)
    per_batch = []
    with CaptureQueriesContext(connection) as queries:
        for batch in batches:
            started = time.perf_counter()
            run = mailing.footage_requests_mail(request_ids=batch)
            per_batch.append(time.perf_counter() - started)
            if run.sent != len(batch):
                raise RuntimeError(f"the profiled batch sent {run.sent} of {len(batch)}: {run.summary()}")

    profiled = make_batches("profile, cProfile")
    profiler = cProfile.Profile()
    profiler.enable()
    for batch in profiled:
        mailing.footage_requests_mail(request_ids=batch)
    profiler.disable()
    delivered = mail_count(folder) - before
    stats = pstats.Stats(profiler).stats
    profiled_n = sum(len(batch) for batch in profiled)
    parts = {}
    for label, suffix, function in PROFILE_PARTS:
        cumulative = sum(entry[3] for (filename, _line, name), entry in stats.items()
                         if name == function and filename.endswith(suffix))
        parts[label] = round(cumulative / profiled_n * 1000, 3)
    total = parts["service_total"]
    sql_statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    return {
        "requests": requests,
        "batch_size": MAIL_BATCH_SIZE,
        "per_request_ms": round(sum(per_batch) / requests * 1000, 3),
        "serial_requests_per_s": round(requests / sum(per_batch), 1),
        "sql_queries_per_request": round(len(queries.captured_queries) / requests, 2),
        "sql_statement_kinds_per_request": {kind: round(sql_statements.count(kind) / requests, 2)
                                            for kind in set(sql_statements)},
        "cprofile_ms_per_request": parts,
        "cprofile_share_of_service": {k: round(v / total, 3) for k, v in parts.items() if k != "service_total"},
        "delivered": delivered,
        "expected_delivered": 5 + requests + profiled_n,
    }


def worker_log_summary(path: Path, skip: int) -> dict:
    """What the worker logged; `task_runtime` is its own "succeeded in" time of each timed task (after the
    first `skip`, the warm-up), i.e. the task body in the pool child, without broker and dispatch."""
    text = path.read_text(errors="replace")
    runtimes = [float(m) for m in re.findall(r"succeeded in ([0-9.]+)s", text)][skip:]
    return {"tasks_succeeded": text.count("succeeded in"), "retry_lines": text.count("Retry in"),
            "error_lines": text.count(" ERROR/"), "warning_lines": text.count(" WARNING/"),
            "task_runtime": _data.percentiles(runtimes) if len(runtimes) > 1 else None,
            "task_runtime_sum_s": round(sum(runtimes), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 owners instead of 1,000")
    parser.add_argument("--owners", type=int, help="owners (requests) in the timed fan-out")
    parser.add_argument("--db-reuse-max", type=int, help="experiment: run the worker with CELERY_DB_REUSE_MAX set to "
                                                        "this (0: unset, Celery's default of closing the database "
                                                        "pool around every task)")
    parser.add_argument("--worker-args", help="experiment: extra arguments appended to the worker's command line, "
                                              "e.g. '--pool solo' or '-O fair' (later options win)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the worker and the sink are stopped
    guard = single_run_guard("request_fanout")  # noqa: F841 -- held until the process exits
    commit = code_commit()
    stalls, started_all = pressure_totals(), time.perf_counter()
    n = args.owners or (200 if args.quick else OWNERS)
    profile_n = 50 if args.quick else 200

    smtp_port = free_port()
    setup_django(smtp_port)
    route_to_own_queue()
    made_keys = shared_keys_absent()
    codes = ensure_owners(max(n, WARMUP, profile_n))
    timed_codes = codes[:n]
    worker_args = WORKER_ARGS + (args.worker_args.split() if args.worker_args else [])

    from django.conf import settings

    from requests_app.tasks import MAIL_BATCH_SIZE

    workdir = Path(tempfile.mkdtemp(prefix="connect-bench-fanout-"))
    folder = workdir / "mail"
    worker_log = workdir / "worker.log"
    sink = worker = None
    with open(workdir / "sink.log", "wb") as sink_log:
        try:
            sink = start_sink(smtp_port, folder, sink_log)
            log(f"fanout: sink on {smtp_port}, starting the worker ({settings.CELERY_BROKER_URL})")
            worker = start_worker(smtp_port, worker_log, worker_args, args.db_reuse_max)
            warm = run_connect(codes[:WARMUP], folder, worker, "warm-up", 120)["result"]
            if "seconds" not in warm:
                raise RuntimeError(f"the warm-up did not finish: {warm}\n{worker_log.read_text()[-3000:]}")
            log(f"fanout: warm-up of {WARMUP} requests took {warm.get('seconds')} s")
            log(f"fanout: {n} requests through the worker ...")
            connect_stalls = pressure_totals()
            connect_run = run_connect(timed_codes, folder, worker, "timed", 600)
            connect_run["result"]["pressure_stall_share"] = pressure_share(
                connect_stalls, connect_run["result"].get("seconds") or 1)
            connect = connect_run["result"]
            log(f"fanout: connect {connect.get('seconds')} s ({connect.get('msgs_per_s')} msg/s); "
                f"footage_requests_send returned after {connect['footage_requests_send_call_s']} s")
            stop(worker)
            worker_summary = worker_log_summary(worker_log, -(-WARMUP // MAIL_BATCH_SIZE))

            messages = load_messages(folder, connect_run["files"])
            sizes = [len(message["data"]) for message in messages]
            before = mail_count(folder)
            # The best of BARE_REPEATS runs of each one-connection loop: on a shared machine one run can be slowed
            # by a neighbour, and the baseline should be the loop at its best.
            single_cpu: list[float] = []
            single_runs = [bare_single_connection(smtp_port, messages, single_cpu) for _ in range(BARE_REPEATS)]
            per_connection_s = bare_per_connection(smtp_port, messages)
            prebuilt_runs = [bare_prebuilt_single_connection(smtp_port, messages) for _ in range(BARE_REPEATS)]
            single_s, prebuilt_s = min(single_runs), min(prebuilt_runs)
            bare_delivered = mail_count(folder) - before
            log(f"fanout: bare per connection {per_connection_s:.3f} s, single connection {single_s:.3f} s, "
                f"pre-built bytes over one connection {prebuilt_s:.3f} s")

            log(f"fanout: profiling the task's service in this process ({profile_n} requests) ...")
            profile = profile_service(codes[:profile_n], folder)
        finally:
            if worker is not None:
                stop(worker)
            if sink is not None:
                stop(sink)
            keys_deleted = delete_own_keys(made_keys)

    seconds = connect.get("seconds")
    m = len(messages)
    summary = {
        "benchmark": "request_fanout",
        "quick": args.quick,
        "code_commit": commit,
        "code_commit_at_end": code_commit(),
        "owners": n,
        "worker": "celery " + " ".join(worker_args),
        "worker_db_reuse_max": args.db_reuse_max,
        "connect": connect,
        "warmup": warm,
        "bare_per_connection": {"seconds": round(per_connection_s, 3), "msgs_per_s": round(m / per_connection_s, 1),
                                "messages": m},
        "bare_single_connection": {"seconds": round(single_s, 3), "msgs_per_s": round(m / single_s, 1),
                                   "messages": m, "runs_s": [round(x, 3) for x in single_runs],
                                   "cpu_ms_per_message": round(min(single_cpu) / m * 1000, 3)},
        "bare_prebuilt_single_connection": {"seconds": round(prebuilt_s, 3), "msgs_per_s": round(m / prebuilt_s, 1),
                                            "messages": m, "runs_s": [round(x, 3) for x in prebuilt_runs]},
        "bare_delivered": bare_delivered,
        "message_bytes": {"mean": round(statistics.fmean(sizes)), "min": min(sizes), "max": max(sizes)},
        "ratio": _data.ratio(seconds, single_s) if seconds else None,
        "ratio_vs_per_connection": _data.ratio(seconds, per_connection_s) if seconds else None,
        "ratio_vs_prebuilt": _data.ratio(seconds, prebuilt_s) if seconds else None,
        # Diagnostic, steadier on a busy machine: CPU per message of connect's worker (pool included) against
        # the bare loop's own process (neither counts the sink)
        "cpu_ratio": _data.ratio(connect["worker_cpu_ms_per_message"],
                                 min(single_cpu) / m * 1000) if single_cpu else None,
        "worker_log": worker_summary,
        "inprocess_service": profile,
        "targets": {"ratio_max": 2, "ratio_met": bool(seconds) and seconds <= 2 * single_s},
        "redis_keys_deleted": keys_deleted,
        "machine": _data.machine() | {
            "loadavg": [round(x, 2) for x in os.getloadavg()],
            "pressure_stall_share": pressure_share(stalls, time.perf_counter() - started_all)},
    }
    for path in sorted(workdir.rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    workdir.rmdir()
    log(f"fanout: ratio {summary['ratio']} (connect/bare single connection), "
        f"{summary['ratio_vs_per_connection']} vs one connection per message")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
