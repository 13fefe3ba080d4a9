"""Access ledger: appends per second under 4 concurrent writers, and ledger_verify() over 1,000,000 entries.

    .venv/bin/python bench/ledger.py          # 3 x 10 s of each append variant, verify over 1,000,000 entries
    .venv/bin/python bench/ledger.py --quick  # 1 x 3 s of each, verify over 100,000 entries (about a minute)

Database: this script's own, `connect_bench_ledger` (never `connect`), on the cluster PG_PORT or
CONNECT_DATABASE_URL names (bench/_services.py), dropped (only if a benchmark made it), created from template1
(PostGIS) and migrated afresh (call_command("migrate")) every run. Redis database 8 of the server REDIS_PORT or
CONNECT_REDIS_URL names (nothing is queued; nothing is deleted there).

1. Appends. Four writer processes (multiprocessing, spawn), each with Django set up and its own database
   connection, start together and append for a fixed time; the rate is all appends / the wall time. Every
   writer cycles through 1,000 realistic calls of its own (seeded): clip.viewed and map.search by staff
   users who hold a role (so record() reads their groups, as it does in production), request.mailed by
   the system, clip.uploaded by 'owner', signin.succeeded with an address; UUID codes, case numbers,
   SHA-256s in `detail`. Each call is timed (per-call latency percentiles).
     connect  audit.ledger.record(actor=..., action=..., ...), one call per entry, in autocommit (as from a
              view or a task): the pending entry's INSERT (which reads the actor's groups); then, after its
              commit, a try for the ledger lock with the head and the batch in one statement; if it gets the
              lock, it seals everything pending in one more (batch sealing, audit/ledger/sealing.py), else the
              seal in progress takes its entry. Rows are counted
              when record() returns; connect leaves nothing pending (checked after the rounds).
     plain    the same rows (the same column values, `detail` as the same JSON, `at` from timezone.now())
              as one INSERT per row in autocommit through Django's cursor, into `bench_plain_entry`: a
              copy of audit_accessentry's columns and indexes (LIKE ... INCLUDING INDEXES) without seq,
              prev_hash, entry_hash and pending_id, without the trigger and without any lock -- the baseline
     locked   the previous record() (up to commit 849912b), kept here for comparison: the actor's groups,
              then in one transaction the ledger's advisory lock, the chain head, entry_digest, one INSERT,
              COMMIT, per entry
   The three alternate (order rotated each round), 3 rounds of 10 s (quick: 1 of 3 s); medians are
   reported. Target: connect / plain >= 0.5.
   Diagnostics, 8 s each (quick: 2 s), same 4 writers unless named:
     connect_traced    record() with a Django execute_wrapper timing each round trip: the pending INSERT (and
                       its COMMIT); the tries for the lock (with the head and the batch if it got it); the
                       sealing INSERT with the unlock and its COMMIT; the lock's hold as the client sees it (from
                       the batch read to the unlock); how many calls sealed, how many left their entry to the
                       seal in progress, how many extra rounds sealers made for others' entries
     plain_orm         the same rows through the ORM (an unmanaged model on bench_plain_entry, .create())
     import_connect, import_locked   writer 0 runs a camera import: transactions of 20 record() calls with
                       5 ms between them (≥ 100 ms each); writers 1-3 call record() as usual. Reported: the
                       three writers' rate and latency, against connect above (the lock held for a caller's
                       transaction, issue 5's second defect)
     connect_1_writer, plain_1_writer, locked_1_writer   one writer alone
   After the rounds the chain they wrote is verified (ledger_verify) so a fork under concurrency shows, and
   the pending table is counted.

2. Verify. The ledger is filled to 1,000,000 entries (quick: 100,000): the chain is continued from the head
   the writers left, generated in Python with audit.chain.entry_digest (the very function sealing uses),
   and COPYed in; the trigger only refuses UPDATE and DELETE. Then VACUUM (ANALYZE).
     connect  audit.ledger.verify() (batches of 5,000 through the ORM's .values())
     bare     the same walk on Django's raw psycopg cursor: keyset pages of 5,000 by seq, tuples, and
              entry_digest on each row (bare_read_and_hash, the headline baseline); and the pages alone
              without hashing (bare_read)
   The variants alternate, 2 rounds (quick: 1). Reported as entries per second.

Progress goes to stderr; the last line of stdout is one JSON object with every figure.
"""

