"""`record` is the one way to write the access ledger. audit imports no other app: callers pass plain values.

Writing is split in two, so that writers do not queue behind one another (batch sealing, a group commit):

1. `record()` / `record_many()` insert the entry into the pending table (`PendingEntry`), in the caller's
   transaction and without any lock. A rolled-back transaction leaves nothing behind.
2. Sealing moves pending entries into the chain, oldest first, in batches under one advisory lock: one call
   that takes the lock and reads the chain's head with the batch, an HMAC per entry, then one round trip with
   the INSERT (which also deletes the pending rows), its COMMIT and the unlock.

Who seals: normally the sealer process (audit/sealer.py, `manage.py seal_ledger --follow`), every few tens of
milliseconds, and then `record()` is the pending INSERT alone. When no sealer runs, the writer seals, right
after its entry is committed -- at once in autocommit (a view, a task), or when the caller's transaction
commits (`transaction.on_commit`), so the lock is never held for a caller's transaction. It tries the lock: if
it is free, the writer seals everything pending, its own entry included, before returning; if another writer is
sealing, it returns at once and leaves its entry to that one, which looks for pending entries again after
unlocking and goes on while there are any (for at most SEAL_EXTRA_S once its own are in). If a process dies
between the two steps its entries stay pending, and the next seal takes them: the sealer's, the next writer's,
`audit_verify`'s, or the beat task's every minute (`ledger_seal`).

So an entry joins the chain within milliseconds of its commit. Chain order (`seq`) is sealing order; `at` is
when `record()` was called. In autocommit a record() costs one round trip (the pending INSERT and its COMMIT;
without a sealer also the try for the lock, and if it gets it the head and the batch), plus one if it seals
(the sealing INSERT, its COMMIT and the unlock). The staff member's role ("unit") is read by the pending INSERT
itself.
"""

import json
import logging
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice

from django.db import connection, transaction
from django.utils import timezone

from audit import transparency
from audit.actions import Action
from audit.chain import FIELDS, GENESIS, VerifyResult, checkpoint_signature, entry_digest, pending_mac
from audit.models import AccessEntry, LedgerCheckpoint, PendingEntry
from audit.sealer import sealer_running

log = logging.getLogger(__name__)

# Sealing holds this advisory lock, so two seals never chain to the same entry: for the session in autocommit
# (taken and released in the same round trips as the statements around it), for the transaction otherwise; the
# two kinds exclude each other. Migration 0004's functions use the same number.
_LEDGER_LOCK = 0x636F6E6E  # "conn"
_PURGE_LOCK = 0x70757267  # "purg": one retention purge at a time
SEAL_BATCH = 1000  # pending entries chained per transaction
SEAL_EXTRA_S = 0.02  # how long a writer goes on sealing others' entries once its own are in the chain
SEAL_DRAIN_S = 30.0  # the same for the beat task and audit_verify
_CONTENT = FIELDS[1:]  # at, actor_id, ..., detail: what a pending entry holds
# The staff member's role(s) at the time, as owners see them instead of a name ("unit"), are read by the INSERT
# from the role tables (migration 0004's audit_actor_unit): they are the database's own, so a MAC over them would
# add nothing, and the INSERT saves the round trip a query from here would cost.
_PENDING_ROW = f"({', '.join(['%s'] * (len(_CONTENT) + 2))}, audit_actor_unit(%s))"
_PENDING_ROW_NO_USER = f"({', '.join(['%s'] * (len(_CONTENT) + 2))}, '')"  # the system, 'owner': no roles
_PENDING_INSERT = f"INSERT INTO audit_pendingentry (id, {', '.join(_CONTENT)}, mac, unit) VALUES "
_SEAL_INSERT = (
    # Only the chain's columns travel: the content is copied from the pending rows, which the same statement
    # deletes; at its end the database checks that each has its identical copy in the chain (migration 0004). A
    # pending row gone since the batch was read would leave NULLs, which the chain refuses: no gap in `seq`.
    "WITH v AS (SELECT * FROM unnest(%s::bigint[], %s::uuid[], %s::text[], %s::text[]) "
    "AS v(seq, id, prev_hash, entry_hash)), "
    "sealed AS (DELETE FROM audit_pendingentry WHERE id = ANY(ARRAY(SELECT id FROM v))) "
    f"INSERT INTO audit_accessentry (seq, {', '.join(_CONTENT)}, prev_hash, entry_hash, pending_id) "
    f"SELECT v.seq, {', '.join(f'p.{name}' for name in _CONTENT[:-1])}, "
    "CASE WHEN p.unit = '' THEN p.detail ELSE jsonb_build_object('unit', p.unit) || p.detail END, "
    "v.prev_hash, v.entry_hash, p.id "
    "FROM v LEFT JOIN audit_pendingentry p ON p.id = v.id ORDER BY v.seq")
