"""Access ledger: appends per second under 4 concurrent writers, and ledger_verify() over 1,000,000 entries.

    .venv/bin/python bench/ledger.py          # 3 x 10 s of each append variant, verify over 1,000,000 entries
    .venv/bin/python bench/ledger.py --quick  # 1 x 3 s of each, verify over 100,000 entries (under a minute)

Database: this script's own, `connect_bench_ledger` (never `connect`), dropped, created from template1
(PostGIS) and migrated afresh (call_command("migrate")) every run. Redis database 8 (nothing is queued).

1. Appends. Four writer processes (multiprocessing, spawn), each with Django set up and its own database
   connection, start together and append for a fixed time; the rate is all appends / the wall time. Every
   writer cycles through 1,000 realistic calls of its own (seeded): clip.viewed and map.search by staff
   users who hold a role (so record() looks up their groups, as it does in production), request.mailed by
   the system, clip.uploaded by 'owner', signin.succeeded with an address; UUID codes, case numbers,
   SHA-256s in `detail`.
     connect  audit.services.record(actor=..., action=..., ...): advisory lock, chain head read, hash,
              INSERT, COMMIT, one call per entry, in autocommit mode (as from a view or a task)
     plain    the same rows (the same column values, `detail` as the same JSON, `at` from timezone.now())
              as one INSERT per row in autocommit through Django's cursor, into `bench_plain_entry`: a
              copy of audit_accessentry's columns and indexes (LIKE ... INCLUDING INDEXES) without seq,
              prev_hash and entry_hash, without the trigger and without any lock -- the headline baseline
     one_statement  a prototype of the fix (bench-only, PROTOTYPE_SQL below): the same entry, with the same
              hash, appended by one PL/pgSQL function called as a single statement in autocommit; lock, head
              read, digest (entry_digest's canonical JSON built in Python around placeholders for seq and
              `at`, which the function fills in under the lock; SHA-256, or pgcrypto's HMAC-SHA-256 with the
              key passed as a parameter, whichever entry_digest computes) and INSERT all run in the server,
              so the lock is held for the function and the COMMIT alone, with no client round trip in it
     sealed   a prototype of the other fix (bench-only, Writer.sealed and seal() below): an append is a plain
              INSERT into a pending table (bench_pending_entry: the plain table's columns, a primary key
              only); after it, if 5 ms have passed since it last tried, the writer tries (never waits for)
              a sealing lock, and whoever gets it chains everything pending under the ledger lock, in
              batches of up to 2,000: one DELETE ... RETURNING, one head read, entry_digest per entry, one
              multi-row INSERT, one COMMIT. The rate counts appends; what is still pending at the end is
              reported and then sealed (`drained`) before the chain is verified
   The four alternate (order rotated each round), 3 rounds of 10 s (quick: 1 of 3 s); medians are
   reported. Target: connect / plain >= 0.5.
   Diagnostics, 8 s each (quick: 2 s), same 4 writers unless named:
     plain_orm         the same rows through the ORM (an unmanaged model on bench_plain_entry, .create())
     connect_traced    record() with a Django execute_wrapper timing each statement: how long each append
                       waited for the advisory lock and how long it then held it (lock -> COMMIT returned),
                       split into head read, INSERT, COMMIT and Python; the lock's utilisation is the sum
                       of the hold times over the wall time (1.0 = the lock is never free)
     connect_async_commit, one_statement_async_commit  the same on connections set to synchronous_commit = off
                       (SET for the session, for this variant only): what the WAL flush at COMMIT, made
                       while the lock is held, costs
     connect_1_writer, plain_1_writer, one_statement_1_writer, sealed_1_writer   one writer alone
   After the rounds the chain they wrote is verified (ledger_verify) so a fork under concurrency shows.

2. Verify. The ledger is filled to 1,000,000 entries (quick: 100,000): the chain is continued from the head
   the writers left, generated in Python with audit.chain.entry_digest (the very function record() uses),
   and COPYed in; the trigger only refuses UPDATE and DELETE. Then VACUUM (ANALYZE).
     connect  audit.services.ledger_verify() (batches of 5,000 through the ORM's .values())
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
from _runs import code_commit, pressure_share, pressure_totals, single_run_guard  # noqa: E402

DB_NAME = "connect_bench_ledger"  # this script's own; never `connect`
DATABASE_URL = f"{_data.PG}/{DB_NAME}"
REDIS_URL = "redis://127.0.0.1:63799/8"
ROOT = _data.ROOT
WRITERS = 4
CALLS_PER_WRITER = 1000
STAFF = [("bench-inv-1", ["Investigator"]), ("bench-inv-2", ["Investigator"]), ("bench-analyst", ["Crime analyst"]),
         ("bench-super", ["Supervisor", "Investigator"])]
PLAIN_TABLE = "bench_plain_entry"
PENDING_TABLE = "bench_pending_entry"  # the sealing prototype's
SEAL_LOCK = 0x7365616C  # "seal"
SEAL_EVERY_S = 0.005  # a writer tries to seal at most this often
PLAIN_COLUMNS = ("at", "actor_id", "actor_label", "action", "target_type", "target_code", "camera_code",
                 "owner_code", "incident_code", "case_number", "reason", "detail")
log = _data.log


def bench_env(evidence_dir: str) -> dict[str, str]:
    return {"CONNECT_MODE": "demo", "CONNECT_DATABASE_URL": DATABASE_URL, "CONNECT_REDIS_URL": REDIS_URL,
            "CONNECT_EVIDENCE_DIR": evidence_dir, "CONNECT_LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "connect.settings"}


def setup_django(env: dict[str, str], *, fresh: bool) -> None:
    if fresh:
        import psycopg

        with psycopg.connect(f"{_data.PG}/postgres", autocommit=True) as conn:
            log(f"creating database {DB_NAME} afresh")
            conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')  # from template1, which carries PostGIS
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
        self.plain_sql = {table: (f"INSERT INTO {table} ({', '.join(PLAIN_COLUMNS)}) "
                                  f"VALUES ({', '.join(['%s'] * len(PLAIN_COLUMNS))})")
                          for table in (PLAIN_TABLE, PENDING_TABLE)}
        self.plain_model = plain_model()
        self.trace = {}
        self.last_seal = 0.0
        self.key = digest_key()

    def actor(self, spec):
        return self.users[spec[1]][0] if isinstance(spec, tuple) else spec

    # Each variant appends entry i of this writer's cycle.
    def connect(self, i: int) -> int:
        from audit.services import record

        call = self.calls[i]
        record(actor=self.actor(call["actor"]), **call["kwargs"])
        return 1

    def connect_traced(self, i: int) -> int:
        from audit.services import record

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
                if "pg_advisory_xact_lock" in sql:
                    trace["lock_wait_s"] += ended - started
                    marks["locked"] = ended
                elif sql.startswith("INSERT"):
                    trace["insert_s"] += ended - started
                    marks["inserted"] = ended
                elif "audit_accessentry" in sql or "audit_ledgercheckpoint" in sql:
                    trace["head_read_s"] += ended - started
                else:
                    trace["other_sql_s"] += ended - started  # the actor's groups, twice (_unit)
                trace["statements"] += 1

        started = time.perf_counter()
        with self.connection.execute_wrapper(tracer):
            record(actor=actor, **call["kwargs"])
        ended = time.perf_counter()
        trace["total_s"] += ended - started
        trace["held_s"] += ended - marks["locked"]
        trace["commit_s"] += ended - marks["inserted"]  # atomic's exit: COMMIT (WAL flush) and return
        return 1

    def plain(self, i: int, table: str = PLAIN_TABLE) -> int:
        from django.utils import timezone

        row = self.rows[i]
        with self.connection.cursor() as cursor:
            cursor.execute(self.plain_sql[table], [timezone.now(), *[row[c] for c in PLAIN_COLUMNS[1:-1]],
                                                   json.dumps(row["detail"])])
        return 1

    def plain_orm(self, i: int) -> int:
        from django.utils import timezone

        self.plain_model.objects.create(at=timezone.now(), **self.rows[i])
        return 1

    def one_statement(self, i: int) -> int:
        """Prototype of the fix: the same entry appended by one server-side statement (PROTOTYPE_SQL)."""
        from audit.chain import FIELDS
        from audit.services import _json_roundtrip, _label, _unit

        call = self.calls[i]
        actor = self.actor(call["actor"])
        actor_id, actor_label = _label(actor)
        unit = _unit(actor)  # once (record() asks twice)
        kwargs = dict(call["kwargs"])
        named = {name: str(kwargs.pop(name, "") or "") for name in _NAMED}
        detail = _json_roundtrip({"unit": unit, **kwargs} if unit else kwargs)
        values = {"actor_id": actor_id, "actor_label": actor_label, **named, "detail": detail}
        # The canonical JSON entry_digest hashes, with seq and at left for the database to fill in under the lock.
        content = {name: values.get(name) for name in FIELDS} | {"seq": "@@SEQ@@", "at": "@@AT@@"}
        payload = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
        head, rest = payload.split('"@@AT@@"', 1)
        mid, tail = rest.split('"@@SEQ@@"', 1)
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT bench_ledger_append(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                           [actor_id, actor_label, *[named[name] for name in _NAMED], json.dumps(detail),
                            head, mid, tail, self.key])
        return 1

    def sealed(self, i: int) -> int:
        """Prototype of the other fix: append = a plain INSERT into a pending table; whichever writer gets
        the sealing lock (try, never wait) chains everything pending in one batch under the ledger lock."""
        self.plain(i, table=PENDING_TABLE)
        now = time.perf_counter()
        if now - self.last_seal < SEAL_EVERY_S:
            return 1
        self.last_seal = now
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [SEAL_LOCK])
            if not cursor.fetchone()[0]:
                return 1
            try:
                seal()
            finally:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [SEAL_LOCK])
        return 1

    def run(self, variant: str, start_at: float, duration: float) -> dict:
        # <variant>_async_commit: the variant on a session with synchronous_commit = off.
        async_commit = variant.endswith("_async_commit")
        step = getattr(self, variant.removesuffix("_async_commit"))
        self.trace = dict.fromkeys(("lock_wait_s", "held_s", "head_read_s", "insert_s", "commit_s", "other_sql_s",
                                    "total_s", "statements"), 0)
        n = len(self.calls)
        if async_commit:
            with self.connection.cursor() as cursor:
                cursor.execute("SET synchronous_commit = off")
        while time.time() < start_at:
            time.sleep(0.001)
        started = time.time()
        deadline = started + duration
        i = appended = calls = 0
        while time.time() < deadline:
            appended += step(i % n)
            i += 1
            calls += 1
        result = {"appended": appended, "calls": calls, "started": started, "finished": time.time()}
        if async_commit:
            with self.connection.cursor() as cursor:
                cursor.execute("RESET synchronous_commit")
        if variant == "connect_traced":
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


def seal(limit: int = 2000) -> int:
    """Chains pending entries in id order, `limit` at a time, under the ledger lock (so record() can run
    alongside): one head read, one DELETE ... RETURNING, entry_digest per entry, one multi-row INSERT, one
    COMMIT per batch. Returns how many it sealed."""
    from django.db import connection, transaction

    from audit.chain import entry_digest
    from audit.services import _LEDGER_LOCK, _chain_head

    columns = ("seq", *PLAIN_COLUMNS, "prev_hash", "entry_hash")
    sealed = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LEDGER_LOCK])
            cursor.execute(f"DELETE FROM {PENDING_TABLE} WHERE id IN (SELECT id FROM {PENDING_TABLE} ORDER BY id "
                           f"LIMIT {limit}) RETURNING id, {', '.join(PLAIN_COLUMNS)}")
            pending = sorted(cursor.fetchall())
            if not pending:
                return sealed
            seq, prev_hash = _chain_head()
            params = []
            for _id, *values in pending:
                row = dict(zip(PLAIN_COLUMNS, values, strict=True))
                if isinstance(row["detail"], str):
                    row["detail"] = json.loads(row["detail"])
                seq += 1
                row["seq"] = seq
                entry_hash = entry_digest(row, prev_hash)
                params += [seq, *values[:-1], json.dumps(row["detail"]), prev_hash, entry_hash]
                prev_hash = entry_hash
            one = f"({', '.join(['%s'] * len(columns))})"
            cursor.execute(f"INSERT INTO audit_accessentry ({', '.join(columns)}) VALUES "
                           + ", ".join([one] * len(pending)), params)
        sealed += len(pending)
        if len(pending) < limit:
            return sealed


def writer_main(pipe, index: int, env: dict) -> None:
    setup_django(env, fresh=False)
    writer = Writer(index)
    pipe.send(("ready", os.getpid()))
    while True:
        message = pipe.recv()
        if message is None:
            break
        pipe.send(writer.run(**message))


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

    def run(self, variant: str, duration: float, writers: int | None = None) -> dict:
        pipes = self.pipes[:writers or len(self.pipes)]
        start_at = time.time() + 0.3
        stalls = pressure_totals()
        for pipe in pipes:
            pipe.send({"variant": variant, "start_at": start_at, "duration": duration})
        results = [pipe.recv() for pipe in pipes]
        wall = max(r["finished"] for r in results) - min(r["started"] for r in results)
        appended = sum(r["appended"] for r in results)
        out = {"writers": len(pipes), "appended": appended, "wall_s": round(wall, 3),
               "per_s": round(appended / wall, 1),
               "per_writer": [r["appended"] for r in results],
               "start_spread_ms": round((max(r["started"] for r in results) - min(r["started"] for r in results))
                                        * 1000, 2),
               "pressure_stall_share": pressure_share(stalls, wall + 0.3)}
        if variant == "connect_traced":
            out["trace"] = trace_summary([r["trace"] for r in results], appended, wall)
        if variant == "sealed":
            from django.db import connection

            with connection.cursor() as cursor:
                cursor.execute(f"SELECT count(*) FROM {PENDING_TABLE}")
                out["pending_at_end"] = cursor.fetchone()[0]
            started = time.perf_counter()
            out["drained"] = seal()
            out["drain_s"] = round(time.perf_counter() - started, 3)
        return out

    def close(self) -> None:
        for pipe in self.pipes:
            pipe.send(None)
        for process in self.processes:
            process.join(timeout=30)


def trace_summary(traces: list[dict], appended: int, wall: float) -> dict:
    total = {key: sum(t[key] for t in traces) for key in traces[0]}

    def per(key: str) -> float:
        return round(total[key] / appended * 1000, 3)

    held = total["held_s"]
    return {
        "ms_per_append": {
            "total": per("total_s"), "lock_wait": per("lock_wait_s"), "held": per("held_s"),
            "held_head_read": per("head_read_s"), "held_insert": per("insert_s"), "held_commit": per("commit_s"),
            "held_python": round((held - total["head_read_s"] - total["insert_s"] - total["commit_s"])
                                 / appended * 1000, 3),
            "before_lock_groups_sql": per("other_sql_s"),
            "before_lock_other": round((total["total_s"] - total["lock_wait_s"] - held - total["other_sql_s"])
                                       / appended * 1000, 3)},
        "statements_per_append": round(total["statements"] / appended, 2),
        "lock_utilisation": round(held / wall, 3),
        "ceiling_per_s_if_lock_bound": round(appended / held, 1),
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
        cursor.execute(f"ALTER TABLE {PLAIN_TABLE} DROP COLUMN seq, DROP COLUMN prev_hash, DROP COLUMN entry_hash")
        # The sealing prototype's pending entries: the same columns, only a primary key (entries stay seconds).
        cursor.execute(f"DROP TABLE IF EXISTS {PENDING_TABLE}")
        cursor.execute(f"CREATE TABLE {PENDING_TABLE} (LIKE {PLAIN_TABLE} INCLUDING DEFAULTS INCLUDING IDENTITY)")
        cursor.execute(f"ALTER TABLE {PENDING_TABLE} ADD PRIMARY KEY (id)")


# The prototype of the fix: lock, head read, hash and INSERT in one PL/pgSQL function, called as one statement
# in autocommit, so the lock is held for the function and the COMMIT's WAL flush only -- no client round trip
# while it is held. It writes the very hash record() writes (entry_digest's canonical JSON, assembled around
# the seq and `at` taken under the lock), so ledger_verify() checks its entries like any others.
PROTOTYPE_SQL = """
CREATE OR REPLACE FUNCTION bench_ledger_append(
    p_actor_id bigint, p_actor_label text, p_action text, p_target_type text, p_target_code text,
    p_camera_code text, p_owner_code text, p_incident_code text, p_case_number text, p_reason text,
    p_detail jsonb, p_head text, p_mid text, p_tail text, p_key bytea) RETURNS bigint AS $$