import argparse
import json
import multiprocessing
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _data  # noqa: E402
import _services  # noqa: E402
from _runs import code_commit, pressure_share, pressure_totals, single_run_guard  # noqa: E402

DB_NAME = "connect_bench_ledger"  # this script's own; never `connect`
DATABASE_URL = f"{_data.PG}/{DB_NAME}"
REDIS_URL = f"{_data.REDIS}/8"
ROOT = _data.ROOT
WRITERS = 4
CALLS_PER_WRITER = 1000
STAFF = [("bench-inv-1", ["Investigator"]), ("bench-inv-2", ["Investigator"]), ("bench-analyst", ["Crime analyst"]),
         ("bench-super", ["Supervisor", "Investigator"])]
PLAIN_TABLE = "bench_plain_entry"
PLAIN_COLUMNS = ("at", "actor_id", "actor_label", "action", "target_type", "target_code", "camera_code",
                 "owner_code", "incident_code", "case_number", "reason", "detail")
IMPORT_ROWS = 20  # record() calls per import transaction (import_* diagnostics)
IMPORT_PAUSE_S = 0.005  # between them: parsing and saving a camera
log = _data.log


def bench_env(evidence_dir: str) -> dict[str, str]:
    return {"CONNECT_MODE": "demo", "CONNECT_DATABASE_URL": DATABASE_URL, "CONNECT_REDIS_URL": REDIS_URL,
            "CONNECT_EVIDENCE_DIR": evidence_dir, "CONNECT_LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "connect.settings"}


def setup_django(env: dict[str, str], *, fresh: bool) -> None:
    if fresh:
        log(f"creating database {DB_NAME} afresh")
        _services.database_recreate(_data.PG, DB_NAME, "ledger")  # only a database a benchmark made is dropped
    os.environ.update(env)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.chdir(ROOT)
    import django

    django.setup()
    if fresh:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)


# --- the calls ------------------------------------------------------------------------------------------