# For the sealing transaction: the pending table churns, and its statistics (taken when it was nearly empty)
# make a sequential scan look free, which under load reads every dead row autovacuum has not yet removed, with
# the ledger's lock held: seconds, once. By key, it is always a few index probes. (The migration's functions
# carry the same setting.)
_NO_SCANS = "SET LOCAL enable_seqscan = off"
_INSERT_CHUNK = 1000  # rows per multi-row INSERT
_TEXT = ("actor_label", "action", "target_type", "target_code", "camera_code", "owner_code", "incident_code",
         "case_number", "reason")


def _time_ordered_uuid() -> str:
    """A UUID whose first 48 bits are the time in milliseconds (the layout of UUIDv7): new pending entries, and
    the chain's `pending_id`, go at the end of their indexes instead of at random places in them, which
    spares the database a page write (and a full-page image in the WAL) per entry."""
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10), "big")
    value = (value & ~(0xF << 76)) | (0x7 << 76)  # version 7
    value = (value & ~(0x3 << 62)) | (0x2 << 62)  # RFC 4122 variant
    return str(uuid.UUID(int=value))


def _label(actor) -> tuple[int | None, str]:
    if actor is None:
        return None, "system"
    if isinstance(actor, str):
        return None, actor
    return actor.pk, actor.get_username()


def _chain_head() -> tuple[int, str]:
    last = AccessEntry.objects.order_by("-seq").values_list("seq", "entry_hash").first()
    if last:
        return last
    checkpoint = LedgerCheckpoint.objects.order_by("-upto_seq").values_list("upto_seq", "last_hash").first()
    return checkpoint or (0, GENESIS)


def entry(
    *, actor, action: Action, target_type: str = "", target_code="", camera_code="", owner_code="",
    incident_code="", case_number: str = "", reason: str = "", **detail,
) -> dict:
    """The values of one ledger entry, not yet written: for `record_many`. The actor's role ("unit" in
    `detail`) is added when it is written."""
    actor_id, actor_label = _label(actor)
    values = {
        "actor_id": actor_id, "actor_label": actor_label, "action": Action(action).value,  # undeclared: ValueError
        "target_type": target_type, "target_code": str(target_code or ""), "camera_code": str(camera_code or ""),
        "owner_code": str(owner_code or ""), "incident_code": str(incident_code or ""), "case_number": case_number,
        "reason": reason, "detail": detail,
    }
    # Looking is cheaper than rebuilding every entry.
    if any(isinstance(values[name], str) and "\x00" in values[name] for name in _TEXT):
        values = _nul_free(values)
    return values


