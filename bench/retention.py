"""Evidence retention: clips_expired_purge() over 100,000 expired clips (rows and files) against a bare loop.

    .venv/bin/python bench/retention.py          # 100,000 clips (a few minutes)
    .venv/bin/python bench/retention.py --quick  # 10,000 clips (under a minute)

Database: this script's own, `connect_bench_retention` (never `connect`), dropped, created from template1
(PostGIS) and migrated afresh (call_command("migrate")) every run. Redis database 12 is the Celery broker here
(claimed empty, emptied of this run's keys between stages and at the end; no worker consumes it).
CONNECT_EVIDENCE_DIR is a temporary folder. A local SMTP sink (`python -m connect.mailsink`, aiosmtpd) is started
on a free port for the receipts sent eagerly.

Data, made with bulk_create (so columns the models gain are filled too): 500 owners with one camera each;
incidents closed 400-700 days ago, 10 footage requests each (UPLOADED, to distinct cameras), 5 clips per
request; keep_days_after_close 30-365, so every one of these N clips has expired. One clip in 50 has no
request (staff-uploaded: no receipt). Each clip has a 1 KiB dummy file `<code>.cnev` in the evidence folder
(the purge only unlinks them). Clips that must survive are mixed in, 1% of N each: on a legal hold, of open
incidents, and of an incident closed yesterday; the run checks they are untouched.

  connect  requests_app.services.clips_expired_purge() with its defaults, Celery as deployed
           (CONNECT_CELERY_EAGER off): each receipt task is published to the broker. Light wrappers (module
           attributes of requests_app.services and audit.ledger replaced in this process, and a Django
           execute_wrapper) time its parts: the batch SELECT, the shred UPDATE(s), the ledger appends
           (record() per clip, or record_many() per batch since 8414a1e), the receipt publishes, the
           unlinks, the closing loop over purged clips' files (every purged clip before 441626d, those
           purged in the last 2 days since), the scan for crashed uploads (incoming_leftovers_purge, since
           441626d), and the rest (ORM, Python, and since 8414a1e each batch's COMMIT). Afterwards: rows,
           files, ledger entries, receipts queued (decoded from the broker's messages) and survivors are
           checked.
  bare     the same N rows (a copy of the same rows in `bench_clip`: LIKE requests_app_clip INCLUDING ALL)
           and N files of the same size in another folder of the same file system: keyset pages of 500
           (SELECT id, stored_name ... WHERE id > last ORDER BY id LIMIT 500), one UPDATE ... SET wrapped_key
           = NULL, purged_at = now() WHERE id = ANY(ids) per page (autocommit), then os.unlink of its files.
           It runs first; target: connect <= 60 s for 100,000 clips.

Diagnostics, not targets:
  idle_rerun          clips_expired_purge() again right after: nothing is expired, but its closing loop
                      still walks the purged clips (all of them before 441626d; the last 2 days' since)
  prototype_batched   a prototype of the fix (bench-only, purge_batched below) on another N expired clips
                      (quick: N/10; its ratio to bare is then per clip):
                      per batch of 500 (keyset by id), one UPDATE ... RETURNING id and the batch's ledger
                      entries (the very entries record() writes, chained with entry_digest under the same
                      advisory lock, one multi-row INSERT) in ONE transaction, one receipt message per batch
                      published after commit, then the unlinks; no loop over all purged clips
  eager_receipts      clips_expired_purge() on M more clips (2,000; quick: 50) with Celery eager and the
                      SMTP sink: each receipt is rendered and sent inline; the per-receipt cost is what the
                      receipts of N clips cost whoever sends them
  ledger_verify       audit.ledger.verify() over everything written (the prototype's entries too)

Progress goes to stderr; the last line of stdout is one JSON object with every figure.
"""

import argparse
import json
import os
import shutil
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path, PosixPath

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _data  # noqa: E402
import _services  # noqa: E402
from _runs import code_commit, free_port, pressure_share, pressure_totals, single_run_guard  # noqa: E402