def _case(rng: random.Random) -> str:
    return f"26-{rng.randrange(1_000_000):06d}"


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def make_calls(seed: int, n: int) -> list[dict]:
    """n record() calls: {'actor': ('user', name) | 'owner' | None, 'kwargs': {...}} in a realistic mix."""
    rng = random.Random(seed)
    calls = []
    for _ in range(n):
        roll = rng.random()
        user = ("user", rng.choice(STAFF)[0])
        if roll < 0.35:
            actor, kwargs = user, {
                "action": rng.choice(["clip.viewed", "clip.downloaded"]), "target_type": "clip",
                "target_code": _uuid(rng), "incident_code": _uuid(rng), "case_number": _case(rng),
                "camera_code": _uuid(rng), "owner_code": _uuid(rng), "reason": "",
                "sha256": rng.getrandbits(256).to_bytes(32, "big").hex()}
        elif roll < 0.55:
            actor, kwargs = user, {
                "action": "map.search", "target_type": "map", "case_number": _case(rng),
                "lat": round(35.70 + rng.random() * 0.27, 6), "lng": round(-78.82 + rng.random() * 0.35, 6),
                "radius_m": rng.choice([100, 300, 500]), "query": "", "results": rng.randrange(60)}
        elif roll < 0.80:
            actor, kwargs = None, {
                "action": "request.mailed", "target_type": "footage_request", "target_code": _uuid(rng),
                "camera_code": _uuid(rng), "owner_code": _uuid(rng), "incident_code": _uuid(rng),
                "case_number": _case(rng)}
        elif roll < 0.90:
            actor, kwargs = "owner", {
                "action": "clip.uploaded", "target_type": "clip", "target_code": _uuid(rng),
                "camera_code": _uuid(rng), "owner_code": _uuid(rng), "incident_code": _uuid(rng),
                "case_number": _case(rng), "sha256": rng.getrandbits(256).to_bytes(32, "big").hex(),
                "size": rng.randrange(1_000_000, 2_000_000_000)}
        else:
            actor, kwargs = user, {
                "action": "signin.succeeded", "target_type": "user", "target_code": user[1],
                "address": f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"}
        calls.append({"actor": actor, "kwargs": kwargs})
    return calls


_NAMED = ("action", "target_type", "target_code", "camera_code", "owner_code", "incident_code", "case_number",
          "reason")


def row_values(call: dict, users: dict) -> dict:
    """The column values record() stores for this call (without seq, at and the hashes)."""
    actor = call["actor"]
    kwargs = dict(call["kwargs"])
    if actor is None:
        actor_id, label, unit = None, "system", ""
    elif isinstance(actor, str):
        actor_id, label, unit = None, actor, ""
    else:
        user, unit = users[actor[1]]
        actor_id, label = user.pk, user.username
    named = {name: str(kwargs.pop(name, "") or "") for name in _NAMED}
    detail = {"unit": unit, **kwargs} if unit else kwargs
    return {"actor_id": actor_id, "actor_label": label, **named, "detail": json.loads(json.dumps(detail))}


# --- the writer processes -------------------------------------------------------------------------------

class Writer:
    """One writer process: Django set up on its own connection, its own calls, every variant."""

    def __init__(self, index: int):
        from django.contrib.auth import get_user_model
        from django.db import connection

        self.connection = connection
        self.index = index
        users = {}
        for user in get_user_model().objects.filter(username__in=[name for name, _ in STAFF]):
            users[user.username] = (user, ", ".join(sorted(user.groups.values_list("name", flat=True))))
        self.users = users
        self.calls = make_calls(1000 + index, CALLS_PER_WRITER)
        self.rows = [row_values(call, users) for call in self.calls]
        self.plain_sql = (f"INSERT INTO {PLAIN_TABLE} ({', '.join(PLAIN_COLUMNS)}) "
                          f"VALUES ({', '.join(['%s'] * len(PLAIN_COLUMNS))})")
        self.plain_model = plain_model()
        self.trace = {}

    def actor(self, spec):
        return self.users[spec[1]][0] if isinstance(spec, tuple) else spec

    # Each variant appends entry i of this writer's cycle and returns how many entries it appended.
    def connect(self, i: int) -> int:
        from audit.ledger import record

        call = self.calls[i]
        record(actor=self.actor(call["actor"]), **call["kwargs"])
        return 1

    self_sealing = connect  # the same call; the sealer process is stopped for it

    def connect_traced(self, i: int) -> int:
        from audit.ledger import record

        call = self.calls[i]
        actor = self.actor(call["actor"])
        marks = {}
        trace = self.trace

        def tracer(execute, sql, params, many, context):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                ended = time.perf_counter()
                if "INSERT INTO audit_pendingentry" in sql:
                    trace["insert_and_try_s"] += ended - started  # the pending INSERT and its COMMIT
                    marks["rounds"] = 0
                elif "audit_ledger_seal_b" in sql:  # each round: the try, the head and the batch
                    trace["seal_begin_s"] += ended - started
                    marks["rounds"] = marks.get("rounds", 0) + 1
                    marks["locked"] = ended
                elif "audit_ledger_seal_commit" in sql:
                    trace["seal_insert_s"] += ended - started  # the INSERT, unlock, COMMIT
                    trace["held_s"] += ended - marks["locked"]  # batch read -> unlocked (as the client sees it)
                    trace["seals"] += 1
                    marks["sealed"] = True
                else:
                    trace["other_sql_s"] += ended - started
                trace["statements"] += 1

        started = time.perf_counter()
        with self.connection.execute_wrapper(tracer):
            record(actor=actor, **call["kwargs"])
        ended = time.perf_counter()
        trace["total_s"] += ended - started
        trace["calls_that_sealed" if "sealed" in marks else "calls_that_left_it_to_the_seal_in_progress"] += 1
        trace["extra_rounds"] += max(marks.get("rounds", 1) - 1, 0)
        return 1

    def plain(self, i: int) -> int:
        from django.utils import timezone

        row = self.rows[i]
        with self.connection.cursor() as cursor:
            cursor.execute(self.plain_sql, [timezone.now(), *[row[c] for c in PLAIN_COLUMNS[1:-1]],
                                            json.dumps(row["detail"])])
        return 1

    def plain_orm(self, i: int) -> int:
        from django.utils import timezone

        self.plain_model.objects.create(at=timezone.now(), **self.rows[i])
        return 1

    def locked(self, i: int) -> int:
        """The previous record(), as it was up to 849912b: lock, head, hash, INSERT and COMMIT per entry."""
        from django.db import transaction
        from django.utils import timezone

        from audit.chain import entry_digest
        from audit.ledger import entry
        from audit.ledger.locks import LEDGER_LOCK as _LEDGER_LOCK
        from audit.ledger.sealing import chain_head as _chain_head
        from audit.models import AccessEntry

        call = self.calls[i]
        actor = self.actor(call["actor"])
        values = entry(actor=actor, **call["kwargs"])
        if actor is not None and not isinstance(actor, str):  # its _unit(): the groups, queried per call
            unit = ", ".join(sorted(actor.groups.values_list("name", flat=True)))
            if unit:
                values["detail"] = {"unit": unit, **values["detail"]}
        with transaction.atomic():
            with self.connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LEDGER_LOCK])
            seq, prev_hash = _chain_head()
            values = {**values, "seq": seq + 1, "at": timezone.now(),
                      "detail": json.loads(json.dumps(values["detail"], default=str))}
            AccessEntry.objects.bulk_create([AccessEntry(**values, prev_hash=prev_hash,
                                                         entry_hash=entry_digest(values, prev_hash))])
        return 1

    def importer(self, i: int, step) -> int:
        """A camera import: IMPORT_ROWS record() calls in one transaction, with work between them."""
        from django.db import transaction

        with transaction.atomic():
            for k in range(IMPORT_ROWS):
                step((i + k) % len(self.calls))
                time.sleep(IMPORT_PAUSE_S)
        return IMPORT_ROWS

    def run(self, variant: str, start_at: float, duration: float) -> dict:
        from audit.ledger.sealer import forget_presence

        forget_presence()  # the parent has just started or stopped the sealer
        importing = variant.startswith("import_")
        step = getattr(self, {"self_sealing_traced": "connect_traced"}.get(variant, variant).removeprefix("import_"))
        timed = not (importing and self.index == 0)
        if not timed:
            inner = step

            def step(i):
                return self.importer(i, inner)

        self.trace = dict.fromkeys(("insert_and_try_s", "seal_begin_s", "seal_insert_s", "other_sql_s",
                                    "held_s", "total_s", "statements", "seals", "calls_that_sealed",
                                    "calls_that_left_it_to_the_seal_in_progress", "extra_rounds"), 0)
        n = len(self.calls)
        latencies = []
        while time.time() < start_at:
            time.sleep(0.001)
        started = time.time()
        deadline = started + duration
        i = appended = 0
        while time.time() < deadline:
            t0 = time.perf_counter()
            appended += step(i % n)
            latencies.append(time.perf_counter() - t0)
            i += 1
        result = {"appended": appended, "started": started, "finished": time.time(), "timed": timed,
                  "latencies": latencies}
        if variant == "self_sealing_traced":
            result["trace"] = self.trace
        return result