DECLARE
    v_seq bigint;
    v_prev text;
    v_at timestamptz;
BEGIN
    PERFORM pg_advisory_xact_lock(%(lock)s);
    SELECT seq, entry_hash INTO v_seq, v_prev FROM audit_accessentry ORDER BY seq DESC LIMIT 1;
    IF NOT FOUND THEN
        SELECT upto_seq, last_hash INTO v_seq, v_prev FROM audit_ledgercheckpoint ORDER BY upto_seq DESC LIMIT 1;
        IF NOT FOUND THEN
            v_seq := 0;
            v_prev := repeat('0', 64);
        END IF;
    END IF;
    v_seq := v_seq + 1;
    v_at := clock_timestamp();  -- taken under the lock, as record() does
    INSERT INTO audit_accessentry (seq, at, actor_id, actor_label, action, target_type, target_code, camera_code,
                                   owner_code, incident_code, case_number, reason, detail, prev_hash, entry_hash)
    VALUES (v_seq, v_at, p_actor_id, p_actor_label, p_action, p_target_type, p_target_code, p_camera_code,
            p_owner_code, p_incident_code, p_case_number, p_reason, p_detail, v_prev,
            encode(%(digest)s(convert_to(v_prev || E'\\n' || p_head || '"'
                || to_char(v_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+00:00"'
                || p_mid || v_seq::text || p_tail, 'UTF8')%(key)s), 'hex'));
    RETURN v_seq;
END;
$$ LANGUAGE plpgsql;
"""


def digest_mode() -> str:
    """Which digest audit.chain.entry_digest computes: 'sha256' (plain, before commit 441626d) or 'hmac'
    (HMAC-SHA-256 under a key derived from CONNECT_LEDGER_KEY); the prototype computes the same in SQL."""
    import hashlib
    import hmac
    from datetime import UTC, datetime

    from audit import chain

    values = dict.fromkeys(chain.FIELDS, "") | {"seq": 1, "at": datetime(2026, 1, 1, tzinfo=UTC), "detail": {}}
    content = values | {"at": "2026-01-01T00:00:00.000000+00:00"}
    message = (chain.GENESIS + "\n" + json.dumps(content, sort_keys=True, separators=(",", ":"),
                                                 ensure_ascii=False)).encode()
    got = chain.entry_digest(values, chain.GENESIS)
    if got == hashlib.sha256(message).hexdigest():
        return "sha256"
    if hasattr(chain, "_key") and got == hmac.new(chain._key(), message, hashlib.sha256).hexdigest():
        return "hmac"
    raise RuntimeError("audit.chain.entry_digest changed: the one_statement prototype needs updating")


def digest_key() -> bytes:
    from audit import chain

    return chain._key() if digest_mode() == "hmac" else b""


def make_prototype() -> str:
    from django.db import connection

    from audit.services import _LEDGER_LOCK

    mode = digest_mode()
    digest = {"sha256": ("sha256", ""), "hmac": ("hmac", ", p_key, 'sha256'")}[mode]
    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pgcrypto")  # hmac(); this database only
        cursor.execute(PROTOTYPE_SQL.replace("%(lock)s", str(_LEDGER_LOCK)).replace("%(digest)s", digest[0])
                       .replace("%(key)s", digest[1]))
    return mode


def index_counts() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename, count(*) FROM pg_indexes WHERE tablename IN (%s, 'audit_accessentry') "
                       "GROUP BY tablename", [PLAIN_TABLE])
        return dict(cursor.fetchall())


# --- appends --------------------------------------------------------------------------------------------

def appends(env: dict, quick: bool) -> dict:
    from audit.services import ledger_verify

    rounds, duration = (1, 3.0) if quick else (3, 10.0)
    diag = 2.0 if quick else 8.0
    log(f"appends: starting {WRITERS} writer processes")
    writers = Writers(env, WRITERS)
    try:
        # Warm-up: imports, connections, plans.
        writers.run("connect", 0.5)
        writers.run("plain", 0.5)
        writers.run("one_statement", 0.5)
        writers.run("sealed", 0.5)
        runs = {"connect": [], "plain": [], "one_statement": [], "sealed": []}
        for r in range(rounds):
            order = list(runs)[r % len(runs):] + list(runs)[:r % len(runs)]
            for variant in order:
                result = writers.run(variant, duration)
                runs[variant].append(result)
                log(f"appends: round {r + 1} {variant}: {result['per_s']}/s ({result['appended']} in "
                    f"{result['wall_s']} s, per writer {result['per_writer']})")
        diagnostics = {}
        for variant, n in (("connect_traced", None), ("plain_orm", None), ("connect_async_commit", None),
                           ("one_statement_async_commit", None),
                           ("connect_1_writer", 1), ("plain_1_writer", 1), ("one_statement_1_writer", 1),
                           ("sealed_1_writer", 1)):
            name = variant.removesuffix("_1_writer")
            result = writers.run(name, diag, writers=n)
            diagnostics[variant] = result
            log(f"appends: {variant}: {result['per_s']}/s" + (f" {result['trace']}" if "trace" in result else ""))
    finally:
        writers.close()
    connect_rate = statistics.median(r["per_s"] for r in runs["connect"])
    plain_rate = statistics.median(r["per_s"] for r in runs["plain"])
    fixed_rate = statistics.median(r["per_s"] for r in runs["one_statement"])
    sealed_rate = statistics.median(r["per_s"] for r in runs["sealed"])
    started = time.perf_counter()
    check = ledger_verify()
    log(f"appends: chain after the writers: {check.checked} entries, ok={check.ok} {check.problem}")
    return {
        "writers": WRITERS, "rounds": rounds, "seconds_per_round": duration,
        "connect_per_s": round(connect_rate, 1), "plain_per_s": round(plain_rate, 1),
        "ratio": _data.ratio(connect_rate, plain_rate), "target_ratio": 0.5,
        "target_met": connect_rate / plain_rate >= 0.5,
        "prototype_one_statement_per_s": round(fixed_rate, 1),
        "prototype_ratio": _data.ratio(fixed_rate, plain_rate),
        "prototype_sealed_per_s": round(sealed_rate, 1),
        "prototype_sealed_ratio": _data.ratio(sealed_rate, plain_rate),
        "rounds_detail": runs, "diagnostics": diagnostics,
        "indexes": index_counts(),
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
    from audit.services import _chain_head

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
    from audit.services import ledger_verify

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
        result_mode = make_prototype()
        result = {"benchmark": "ledger", "quick": args.quick, "code_commit": code_commit(),
                  "entry_digest": result_mode, "load_avg_1m_at_start": round(os.getloadavg()[0], 2)}
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