DB_NAME = "connect_bench_retention"  # this script's own; never `connect`
DATABASE_URL = f"{_data.PG}/{DB_NAME}"
# Our own Redis database (bench/_services.py): the broker, which nothing consumes
REDIS_URL = f"{_data.REDIS}/12"
ROOT = _data.ROOT
OWNERS = 500
REQUESTS_PER_INCIDENT = 10
CLIPS_PER_REQUEST = 5
FILE_BYTES = 1024
BATCH = 500
# The purge's closing loop over purged clips' files (`.only("stored_name")`), in every version of it.
FINAL_LOOP_SQL = 'SELECT "requests_app_clip"."id", "requests_app_clip"."stored_name" FROM "requests_app_clip" WHERE'
# Since 8414a1e the purge re-reads which clips of a batch its UPDATE shredded.
RECHECK_SQL = 'SELECT "requests_app_clip"."id" FROM "requests_app_clip" WHERE ("requests_app_clip"."id" IN'
log = _data.log


def bench_env(evidence_dir: Path, smtp_port: int) -> dict[str, str]:
    return {"CONNECT_MODE": "demo", "CONNECT_DATABASE_URL": DATABASE_URL, "CONNECT_REDIS_URL": REDIS_URL,
            "CONNECT_EVIDENCE_DIR": str(evidence_dir), "CONNECT_EMAIL_HOST": "127.0.0.1",
            "CONNECT_EMAIL_PORT": str(smtp_port), "CONNECT_CELERY_EAGER": "false", "CONNECT_LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "connect.settings"}


def setup_django(env: dict[str, str]) -> None:
    log(f"creating database {DB_NAME} afresh")
    _services.database_recreate(_data.PG, DB_NAME, "retention")  # only a database a benchmark made is dropped
    os.environ.update(env)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


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


def redis_client():
    import redis

    return redis.Redis.from_url(REDIS_URL)


def sql(statement: str, params=None) -> list:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params if params is not None else ())  # so %% is always an escaped %
        return cursor.fetchall() if cursor.description else []


# --- data -----------------------------------------------------------------------------------------------

def make_owners() -> None:
    """OWNERS owners with one active outdoor camera each (the ORM fills whatever columns the models add)."""
    from django.contrib.gis.geos import Point
    from django.utils import timezone

    from registry.models import Camera, Owner

    now = timezone.now()
    owners = Owner.objects.bulk_create([
        Owner(kind=Owner.Kind.RESIDENT, name=f"Retention owner {i}", email=f"owner{i}@retention.bench.invalid",
              phone="919-555-0100", address=f"{i} Bench St, Raleigh, NC", terms_version="2026-1",
              terms_accepted_at=now, confirmed_at=now)
        for i in range(OWNERS)])
    Camera.objects.bulk_create([
        Camera(owner=owner, label=f"Porch camera {i}", address=owner.address,
               location=Point(-78.70 + (i % 97) * 0.001, 35.75 + (i % 89) * 0.001, srid=4326),
               placement=Camera.Placement.OUTDOOR, faces_public=True, direction_deg=90, field_of_view_deg=90,
               range_m=30, status=Camera.Status.ACTIVE, verified=True)
        for i, owner in enumerate(owners)])


_SET_NUMBER = iter(range(10, 99))