def plain_model():
    """An unmanaged model on bench_plain_entry (the ORM diagnostic); defined once per process."""
    from django.apps import apps
    from django.db import models

    try:
        return apps.get_model("audit", "BenchPlainEntry")
    except LookupError:
        pass

    class BenchPlainEntry(models.Model):
        at = models.DateTimeField()
        actor_id = models.BigIntegerField(null=True)
        actor_label = models.CharField(max_length=150)
        action = models.CharField(max_length=48)
        target_type = models.CharField(max_length=48)
        target_code = models.CharField(max_length=64)
        camera_code = models.CharField(max_length=64)
        owner_code = models.CharField(max_length=64)
        incident_code = models.CharField(max_length=64)
        case_number = models.CharField(max_length=64)
        reason = models.TextField()
        detail = models.JSONField()

        class Meta:
            app_label = "audit"
            managed = False
            db_table = PLAIN_TABLE

        def __str__(self):
            return f"{self.action} {self.pk}"

    return BenchPlainEntry


def writer_main(pipe, index: int, env: dict) -> None:
    setup_django(env, fresh=False)
    writer = Writer(index)
    pipe.send(("ready", os.getpid()))
    while True:
        message = pipe.recv()
        if message is None:
            break
        pipe.send(writer.run(**message))


def sealer_main(pipe, env: dict) -> None:
    """The ledger's sealer process (audit.ledger.sealer.follow, as `manage.py seal_ledger --follow` runs it), switched
    on and off by the parent: 'start', 'stop', None to quit."""
    import threading

    setup_django(env, fresh=False)
    from audit.ledger.sealer import follow

    stop, thread = threading.Event(), None
    pipe.send("ready")
    while (message := pipe.recv()) is not None:
        if message == "start" and thread is None:
            stop.clear()
            thread = threading.Thread(target=follow, args=(stop,))
            thread.start()
        elif message == "stop" and thread is not None:
            stop.set()
            thread.join()
            thread = None
        pipe.send(message)
    if thread is not None:
        stop.set()
        thread.join()