def _nul_free(value):
    """PostgreSQL text and JSONB cannot hold NUL characters, and entries often quote what a user typed (a
    search, a query string): a NUL becomes U+FFFD, so the entry is kept and shows something was there."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_nul_free(key): _nul_free(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_nul_free(item) for item in value]
    return value


def record(*, actor, action: Action, **fields) -> None:
    """Records one entry. `actor` is a user, a label such as 'owner', or None for the system.

    Returns nothing: the entry gets its place in the chain (`seq`, hashes) only when sealed. Read the ledger
    through audit.selectors."""
    record_many([entry(actor=actor, action=action, **fields)])


def record_many(entries: list[dict]) -> None:
    """Records entries in one go (purges write thousands): one multi-row INSERT, sealed together."""
    if not entries:
        return
    now = timezone.now()  # the time of the event, whenever it is sealed
    # Sealing takes entries in (at, id) order; sorted ids keep these, which share `at`, in the order given.
    ids = sorted(_time_ordered_uuid() for _ in entries)
    rows = []
    for values, pending_id in zip(entries, ids, strict=True):
        # JSON round trip so the MAC and the hash cover exactly what the database will give back.
        detail_json = json.dumps(values["detail"], default=str)
        if "\\u0000" in detail_json:  # a NUL somewhere in it (or a user's literal "\u0000": harmless)
            detail_json = json.dumps(_nul_free(json.loads(detail_json)))
        values = {**values, "at": now, "detail": json.loads(detail_json)}
        row = [pending_id, *[values[name] for name in _CONTENT[:-1]], detail_json, pending_mac(values, pending_id)]
        rows.append((_PENDING_ROW, [*row, values["actor_id"]]) if values["actor_id"] is not None
                    else (_PENDING_ROW_NO_USER, row))
    inserts = [(_PENDING_INSERT + ", ".join(template for template, _ in chunk), [p for _, row in chunk for p in row])
               for chunk in (rows[i:i + _INSERT_CHUNK] for i in range(0, len(rows), _INSERT_CHUNK))]
    if connection.in_atomic_block:
        _pending_insert(inserts)
        if not sealer_running():
            _seal_on_commit(ids)
    elif sealer_running():
        _pending_insert(inserts)  # the sealer chains it within milliseconds (audit/sealer.py)
    elif _own_transactions():
        _record_and_seal(inserts, ids)
    else:
        _pending_insert(inserts)
        if connection.get_autocommit():
            _seal_quietly(ids)
        # Otherwise the caller manages its transaction by hand: the next seal after its commit takes them.


def ledger_seal() -> int:
    """Seals everything pending (the beat task every minute, audit_verify), waiting for the lock if need be;
    returns how many entries it sealed. Call it outside a transaction: inside one, the lock is the
    transaction's and stays taken until it ends."""
    return _seal(wait=True, extra_s=SEAL_DRAIN_S)


def _pending_insert(inserts: list[tuple[str, list]]) -> None:
    with connection.cursor() as cursor:
        for sql, params in inserts:
            cursor.execute(sql, params)


def _record_and_seal(inserts: list[tuple[str, list]], ids: list[str]) -> None:
    """In autocommit: the pending INSERT, its COMMIT and the try for the seal go in one round trip."""
    prelude = ("BEGIN; " + "".join(f"{sql}; " for sql, _ in inserts) + "COMMIT; ",
               [p for _, params in inserts for p in params], 2 + len(inserts))
    try:
        _seal(own=ids, prelude=prelude)
    except Exception:
        # The INSERT failing is the caller's error; the seal failing after it is not.
        if not (PendingEntry.objects.filter(id=ids[0]).exists() or AccessEntry.objects.filter(
                pending_id=ids[0]).exists()):
            raise
        log.exception("the access ledger could not seal %d entries now; they stay pending for the next seal",
                      len(ids))


def _own_transactions() -> bool:
    """Whether this code may send BEGIN, COMMIT and the lock's release itself, in the same round trip as other
    statements: in autocommit, outside any atomic block, with psycopg 3's client-side binding (Django's
    default), where one execute() may carry several statements. Then the lock is held across one client round
    trip only: from the batch it returned to the sealing INSERT, COMMIT and unlock."""
    from django.db.backends.postgresql.psycopg_any import is_psycopg3

    return (is_psycopg3 and not connection.in_atomic_block and connection.get_autocommit()
            and not connection.settings_dict.get("OPTIONS", {}).get("server_side_binding"))


def _seal_on_commit(ids: list[str]) -> None:
    """One seal per transaction, however many entries it records (a camera import records hundreds)."""
    for _savepoints, func, _robust in connection.run_on_commit:  # Django's (savepoint ids, func, robust)
        if hasattr(func, "ledger_ids"):
            # Entries from a savepoint later rolled back stay in this list: they are simply never pending.
            func.ledger_ids.extend(ids)
            return

    def ledger_entries_seal():
        _seal_quietly(ledger_entries_seal.ledger_ids)

    ledger_entries_seal.ledger_ids = list(ids)
    # robust: the caller's transaction has committed; a failed seal leaves the entries pending for the next.
    transaction.on_commit(ledger_entries_seal, robust=True)


def _seal_quietly(ids: list[str]) -> None:
    """A failure is logged, not raised: the entries are committed in the pending table, and the next seal (the
    next writer's, the beat task's) takes them."""
    try:
        _seal(own=ids)
    except Exception:
        log.exception("the access ledger could not seal %d entries now; they stay pending for the next seal",
                      len(ids))