def make_clips(n: int, *, closed_days: int | None, legal_hold: bool = False) -> list[str]:
    """n clips on new incidents (closed `closed_days` ago, plus 0-299 days when that is over 100, or open if
    None), 10 requests (UPLOADED) of 5 clips each per incident; one clip in 50 without a request. Every clip's
    keep_days_after_close is 30-365. Made with bulk_create; returns the clips' stored names."""
    import uuid
    from datetime import timedelta

    from django.contrib.gis.geos import Point
    from django.utils import timezone

    from common.sealed import current_key_id
    from registry.models import Camera
    from requests_app.models import Clip, FootageRequest, Incident

    prefix = f"{next(_SET_NUMBER)}-"
    now = timezone.now()
    per_incident = REQUESTS_PER_INCIDENT * CLIPS_PER_REQUEST
    incidents = Incident.objects.bulk_create([
        Incident(case_number=f"{prefix}{i:06d}", offense_type="Burglary",
                 location=Point(-78.6382, 35.7796, srid=4326), address="200 Fayetteville St",
                 starts_at=now - timedelta(days=801), ends_at=now - timedelta(days=800), radius_m=300,
                 owner_summary="A car was broken into on this block.",
                 status=Incident.Status.OPEN if closed_days is None else Incident.Status.CLOSED,
                 closed_at=None if closed_days is None else
                 now - timedelta(days=closed_days + (i % 300 if closed_days > 100 else 0)))
        for i in range(-(-n // per_incident))], batch_size=5000)
    cameras = list(Camera.objects.order_by("pk").values_list("pk", flat=True))
    requests = FootageRequest.objects.bulk_create([
        FootageRequest(incident=incident, camera_id=cameras[(i * 13 + k) % len(cameras)], camera_label="Porch camera",
                       state=FootageRequest.State.UPLOADED, nonce=uuid.uuid4().hex, attempts=1,
                       sent_at=now - timedelta(days=800), answered_at=now - timedelta(days=799),
                       expires_at=now - timedelta(days=790))
        for i, incident in enumerate(incidents) for k in range(REQUESTS_PER_INCIDENT)], batch_size=5000)
    key_id = current_key_id()
    clips = []
    for request in requests:
        for j in range(CLIPS_PER_REQUEST):
            if len(clips) == n:
                break
            code = uuid.uuid4()
            staff = len(clips) % 50 == 0
            clips.append(Clip(
                code=code, request=None if staff else request, incident=request.incident,
                original_name=f"VID_{request.pk}_{j}.mp4", media_format="mov,mp4,m4a,3gp,3g2,mj2", size=FILE_BYTES,
                sha256=code.hex * 2, stored_name=f"{code}.cnev", master_key_id=key_id, wrapped_key=os.urandom(60),
                duration_s=30.0, width=1280, height=720, recorded_at=now - timedelta(days=801),
                keep_days_after_close=30 + (request.pk * 7 + j) % 336,
                uploaded_by="bench-investigator" if staff else "owner", legal_hold=legal_hold,
                legal_hold_reason="Court order 26-CV-0001" if legal_hold else ""))
    Clip.objects.bulk_create(clips, batch_size=5000)
    return [clip.stored_name for clip in clips]


def write_files(folder: Path, names: list[str]) -> None:
    """A FILE_BYTES file per name; four threads (the system calls release the GIL)."""
    from concurrent.futures import ThreadPoolExecutor

    folder.mkdir(parents=True, exist_ok=True)
    data = os.urandom(FILE_BYTES)

    def write(part: list[str]) -> None:
        for name in part:
            fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.write(fd, data)
            os.close(fd)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(write, [names[i::4] for i in range(4)]))


def vacuum() -> None:
    for table in ("requests_app_clip", "requests_app_incident", "requests_app_footagerequest", "registry_camera",
                  "registry_owner", "audit_accessentry", "bench_clip"):
        if sql("SELECT to_regclass(%s)", [table])[0][0]:
            sql(f"VACUUM (ANALYZE) {table}")


# --- bare -----------------------------------------------------------------------------------------------

def bare(folder: Path) -> dict:
    from django.db import connection

    stalls = pressure_totals()
    started = time.perf_counter()
    updated = unlinked = 0
    last = 0
    with connection.cursor() as cursor:
        while True:
            cursor.execute("SELECT id, stored_name FROM bench_clip WHERE id > %s ORDER BY id LIMIT %s", [last, BATCH])
            rows = cursor.fetchall()
            if not rows:
                break
            cursor.execute("UPDATE bench_clip SET wrapped_key = NULL, purged_at = now() WHERE id = ANY(%s)",
                           [[row[0] for row in rows]])
            updated += cursor.rowcount
            for _id, name in rows:
                os.unlink(folder / name)
                unlinked += 1
            last = rows[-1][0]
    seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 3), "rows_updated": updated, "files_unlinked": unlinked,
            "clips_per_s": round(updated / seconds), "pressure_stall_share": pressure_share(stalls, seconds)}


# --- connect, instrumented ------------------------------------------------------------------------------

class Instrument:
    """Times the parts of clips_expired_purge by replacing requests_app.services' module attributes (record,
    clip_path, and common.outbox's dispatch) with timing wrappers and watching its SQL with an execute_wrapper."""

    def __init__(self):
        self.t = defaultdict(float)
        self.n = defaultdict(int)
        self.final_started = None

    def __enter__(self):
        from django.db import connection

        from audit import ledger as audit_services
        from requests_app import services

        self.services, self.audit_services = services, audit_services
        self.saved = {name: getattr(services, name) for name in ("record", "clip_path")}
        instrument = self
        depth = defaultdict(int)

        def timed(name, function):
            def wrapper(*args, **kwargs):
                depth[name] += 1
                started = time.perf_counter()
                try:
                    return function(*args, **kwargs)
                finally:
                    depth[name] -= 1
                    if not depth[name]:  # the outermost call only: record() calls record_many() since 8414a1e
                        instrument.t[name] += time.perf_counter() - started
                        instrument.n[name] += 1
            return wrapper

        class TimedPath(PosixPath):
            def unlink(self, missing_ok=False):
                started = time.perf_counter()
                try:
                    return super().unlink(missing_ok=missing_ok)
                finally:
                    key = "final_loop_unlink" if instrument.final_started else "unlink"
                    instrument.t[key] += time.perf_counter() - started
                    instrument.n[key] += 1

        original_clip_path = self.saved["clip_path"]
        if hasattr(services, "incoming_leftovers_purge"):  # since 441626d
            self.saved["incoming_leftovers_purge"] = services.incoming_leftovers_purge
            services.incoming_leftovers_purge = timed("incoming_leftovers", services.incoming_leftovers_purge)
        services.record = timed("ledger_record", self.saved["record"])
        if hasattr(audit_services, "record_many"):  # since 8414a1e the purge appends a batch at a time
            self.saved_audit = {"record_many": audit_services.record_many}
            audit_services.record_many = timed("ledger_record", audit_services.record_many)
        else:
            self.saved_audit = {}
        # What costs is the publish (or, eager, the task run inline), which the outbox does after the COMMIT
        # (since issue 15's outbox; before, enqueue_on_commit did): time the outbox's dispatch itself.
        from common import outbox

        self.outbox, self.saved_dispatch = outbox, outbox.dispatch
        outbox.dispatch = timed("receipt_enqueue", outbox.dispatch)
        services.clip_path = lambda clip: TimedPath(original_clip_path(clip))
        self.wrapper = connection.execute_wrapper(self.tracer)
        self.wrapper.__enter__()
        self.started = time.perf_counter()
        return self

    def tracer(self, execute, sql_text, params, many, context):
        started = time.perf_counter()
        final_loop = sql_text.startswith(FINAL_LOOP_SQL)
        if final_loop and self.final_started is None:
            self.final_started = started
        try:
            return execute(sql_text, params, many, context)
        finally:
            elapsed = time.perf_counter() - started
            if sql_text.startswith('UPDATE "requests_app_clip"') or sql_text.startswith(RECHECK_SQL):
                key = "clip_update_sql"
            elif "make_interval" in sql_text:
                key = "batch_select_sql"
            elif final_loop:
                key = "final_loop_select_sql"
            elif "audit_" in sql_text or "pg_advisory" in sql_text:
                key = "ledger_sql"  # inside record(): lock, head read, INSERT (COMMIT is not an execute)
            else:
                key = "other_sql"
            self.t[key] += elapsed
            self.n[key] += 1

    def __exit__(self, *exc):
        self.ended = time.perf_counter()
        self.wrapper.__exit__(*exc)
        for name, value in self.saved.items():
            setattr(self.services, name, value)
        for name, value in self.saved_audit.items():
            setattr(self.audit_services, name, value)
        self.outbox.dispatch = self.saved_dispatch
        return False

    def summary(self) -> dict:
        total = self.ended - self.started
        final = self.ended - self.final_started if self.final_started else 0.0
        final -= self.t["incoming_leftovers"]  # runs after the loop (since 441626d), reported on its own
        parts = {
            "batch_select_sql": self.t["batch_select_sql"],
            "clip_update_sql": self.t["clip_update_sql"],
            "ledger_record": self.t["ledger_record"],
            "receipt_enqueue": self.t["receipt_enqueue"],
            "unlink": self.t["unlink"],
            "final_loop": final,
            "incoming_leftovers": self.t["incoming_leftovers"],
        }
        parts["rest_orm_and_python"] = total - sum(parts.values())
        return {
            "seconds": {k: round(v, 3) for k, v in parts.items()},
            "share": {k: round(v / total, 3) for k, v in parts.items()},
            "inside": {"ledger_record_sql_s": round(self.t["ledger_sql"], 3),
                       "final_loop_select_sql_s": round(self.t["final_loop_select_sql"], 3),
                       "final_loop_unlink_s": round(self.t["final_loop_unlink"], 3),
                       "other_sql_s": round(self.t["other_sql"], 3)},
            "calls": dict(self.n),
        }


def run_connect(label: str) -> dict:
    from requests_app.services import clips_expired_purge

    stalls = pressure_totals()
    with Instrument() as instrument:
        purged = clips_expired_purge()
    seconds = instrument.ended - instrument.started
    log(f"{label}: purged {purged:,} in {seconds:.2f} s")
    return {"purged": purged, "seconds": round(seconds, 3), "clips_per_s": round(purged / seconds) if purged else 0,
            "breakdown": instrument.summary(), "pressure_stall_share": pressure_share(stalls, seconds)}


def check_after(expected: list[str], survivors: list[str], evidence: Path, receipts_expected: int) -> dict:
    from requests_app.models import Clip

    purged_rows = Clip.objects.filter(stored_name__in=expected, purged_at__isnull=False, wrapped_key__isnull=True)
    left = {entry.name for entry in os.scandir(evidence)}
    untouched = Clip.objects.filter(stored_name__in=survivors, purged_at__isnull=True,
                                    wrapped_key__isnull=False).count()
    return {
        "rows_purged": purged_rows.count(),
        "files_left_of_purged": len(left & set(expected)),
        "survivors_untouched": untouched, "survivors": len(survivors),
        "survivor_files_present": len(left & set(survivors)),
        "ledger_clip_purged_entries": sql("SELECT count(*) FROM audit_accessentry WHERE action = 'clip.purged'")[0][0],
        **queued_receipts(), "receipts_expected": receipts_expected,
    }


def queued_receipts() -> dict:
    """The receipt tasks waiting in the broker (nothing consumes them here): messages, and the clips they
    name (one per message before 8414a1e, a batch's list since; as the keyword clip_ids since the outbox)."""
    import base64

    messages = receipts = 0
    for raw in redis_client().lrange("celery", 0, -1):
        message = json.loads(raw)
        if "receipt" not in message.get("headers", {}).get("task", ""):
            continue
        args, kwargs = json.loads(base64.b64decode(message["body"]))[:2]
        messages += 1
        named = kwargs["clip_ids"] if "clip_ids" in kwargs else args[0]
        receipts += len(named) if isinstance(named, list) else 1
    return {"receipt_messages_queued": messages, "receipts_queued": receipts}


# --- the prototype of the fix ---------------------------------------------------------------------------

def purge_batched(batch: int = BATCH) -> int:
    """Per batch: one UPDATE ... RETURNING and the batch's ledger entries in one transaction, one receipt
    message after commit, then the unlinks. Keyset by id; no walk over every purged clip."""
    from django.db import connection, transaction
    from django.utils import timezone

    from audit.chain import entry_digest
    from audit.ledger.locks import LEDGER_LOCK as _LEDGER_LOCK
    from audit.ledger.sealing import chain_head as _chain_head
    from connect.celery import app
    from requests_app.services import _expired_clips, clip_path

    columns = ("seq", "at", "actor_id", "actor_label", "action", "target_type", "target_code", "camera_code",
               "owner_code", "incident_code", "case_number", "reason", "detail", "prev_hash", "entry_hash")
    one = f"({', '.join(['%s'] * len(columns))})"
    purged = 0
    last_pk = 0
    while True:
        clips = list(_expired_clips().filter(pk__gt=last_pk).order_by("pk")
                     .select_related("incident", "request__camera__owner")[:batch])
        if not clips:
            break
        last_pk = clips[-1].pk
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE requests_app_clip SET wrapped_key = NULL, purged_at = %s WHERE id = ANY(%s) "
                           "AND purged_at IS NULL AND NOT legal_hold RETURNING id",
                           [timezone.now(), [clip.pk for clip in clips]])
            shredded = {row[0] for row in cursor.fetchall()}
            done = [clip for clip in clips if clip.pk in shredded]
            if done:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LEDGER_LOCK])
                seq, prev_hash = _chain_head()
                params = []
                for clip in done:
                    camera = clip.request.camera if clip.request_id else None
                    seq += 1
                    values = {"seq": seq, "at": timezone.now(), "actor_id": None, "actor_label": "system",
                              "action": "clip.purged", "target_type": "clip", "target_code": str(clip.code),
                              "camera_code": str(camera.code) if camera else "",
                              "owner_code": str(camera.owner.code) if camera else "",
                              "incident_code": str(clip.incident.code), "case_number": clip.incident.case_number,
                              "reason": "", "detail": {"sha256": clip.sha256}}
                    entry_hash = entry_digest(values, prev_hash)
                    params += [*[values[c] for c in columns[:12]], json.dumps(values["detail"]), prev_hash,
                               entry_hash]
                    prev_hash = entry_hash
                cursor.execute(f"INSERT INTO audit_accessentry ({', '.join(columns)}) VALUES "
                               + ", ".join([one] * len(done)), params)
                receipts = [clip.pk for clip in done if clip.request_id and clip.request.camera_id]
                if receipts:
                    # One message per batch (the task would send one receipt per owner); nothing consumes it here.
                    transaction.on_commit(lambda ids=receipts: app.send_task("bench.clip_deletion_receipts",
                                                                             args=[ids]))
        for clip in done:
            clip_path(clip).unlink(missing_ok=True)
        purged += len(done)
        if len(clips) < batch:
            break
    return purged