class Sealer:
    """The sealer process, kept running and switched on for the variants that run with it."""

    def __init__(self, env: dict):
        context = multiprocessing.get_context("spawn")
        self.pipe, theirs = context.Pipe()
        self.process = context.Process(target=sealer_main, args=(theirs, env), daemon=True)
        self.process.start()
        if self.pipe.recv() != "ready":
            raise RuntimeError("the sealer failed to start")
        self.on = False

    def switch(self, on: bool) -> None:
        if on != self.on:
            self.pipe.send("start" if on else "stop")
            self.pipe.recv()
            self.on = on
            if on:
                time.sleep(0.2)  # it has taken its lock: writers that look now see it

    def close(self) -> None:
        self.pipe.send(None)
        self.process.join(timeout=30)


def wait_sealed(timeout_s: float = 60.0) -> float:
    """Waits until nothing is pending; returns when that was (time.time())."""
    from django.db import connection

    deadline = time.time() + timeout_s
    with connection.cursor() as cursor:
        while time.time() < deadline:
            cursor.execute("SELECT EXISTS (SELECT 1 FROM audit_pendingentry)")
            if not cursor.fetchone()[0]:
                return time.time()
            time.sleep(0.002)
    raise RuntimeError(f"entries still pending {timeout_s} s after the writers stopped")


def latency_ms(samples_s: list[float]) -> dict:
    if len(samples_s) < 2:
        return {}
    ordered = sorted(samples_s)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive")
    return {"p50": round(statistics.median(ordered) * 1000, 3), "p95": round(cuts[94] * 1000, 3),
            "p99": round(cuts[98] * 1000, 3), "max": round(ordered[-1] * 1000, 3)}


# The variants that run with the sealer process on (the production set-up); the others run without it.
WITH_SEALER = {"connect", "import_connect"}


class Writers:
    def __init__(self, env: dict, n: int):
        context = multiprocessing.get_context("spawn")
        self.pipes, self.processes = [], []
        for index in range(n):
            ours, theirs = context.Pipe()
            process = context.Process(target=writer_main, args=(theirs, index, env), daemon=True)
            process.start()
            self.pipes.append(ours)
            self.processes.append(process)
        for pipe in self.pipes:
            assert_ready = pipe.recv()
            if assert_ready[0] != "ready":
                raise RuntimeError(f"a writer failed to start: {assert_ready}")
        self.sealer = Sealer(env)

    def run(self, variant: str, duration: float, writers: int | None = None) -> dict:
        pipes = self.pipes[:writers or len(self.pipes)]
        self.sealer.switch(variant in WITH_SEALER)
        start_at = time.time() + 0.3
        stalls = pressure_totals()
        for pipe in pipes:
            pipe.send({"variant": variant, "start_at": start_at, "duration": duration})
        results = [pipe.recv() for pipe in pipes]
        finished = max(r["finished"] for r in results)
        # An append counts once its entry is in the chain: the round lasts until nothing is pending.
        sealed = wait_sealed() if variant not in ("plain", "plain_orm", "locked") else finished
        wall = max(finished, sealed) - min(r["started"] for r in results)
        timed = [r for r in results if r["timed"]]
        appended = sum(r["appended"] for r in timed)
        out = {"writers": len(pipes), "appended": appended, "wall_s": round(wall, 3),
               "per_s": round(appended / wall, 1),
               "per_writer": [r["appended"] for r in results],
               "latency_ms": latency_ms([x for r in timed for x in r["latencies"]]),
               "start_spread_ms": round((max(r["started"] for r in results) - min(r["started"] for r in results))
                                        * 1000, 2),
               "pressure_stall_share": pressure_share(stalls, wall + 0.3),
               "sealed_ms_after_the_writers": round(max(sealed - finished, 0) * 1000, 1)}
        if len(timed) < len(results):
            out["importer"] = {"appended": sum(r["appended"] for r in results if not r["timed"]),
                               "transactions": sum(len(r["latencies"]) for r in results if not r["timed"])}
        if variant == "self_sealing_traced":
            out["trace"] = trace_summary([r["trace"] for r in results], appended, wall)
        return out

    def close(self) -> None:
        self.sealer.close()
        for pipe in self.pipes:
            pipe.send(None)
        for process in self.processes:
            process.join(timeout=30)