def _seal(*, own: list[str] | None = None, wait: bool = False, extra_s: float = 0.0, prelude: tuple | None = None
          ) -> int:
    """Seals pending entries in batches; returns how many. A writer (`own`: its entries) tries the lock and,
    if it gets it, goes on while entries are pending, for at most `SEAL_EXTRA_S` once its own are sealed; if
    it does not, the seal in progress takes its entries. `wait`: wait for the lock (the beat task, audit_verify).
    `prelude`: statements sent ahead of the first try, in the same round trip (sql, params, how many)."""
    if not _own_transactions():
        return _seal_in_transaction()
    extra_s = extra_s or SEAL_EXTRA_S
    sealed, skip, own_done_at = 0, [], None
    with connection.cursor() as cursor:
        while True:
            result = _seal_round(cursor, wait=wait, skip=skip, own=own, prelude=prelude or ("", [], 0))
            prelude, wait = None, False
            if result is None:
                return sealed  # a seal is in progress: it takes what is pending, ours too
            count, more, own_pending = result
            sealed += count
            if not more:
                return sealed
            if not own_pending:
                own_done_at = own_done_at or time.monotonic()
                if time.monotonic() - own_done_at > extra_s:
                    return sealed  # the next writer takes the rest (or the beat task)


# The try for the lock and, only if it succeeds, the head and the batch, in one statement (the function is
# volatile, so its query takes a new snapshot, after the lock).
_TRY_SEAL_BATCH = (f"SELECT b.* FROM (SELECT pg_try_advisory_lock({_LEDGER_LOCK}) AS got OFFSET 0) l, "
                   "LATERAL audit_ledger_seal_batch(CASE WHEN l.got THEN %s END, %s::uuid[]) b WHERE l.got")


def _seal_round(cursor, *, wait: bool, skip: list[str], own: list[str] | None, prelude: tuple
                ) -> tuple[int, bool, bool] | None:
    """One batch, in autocommit, with the lock held for the session: the (try for the) lock, the head and the
    batch in one round trip, after `prelude` (a writer's INSERT and COMMIT); then BEGIN, the INSERT, COMMIT
    and audit_ledger_seal_end in another. Returns None if the lock was taken, else (how many sealed, whether
    entries are pending after the unlock, whether `own` are)."""
    pre_sql, pre_params, skip_results = prelude
    try:
        if wait:
            cursor.execute(pre_sql + "SELECT * FROM audit_ledger_seal_begin(true, true, %s, %s::uuid[])",
                           [*pre_params, SEAL_BATCH, skip])
        else:
            cursor.execute(pre_sql + _TRY_SEAL_BATCH, [*pre_params, SEAL_BATCH, skip])
        for _ in range(skip_results):
            cursor.nextset()
        rows = cursor.fetchall()
        if not rows:
            return None  # a seal is in progress: its audit_ledger_seal_end will see our entries
        sql, params, ids = _seal_insert(rows, skip)
        end = "SELECT * FROM audit_ledger_seal_end(%s::uuid[], %s::uuid[])"
        # COMMIT, then the unlock: the next seal must find this one's entries in the chain.
        cursor.execute(f"BEGIN; {_NO_SCANS}; {sql}; COMMIT; {end}" if ids else end, [*params, skip, own])
        for _ in range(4 if ids else 0):
            cursor.nextset()
        more, own_pending = cursor.fetchone()
    except BaseException:
        _unlock(cursor)
        raise
    return len(ids), more, own_pending


def _seal_in_transaction() -> int:
    """Sealing inside transactions Django manages (a test's transaction; or a connection where one execute()
    cannot carry several statements): the lock for the transaction, waited for; batches until one is short."""
    sealed, skip = 0, []
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT * FROM audit_ledger_seal_begin(true, false, %s, %s::uuid[])", [SEAL_BATCH, skip])
            rows = cursor.fetchall()
            sql, params, ids = _seal_insert(rows, skip)
            if ids:
                cursor.execute("SELECT current_setting('enable_seqscan')")
                scans = cursor.fetchone()[0]
                cursor.execute(_NO_SCANS)
                cursor.execute(sql, params)
                cursor.execute("SELECT set_config('enable_seqscan', %s, true)", [scans])  # as it was
        sealed += len(ids)
        if sum(1 for row in rows if row[2] is not None) < SEAL_BATCH:
            return sealed