# --- main -----------------------------------------------------------------------------------------------

def mail_count(folder: Path) -> int:
    with os.scandir(folder) as entries:
        return sum(1 for entry in entries if entry.name.endswith(".eml") and not entry.name.startswith("."))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 clips instead of 100,000")
    parser.add_argument("--clips", type=int, help="expired clips to purge")
    parser.add_argument("--eager-clips", type=int, help="clips purged with receipts sent eagerly")
    parser.add_argument("--no-prototype", action="store_true")
    args = parser.parse_args()
    n = args.clips or (10_000 if args.quick else 100_000)
    m = args.eager_clips or (50 if args.quick else 2_000)
    p = n // 10 if args.quick else n  # the prototype's clips (quick: a tenth, to stay under a minute)
    keepers = max(n // 100, 10)
    guard = single_run_guard("retention")  # noqa: F841 -- held until the process exits
    started_all = time.perf_counter()
    load_start = round(os.getloadavg()[0], 2)
    stalls = pressure_totals()

    workdir = Path(tempfile.mkdtemp(prefix="connect-bench-retention-"))
    evidence, bare_dir, mail = workdir / "evidence", workdir / "bare", workdir / "mail"
    smtp_port = free_port()
    sink = None
    try:
        with open(workdir / "sink.log", "wb") as sink_log:
            sink = start_sink(smtp_port, mail, sink_log)
            setup_django(bench_env(evidence, smtp_port))
            from connect.celery import app

            _services.redis_claim(REDIS_URL, "retention")
            result = {"benchmark": "retention", "quick": args.quick, "clips": n, "code_commit": code_commit(),
                      "load_avg_1m_at_start": load_start}

            # --- data
            t0 = time.perf_counter()
            make_owners()
            expired = make_clips(n, closed_days=400)
            # The files are written meanwhile (creating files is slow on this file system; nothing is timed yet).
            files = threading.Thread(target=lambda: (write_files(evidence, expired), write_files(bare_dir, expired)))
            files.start()
            survivors = (make_clips(keepers, closed_days=400, legal_hold=True) + make_clips(keepers, closed_days=None)
                         + make_clips(keepers, closed_days=1))
            sql("CREATE TABLE bench_clip (LIKE requests_app_clip INCLUDING ALL)")
            sql("INSERT INTO bench_clip SELECT * FROM requests_app_clip WHERE stored_name = ANY(%s)", [expired])
            vacuum()
            t_rows = time.perf_counter() - t0
            write_files(evidence, survivors)
            files.join()
            if len(os.listdir(evidence)) != len(expired) + len(survivors) or len(os.listdir(bare_dir)) != len(expired):
                raise RuntimeError("the dummy files were not all written")
            t_files = time.perf_counter() - t0 - t_rows
            with_request = sql("SELECT count(*) FROM requests_app_clip WHERE stored_name = ANY(%s) "
                               "AND request_id IS NOT NULL", [expired])[0][0]
            result["data"] = {"expired_clips": len(expired), "survivors": len(survivors),
                              "expired_with_request": with_request, "rows_and_vacuum_s": round(t_rows, 1),
                              "files_after_rows_s": round(t_files, 1), "total_s": round(time.perf_counter() - t0, 1),
                              "file_bytes": FILE_BYTES}
            log(f"data: {len(expired):,} expired clips (+{len(survivors):,} that must survive), copies in bench_clip, "
                f"{2 * len(expired) + len(survivors):,} files, in {time.perf_counter() - t0:.1f} s")

            # --- bare, then connect
            result["bare"] = bare(bare_dir)
            log(f"bare: {result['bare']['rows_updated']:,} rows and files in {result['bare']['seconds']:.2f} s")
            connect = run_connect("connect")
            connect["checks"] = check_after(expired, survivors, evidence, with_request)
            result["connect"] = connect
            log(f"connect: checks {connect['checks']}")
            log(f"connect: breakdown {connect['breakdown']['seconds']}")
            _services.redis_empty_own(REDIS_URL, "retention")
            result["ratio"] = _data.ratio(connect["seconds"], result["bare"]["seconds"])
            target_s = 60.0 * n / 100_000
            result["target"] = {"connect_s_max": target_s, "met": connect["seconds"] <= target_s,
                                "scaled_from": "60 s per 100,000 clips"}

            # --- diagnostics
            result["idle_rerun"] = run_connect("idle rerun")
            if not args.no_prototype:
                t0 = time.perf_counter()
                batch_set = make_clips(p, closed_days=400)
                write_files(evidence, batch_set)
                vacuum()
                log(f"prototype: {len(batch_set):,} more expired clips in {time.perf_counter() - t0:.1f} s")
                t0 = time.perf_counter()
                purged = purge_batched()
                seconds = time.perf_counter() - t0
                left = {entry.name for entry in os.scandir(evidence)}
                result["prototype_batched"] = {
                    "purged": purged, "seconds": round(seconds, 3), "clips_per_s": round(purged / seconds),
                    "ratio_to_bare": _data.ratio(seconds * n / purged, result["bare"]["seconds"]),
                    "files_left": len(left & set(batch_set)), **queued_receipts()}
                log(f"prototype: purged {purged:,} in {seconds:.2f} s")
                _services.redis_empty_own(REDIS_URL, "retention")

            eager_set = make_clips(m, closed_days=400)
            write_files(evidence, eager_set)
            receipts_expected = sql("SELECT count(*) FROM requests_app_clip WHERE stored_name = ANY(%s) "
                                    "AND request_id IS NOT NULL", [eager_set])[0][0]
            before = mail_count(mail)
            app.conf.task_always_eager = True
            try:
                eager = run_connect("eager receipts")
            finally:
                app.conf.task_always_eager = False
            sent = mail_count(mail) - before
            per_receipt = eager["breakdown"]["seconds"]["receipt_enqueue"] / max(receipts_expected, 1)
            publish = connect["breakdown"]["seconds"]["receipt_enqueue"] / max(with_request, 1)
            result["eager_receipts"] = {
                "clips": m, "receipts_expected": receipts_expected, "receipts_in_sink": sent,
                "seconds": eager["seconds"], "breakdown": eager["breakdown"],
                "ms_per_receipt_sent_inline": round(per_receipt * 1000, 3),
                "ms_per_receipt_published": round(publish * 1000, 3),
                "receipts_for_n_sent_inline_s": round(per_receipt * with_request, 1),
                "connect_s_if_receipts_were_sent_inline": round(
                    connect["seconds"] - publish * with_request + per_receipt * with_request, 1)}
            log(f"eager: {sent} receipts, {per_receipt * 1000:.2f} ms each inline")

            from audit.ledger import verify as ledger_verify

            t0 = time.perf_counter()
            check = ledger_verify()
            result["ledger_verify"] = {"checked": check.checked, "ok": check.ok, "problem": check.problem,
                                       "seconds": round(time.perf_counter() - t0, 2)}
            log(f"ledger: {check.checked:,} entries, ok={check.ok} {check.problem}")
            result["machine"] = _data.machine()
            result["machine"]["load_avg_1m_at_end"] = round(os.getloadavg()[0], 2)
            result["machine"]["pressure_stall_share"] = pressure_share(stalls, time.perf_counter() - started_all)
            result["total_s"] = round(time.perf_counter() - started_all, 1)
            result["code_commit_at_end"] = code_commit()
    finally:
        if sink is not None:
            sink.terminate()
            try:
                sink.wait(timeout=10)
            except subprocess.TimeoutExpired:
                sink.kill()
        try:
            _services.redis_release(REDIS_URL, "retention")
        except Exception as exc:  # cleanup only
            log(f"could not empty this run's Redis database: {exc}")
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