def trace_summary(traces: list[dict], appended: int, wall: float) -> dict:
    total = {key: sum(t[key] for t in traces) for key in traces[0]}

    def per(key: str) -> float:
        return round(total[key] / appended * 1000, 3)

    sql = ("other_sql_s", "insert_and_try_s", "seal_begin_s", "seal_insert_s")
    return {
        "ms_per_append": {
            "total": per("total_s"), "other_sql": per("other_sql_s"),
            "insert_commit": per("insert_and_try_s"), "try_lock_batch": per("seal_begin_s"),
            "seal_insert_unlock_commit": per("seal_insert_s"),
            "python": round((total["total_s"] - sum(total[key] for key in sql)) / appended * 1000, 3)},
        "ms_lock_held_per_seal": round(total["held_s"] / max(total["seals"], 1) * 1000, 3),
        "statements_per_append": round(total["statements"] / appended, 2),
        "calls": {"sealed": total["calls_that_sealed"],
                  "left_it_to_the_seal_in_progress": total["calls_that_left_it_to_the_seal_in_progress"],
                  "extra_rounds_for_others": total["extra_rounds"]},
        "entries_per_seal": round(appended / max(total["seals"], 1), 2),
        "lock_utilisation": round(total["held_s"] / wall, 3),
    }


# --- set-up ---------------------------------------------------------------------------------------------

def make_staff() -> None:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    for name, roles in STAFF:
        user, _ = get_user_model().objects.get_or_create(username=name, defaults={"is_staff": True})
        user.groups.set(Group.objects.filter(name__in=roles))


def make_plain_table() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {PLAIN_TABLE}")
        cursor.execute(f"CREATE TABLE {PLAIN_TABLE} (LIKE audit_accessentry INCLUDING DEFAULTS INCLUDING IDENTITY "
                       "INCLUDING INDEXES)")
        cursor.execute(f"ALTER TABLE {PLAIN_TABLE} DROP COLUMN seq, DROP COLUMN prev_hash, DROP COLUMN entry_hash, "
                       "DROP COLUMN pending_id")


def index_counts() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename, count(*) FROM pg_indexes WHERE tablename IN (%s, 'audit_accessentry', "
                       "'audit_pendingentry') GROUP BY tablename", [PLAIN_TABLE])
        return dict(cursor.fetchall())


# --- appends --------------------------------------------------------------------------------------------