def _seal_insert(rows: list[tuple], skip: list[str]) -> tuple[str, list, list[str]]:
    """The sealing INSERT for a batch from audit_ledger_seal_begin: each entry chained to the one before with
    entry_digest, after its MAC is checked (an entry without a valid one goes to `skip`, never sealed)."""
    seq, prev_hash = rows[0][0], rows[0][1]
    seqs, ids, prev_hashes, entry_hashes = [], [], [], []
    for pending_id, *content, mac, unit in (row[2:] for row in rows if row[2] is not None):
        values = dict(zip(_CONTENT, content, strict=True))
        detail_text = values["detail"]  # jsonb comes back as text (Django's loader)
        values["detail"] = json.loads(detail_text) if isinstance(detail_text, str) else detail_text
        pending_id = str(pending_id)
        if mac != pending_mac(values, pending_id):
            log.error("pending ledger entry %s does not carry this server's MAC: not sealed (audit_verify reports "
                      "it)", pending_id)
            skip.append(pending_id)
            continue
        if unit:  # as the INSERT merges it
            values["detail"] = {"unit": unit, **values["detail"]}
        seq += 1
        entry_hash = entry_digest({**values, "seq": seq}, prev_hash)
        seqs.append(seq)
        ids.append(pending_id)
        prev_hashes.append(prev_hash)
        entry_hashes.append(entry_hash)
        prev_hash = entry_hash
    if not ids:
        return "", [], []
    return _SEAL_INSERT, [seqs, ids, prev_hashes, entry_hashes], ids


def _unlock(cursor) -> None:
    """After an error: ends the transaction and releases the session's ledger lock, if it holds it."""
    from psycopg.pq import TransactionStatus

    if connection.is_usable():
        if connection.connection.info.transaction_status != TransactionStatus.IDLE:
            cursor.execute("ROLLBACK")
        cursor.execute("SELECT pg_advisory_unlock(%s) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                       "AND pid = pg_backend_pid() AND classid = 0 AND objid = %s AND objsubid = 1",
                       [_LEDGER_LOCK, _LEDGER_LOCK])


def _json_roundtrip(data: dict) -> dict:
    return json.loads(json.dumps(data, default=str))


@dataclass
class PendingCheck:
    """The pending table as audit_verify sees it."""

    count: int = 0
    stale: int = 0  # written by record() longer ago than the threshold, and still not sealed
    oldest_at: datetime | None = None
    forged: list[str] = field(default_factory=list)  # rows sealing will never take, and why


def ledger_pending(*, older_than: timedelta) -> PendingCheck:
    """Looks at every pending entry (normally none, or the last milliseconds' worth): how many, how many were
    recorded more than `older_than` ago, and which were not written by `record()` (no valid MAC, or a copy of
    an entry already sealed)."""
    cutoff = timezone.now() - older_than
    check = PendingCheck()
    rows = PendingEntry.objects.order_by("at", "id").values("id", *_CONTENT, "mac").iterator(chunk_size=SEAL_BATCH)
    while chunk := list(islice(rows, SEAL_BATCH)):
        copies = dict(AccessEntry.objects.filter(pending_id__in=[row["id"] for row in chunk])
                      .values_list("pending_id", "seq"))
        for row in chunk:
            check.count += 1
            check.oldest_at = check.oldest_at or row["at"]
            when = row["at"].strftime("%Y-%m-%d %H:%M:%S")
            if row["mac"] != pending_mac(row, row["id"]):
                check.forged.append(f"pending entry {row['id']} ({row['action']}, recorded at {when}) was not "
                                    "written by record(): it has no valid MAC")
            elif row["id"] in copies:
                check.forged.append(f"pending entry {row['id']} ({row['action']}, recorded at {when}) is a copy of "
                                    f"entry {copies[row['id']]}, which is already sealed")
            elif row["at"] < cutoff:
                check.stale += 1
    return check