def appends(env: dict, quick: bool) -> dict:
    from django.db import connection

    from audit.ledger import verify as ledger_verify

    rounds, duration = (1, 3.0) if quick else (3, 10.0)
    diag = 2.0 if quick else 8.0
    log(f"appends: starting {WRITERS} writer processes")
    writers = Writers(env, WRITERS)
    try:
        # Warm-up: imports, connections, plans.
        for variant in ("connect", "plain", "self_sealing", "locked"):
            writers.run(variant, 0.5)
        runs = {"connect": [], "plain": [], "self_sealing": []}
        for r in range(rounds):
            order = list(runs)[r % len(runs):] + list(runs)[:r % len(runs)]
            for variant in order:
                result = writers.run(variant, duration)
                runs[variant].append(result)
                log(f"appends: round {r + 1} {variant}: {result['per_s']}/s ({result['appended']} in "
                    f"{result['wall_s']} s, per writer {result['per_writer']}, latency {result['latency_ms']})")
        diagnostics = {}
        for variant, n in (("locked", None), ("self_sealing_traced", None), ("plain_orm", None),
                           ("import_connect", None), ("import_locked", None), ("connect_1_writer", 1),
                           ("self_sealing_1_writer", 1), ("plain_1_writer", 1), ("locked_1_writer", 1)):
            name = variant.removesuffix("_1_writer")
            result = writers.run(name, diag, writers=n)
            diagnostics[variant] = result
            log(f"appends: {variant}: {result['per_s']}/s, latency {result['latency_ms']}"
                + (f" {result['trace']}" if "trace" in result else "")
                + (f" importer {result['importer']}" if "importer" in result else ""))
    finally:
        writers.close()
    rate = {variant: statistics.median(r["per_s"] for r in values) for variant, values in runs.items()}
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM audit_pendingentry")
        pending = cursor.fetchone()[0]
    started = time.perf_counter()
    check = ledger_verify()
    log(f"appends: chain after the writers: {check.checked} entries, ok={check.ok} {check.problem}; "
        f"{pending} pending")
    return {
        "writers": WRITERS, "rounds": rounds, "seconds_per_round": duration,
        "connect_per_s": round(rate["connect"], 1), "plain_per_s": round(rate["plain"], 1),
        "ratio": _data.ratio(rate["connect"], rate["plain"]), "target_ratio": 0.5,
        "target_met": rate["connect"] / rate["plain"] >= 0.5,
        "self_sealing_per_s": round(rate["self_sealing"], 1),
        "self_sealing_ratio": _data.ratio(rate["self_sealing"], rate["plain"]),
        "locked_per_s": diagnostics["locked"]["per_s"],
        "locked_ratio_to_median_plain": _data.ratio(diagnostics["locked"]["per_s"], rate["plain"]),
        "rounds_detail": runs, "diagnostics": diagnostics,
        "indexes": index_counts(),
        "pending_at_end": pending,
        "chain_after_writers": {"checked": check.checked, "ok": check.ok, "problem": check.problem,
                                "verify_s": round(time.perf_counter() - started, 3)},
    }


# --- verify ---------------------------------------------------------------------------------------------

COPY_COLUMNS = ("seq", "at", "actor_id", "actor_label", "action", "target_type", "target_code", "camera_code",
                "owner_code", "incident_code", "case_number", "reason", "detail", "prev_hash", "entry_hash")


def fill(total: int) -> dict:
    """Continues the chain from its head to `total` entries: generated in Python, COPYed in."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    from audit.chain import entry_digest
    from audit.ledger.sealing import chain_head as _chain_head

    seq, prev_hash = _chain_head()
    need = total - seq
    log(f"verify: filling {need:,} entries after entry {seq:,} ...")
    started = time.perf_counter()
    users = {}
    for user in get_user_model().objects.filter(username__in=[name for name, _ in STAFF]):
        users[user.username] = (user, ", ".join(sorted(user.groups.values_list("name", flat=True))))
    rows = [row_values(call, users) for call in make_calls(7, 5000)]
    at = timezone.now()
    step = timedelta(microseconds=100)
    hashing = 0.0
    chunk = 50_000
    done = 0
    raw = connection.cursor().cursor  # psycopg's own cursor, for COPY
    while done < need:
        n = min(chunk, need - done)
        batch = []
        t0 = time.perf_counter()
        for k in range(n):
            row = rows[(done + k) % len(rows)]
            seq += 1
            at += step
            values = {**row, "seq": seq, "at": at}
            entry_hash = entry_digest(values, prev_hash)
            batch.append((seq, at, *[row[c] for c in COPY_COLUMNS[2:12]], json.dumps(row["detail"]), prev_hash,
                          entry_hash))
            prev_hash = entry_hash
        hashing += time.perf_counter() - t0
        with connection.cursor():
            with raw.copy(f"COPY audit_accessentry ({', '.join(COPY_COLUMNS)}) FROM STDIN") as copy:
                for values in batch:
                    copy.write_row(values)
        done += n
    filled = time.perf_counter() - started
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) audit_accessentry")
        cursor.execute("SELECT count(*), pg_total_relation_size('audit_accessentry') FROM audit_accessentry")
        count, size = cursor.fetchone()
    log(f"verify: filled in {filled:.1f} s (hashing {hashing:.1f} s), vacuum {time.perf_counter() - t0:.1f} s; "
        f"{count:,} entries, {size / 2**20:.0f} MiB with indexes")
    return {"generated": need, "fill_s": round(filled, 1), "of_which_hashing_s": round(hashing, 1),
            "vacuum_analyze_s": round(time.perf_counter() - t0, 1), "entries": count,
            "table_and_indexes_mib": round(size / 2**20)}


def bare_walk(*, hashing: bool, batch: int = 5000) -> int:
    """The chain walk on the raw cursor: keyset pages by seq, tuples, entry_digest per row if hashing."""
    from django.db import connection

    from audit.chain import FIELDS, GENESIS, entry_digest

    sql = (f"SELECT {', '.join(FIELDS)}, prev_hash, entry_hash FROM audit_accessentry WHERE seq > %s "
           f"ORDER BY seq LIMIT {batch}")
    last, prev_hash, checked, bad = 0, GENESIS, 0, 0
    with connection.cursor() as cursor:
        while True:
            cursor.execute(sql, [last])
            rows = cursor.fetchall()
            if not rows:
                break
            for row in rows:
                if hashing:
                    values = dict(zip(FIELDS, row, strict=False))
                    if isinstance(values["detail"], str):
                        values["detail"] = json.loads(values["detail"])
                    if row[-2] != prev_hash or entry_digest(values, prev_hash) != row[-1]:
                        bad += 1
                    prev_hash = row[-1]
                checked += 1
            last = rows[-1][0]
    if bad:
        raise RuntimeError(f"bare walk found {bad} entries that do not verify")
    return checked


def verify(quick: bool) -> dict:
    from audit.ledger import verify as ledger_verify

    total = 100_000 if quick else 1_000_000
    rounds = 1 if quick else 2
    filled = fill(total)
    runs = {"connect": [], "bare_read_and_hash": [], "bare_read": []}
    checks = []
    for r in range(rounds):
        order = ["connect", "bare_read_and_hash", "bare_read"]
        if r % 2:
            order.reverse()
        for variant in order:
            started = time.perf_counter()
            if variant == "connect":
                result = ledger_verify()
                checked = result.checked
                checks.append({"checked": result.checked, "ok": result.ok, "problem": result.problem})
            else:
                checked = bare_walk(hashing=variant == "bare_read_and_hash")
            seconds = time.perf_counter() - started
            runs[variant].append({"entries": checked, "seconds": round(seconds, 2),
                                  "per_s": round(checked / seconds)})
            log(f"verify: round {r + 1} {variant}: {checked:,} in {seconds:.2f} s ({checked / seconds:,.0f}/s)")
    med = {variant: statistics.median(x["per_s"] for x in values) for variant, values in runs.items()}
    return {
        "entries": total, "fill": filled, "rounds": rounds,
        "connect_per_s": round(med["connect"]), "bare_read_and_hash_per_s": round(med["bare_read_and_hash"]),
        "bare_read_per_s": round(med["bare_read"]),
        "connect_seconds": statistics.median(x["seconds"] for x in runs["connect"]),
        "ratio_to_bare_read_and_hash": _data.ratio(med["connect"], med["bare_read_and_hash"]),
        "ratio_to_bare_read": _data.ratio(med["connect"], med["bare_read"]),
        "verify_results": checks, "runs": runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 x 3 s rounds, verify over 100,000 entries")
    parser.add_argument("--skip-verify", action="store_true", help="appends only")
    args = parser.parse_args()
    guard = single_run_guard("ledger")  # noqa: F841 -- held until the process exits
    started = time.perf_counter()
    stalls = pressure_totals()
    with tempfile.TemporaryDirectory(prefix="connect-bench-ledger-") as evidence_dir:
        env = bench_env(evidence_dir)
        setup_django(env, fresh=True)
        make_staff()
        make_plain_table()
        result = {"benchmark": "ledger", "quick": args.quick, "code_commit": code_commit(),
                  "load_avg_1m_at_start": round(os.getloadavg()[0], 2)}
        result["appends"] = appends(env, args.quick)
        if not args.skip_verify:
            result["verify"] = verify(args.quick)
        from django.db import connection

        result["machine"] = _data.machine()
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            result["machine"]["synchronous_commit"] = cursor.fetchone()[0]
        result["machine"]["load_avg_1m_at_end"] = round(os.getloadavg()[0], 2)
        result["machine"]["pressure_stall_share"] = pressure_share(stalls, time.perf_counter() - started)
        result["total_s"] = round(time.perf_counter() - started, 1)
        result["code_commit_at_end"] = code_commit()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