def ledger_verify(*, batch: int = 5000) -> VerifyResult:
    """Walks the chain from the latest checkpoint and names the first entry that was changed, removed or
    inserted."""
    checkpoint = LedgerCheckpoint.objects.order_by("-upto_seq").first()
    expected_seq, prev_hash = (0, GENESIS)
    if checkpoint:
        if checkpoint.signature != checkpoint_signature(checkpoint.upto_seq, checkpoint.last_hash):
            return VerifyResult(0, f"the checkpoint at entry {checkpoint.upto_seq} is not signed by this server",
                                checkpoint.upto_seq)
        expected_seq, prev_hash = checkpoint.upto_seq, checkpoint.last_hash
    # The walk starts after the checkpoint (or at 1): a row placed before that would otherwise go unseen.
    stray = AccessEntry.objects.filter(seq__lte=expected_seq).order_by("seq").values_list("seq", flat=True).first()
    if stray is not None:
        return VerifyResult(0, f"entry {stray} lies before the start of the chain (entry {expected_seq + 1}): "
                            "it was inserted", stray)
    checked = 0
    last_seq = expected_seq
    while True:
        rows = list(AccessEntry.objects.filter(seq__gt=last_seq).order_by("seq")
                    .values(*FIELDS, "prev_hash", "entry_hash")[:batch])
        if not rows:
            return VerifyResult(checked)
        for row in rows:
            expected_seq += 1
            if row["seq"] != expected_seq:
                return VerifyResult(checked, f"entries {expected_seq} to {row['seq'] - 1} were removed", expected_seq)
            if row["prev_hash"] != prev_hash:
                return VerifyResult(checked, f"entry {row['seq']} does not follow entry {row['seq'] - 1}: an entry "
                                    "was inserted or replaced here", row["seq"])
            if entry_digest(row, prev_hash) != row["entry_hash"]:
                return VerifyResult(checked, f"entry {row['seq']} was changed after it was written", row["seq"])
            prev_hash = row["entry_hash"]
            last_seq = row["seq"]
            checked += 1


def ledger_purge(*, batch: int = 10000) -> int:
    """Deletes entries older than CONNECT_LEDGER_KEEP_DAYS (never under 365), after leaving a signed checkpoint
    at the last one, so audit_verify continues from there. Idempotent; a purge cut off half-way resumes.

    It holds a lock of its own, not the ledger's: sealing appends after the last entry and the purge removes
    the first ones, so appends carry on meanwhile (if it removes every entry, the next seal still chains to
    the last one, which is what the checkpoint holds)."""
    from django.conf import settings

    cutoff = timezone.now() - timedelta(days=settings.LEDGER_KEEP_DAYS)
    # `at` is the time of the event and `seq` the order of sealing, so `at` may dip slightly along the chain:
    # the purge stops before the first entry that is still too young, whatever follows it.
    old = AccessEntry.objects.filter(at__lt=cutoff)
    first_young = AccessEntry.objects.filter(at__gte=cutoff).order_by("seq").values_list("seq", flat=True).first()
    if first_young is not None:
        old = old.filter(seq__lt=first_young)
    last = old.order_by("-seq").values("seq", "entry_hash").first()
    if last is None:
        return 0
    purged = 0
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PURGE_LOCK])
            cursor.execute("SELECT set_config('connect.ledger_purge', 'on', true), "
                           "set_config('connect.ledger_keep_days', %s, true)", [str(settings.LEDGER_KEEP_DAYS)])
        LedgerCheckpoint.objects.get_or_create(upto_seq=last["seq"], defaults={
            "last_hash": last["entry_hash"], "purged": 0,
            "signature": checkpoint_signature(last["seq"], last["entry_hash"])})
        # Cameras signed into live sharing in the entries about to go, and not stopped since, stay integrated.
        integrated = transparency.integration_replay(AccessEntry.objects.filter(seq__lte=last["seq"]),
                                                     transparency.integrations_carried())
        while True:
            ids = list(AccessEntry.objects.filter(seq__lte=last["seq"]).values_list("pk", flat=True)[:batch])
            if not ids:
                break
            purged += AccessEntry.objects.filter(pk__in=ids).delete()[0]
        LedgerCheckpoint.objects.filter(upto_seq=last["seq"]).update(purged=purged)
        # Recorded with the deletion: the transparency report's "cameras integrated now" reads it
        record(actor=None, action=Action.LEDGER_PURGED, target_type="ledger", upto_seq=last["seq"], entries=purged,
               **{transparency.CARRIED: integrated})
    return purged
