"""`record` is the one way to write the access ledger. audit imports no other app: callers pass plain values.

Writing is split in two, so that writers never queue behind one another (batch sealing, a group commit):

1. `record()` / `record_many()` insert the entry into the pending table (`PendingEntry`), in the caller's
   transaction and without any lock. A rolled-back transaction leaves nothing behind.
2. Sealing moves pending entries into the chain, oldest first, in batches under one advisory lock: one call
   that takes the lock and reads the chain's head with the batch, an HMAC per entry, one INSERT (which also
   deletes the pending rows), one COMMIT. It runs as soon as the entry is committed: at once in autocommit
   (a view, a task), or when the caller's transaction commits (`transaction.on_commit`), so the lock is never
   held for a caller's transaction. A writer first waits for any seal in progress and then looks whether its
   entries are still pending: usually the writer before it sealed them with its own, and it returns at once.
   If a process dies between the two steps its entries stay pending, and the next seal takes them: the next
   writer's, `audit_verify`'s, or the beat task's every minute (`ledger_seal`).

So outside a transaction `record()` returns once its entry is in the chain; inside one, the entry joins the
chain when the transaction commits. Chain order (`seq`) is sealing order; `at` is when `record()` was called.
"""

import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice

from django.db import connection, transaction
from django.utils import timezone

from audit.chain import FIELDS, GENESIS, VerifyResult, checkpoint_signature, entry_digest, pending_mac
from audit.models import AccessEntry, LedgerCheckpoint, PendingEntry

log = logging.getLogger(__name__)

# Sealing (and the retention purge) hold this transaction-scoped advisory lock, so two seals never chain to the
# same entry. Migration 0004's functions use the same number.
_LEDGER_LOCK = 0x636F6E6E  # "conn"
_PURGE_LOCK = 0x70757267  # "purg": one retention purge at a time
SEAL_BATCH = 1000  # pending entries chained per transaction
_CONTENT = FIELDS[1:]  # at, actor_id, ..., detail: what a pending entry holds
_PENDING_ROW = f"({', '.join(['%s'] * (len(_CONTENT) + 2))})"
_PENDING_INSERT = f"INSERT INTO audit_pendingentry (id, {', '.join(_CONTENT)}, mac) VALUES "
_SEAL_ROW = f"({', '.join(['%s'] * (len(_CONTENT) + 4))})"
_SEAL_INSERT = (
    # The pending rows go in the same statement; at its end the database checks that each has its identical copy
    # in the chain (migration 0004).
    "WITH sealed AS (DELETE FROM audit_pendingentry WHERE id = ANY(%s::uuid[])) "
    f"INSERT INTO audit_accessentry (seq, {', '.join(_CONTENT)}, prev_hash, entry_hash, pending_id) VALUES ")
_INSERT_CHUNK = 1000  # rows per multi-row INSERT


def _label(actor) -> tuple[int | None, str]:
    if actor is None:
        return None, "system"
    if isinstance(actor, str):
        return None, actor
    return actor.pk, actor.get_username()


def _unit(actor) -> str:
    """The staff member's role(s) when it happened: what owners see instead of a name, if so configured."""
    if actor is None or isinstance(actor, str) or not getattr(actor, "pk", None):
        return ""
    return ", ".join(sorted(actor.groups.values_list("name", flat=True)))


def _chain_head() -> tuple[int, str]:
    last = AccessEntry.objects.order_by("-seq").values_list("seq", "entry_hash").first()
    if last:
        return last
    checkpoint = LedgerCheckpoint.objects.order_by("-upto_seq").values_list("upto_seq", "last_hash").first()
    return checkpoint or (0, GENESIS)


def entry(
    *, actor, action: str, target_type: str = "", target_code="", camera_code="", owner_code="",
    incident_code="", case_number: str = "", reason: str = "", **detail,
) -> dict:
    """The values of one ledger entry, not yet written: for `record_many`."""
    actor_id, actor_label = _label(actor)
    unit = _unit(actor)
    if unit:
        detail = {"unit": unit, **detail}
    return {
        "actor_id": actor_id, "actor_label": actor_label, "action": action,
        "target_type": target_type, "target_code": str(target_code or ""), "camera_code": str(camera_code or ""),
        "owner_code": str(owner_code or ""), "incident_code": str(incident_code or ""), "case_number": case_number,
        "reason": reason, "detail": detail,
    }


def record(*, actor, action: str, **fields) -> None:
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
    ids = sorted(str(uuid.uuid4()) for _ in entries)
    params = []
    for values, pending_id in zip(entries, ids, strict=True):
        # JSON round trip so the MAC and the hash cover exactly what the database will give back.
        detail = _json_roundtrip(values["detail"])
        values = {**values, "at": now, "detail": detail}
        params.append([pending_id, *[values[name] for name in _CONTENT[:-1]], json.dumps(detail),
                       pending_mac(values, pending_id)])
    with connection.cursor() as cursor:
        for start in range(0, len(params), _INSERT_CHUNK):
            chunk = params[start:start + _INSERT_CHUNK]
            cursor.execute(_PENDING_INSERT + ", ".join([_PENDING_ROW] * len(chunk)), [p for row in chunk for p in row])
    if _in_test_transaction():
        _seal_now(ids)
    elif connection.in_atomic_block:
        _seal_on_commit(ids)
    elif connection.get_autocommit():
        _seal_own(ids)
    # Otherwise the caller manages its transaction by hand: the next seal after its commit takes the entries.


def ledger_seal() -> int:
    """Seals everything pending (the beat task every minute, audit_verify); returns how many entries."""
    return _seal()


def _in_test_transaction() -> bool:
    """Django's TestCase (pytest-django's `db`) wraps each test in a transaction that is rolled back, never
    committed, so on_commit callbacks never run there. Inside it entries are sealed at once, in the test's
    transaction: what a commit would lead to, for a single writer. Tests with transaction=True take the
    production path."""
    blocks = connection.atomic_blocks
    return bool(blocks) and getattr(blocks[0], "_from_testcase", False)


def _seal_on_commit(ids: list[str]) -> None:
    """One seal per transaction, however many entries it records (a camera import records hundreds)."""
    for _savepoints, func, _robust in connection.run_on_commit:  # Django's (savepoint ids, func, robust)
        if hasattr(func, "ledger_ids"):
            # Entries from a savepoint later rolled back stay in this list: they are simply never pending.
            func.ledger_ids.extend(ids)
            return

    def ledger_entries_seal():
        _seal_own(ledger_entries_seal.ledger_ids)

    ledger_entries_seal.ledger_ids = list(ids)
    # robust: the caller's transaction has committed; a failed seal leaves the entries pending for the next.
    transaction.on_commit(ledger_entries_seal, robust=True)


def _seal_own(ids: list[str]) -> None:
    """After the entries `ids` were committed: waits for any seal in progress, then seals if they are still
    pending. A failure is logged, not raised: the entries are safe in the pending table."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT audit_ledger_await(%s::uuid[])", [ids])
            if not cursor.fetchone()[0]:
                return  # sealed by whoever held the lock before us
        _seal(until=set(ids))
    except Exception:
        log.exception("the access ledger could not seal %d entries now; they stay pending for the next seal",
                      len(ids))


def _seal_now(ids: list[str]) -> None:
    try:
        _seal(until=set(ids))
    except Exception:
        log.exception("the access ledger could not seal %d entries now; they stay pending for the next seal",
                      len(ids))


def _seal(*, until: set[str] | None = None, limit: int = SEAL_BATCH) -> int:
    """Chains pending entries, oldest first, `limit` per transaction. Stops once the entries `until` are
    sealed, or when a batch comes back short (everything pending when it started is sealed)."""
    sealed = 0
    after = (None, None)
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            # Takes the ledger lock, then reads the head and the batch (a fresh snapshot, after the lock).
            cursor.execute("SELECT * FROM audit_ledger_seal_begin(%s, %s, %s::uuid)", [limit, *after])
            rows = cursor.fetchall()
            seq, prev_hash = rows[0][0], rows[0][1]
            batch = [row[2:] for row in rows if row[2] is not None]
            params, ids = [], []
            for pending_id, *content, mac in batch:
                values = dict(zip(_CONTENT, content, strict=True))
                detail_text = values["detail"]  # jsonb comes back as text (Django's loader)
                if not isinstance(detail_text, str):
                    detail_text = json.dumps(detail_text)
                values["detail"] = json.loads(detail_text)
                pending_id = str(pending_id)
                if mac != pending_mac(values, pending_id):
                    log.error("pending ledger entry %s does not carry this server's MAC: not sealed "
                              "(audit_verify reports it)", pending_id)
                    continue
                seq += 1
                entry_hash = entry_digest({**values, "seq": seq}, prev_hash)
                params += [seq, *content[:-1], detail_text, prev_hash, entry_hash, pending_id]
                ids.append(pending_id)
                prev_hash = entry_hash
            if ids:
                cursor.execute(_SEAL_INSERT + ", ".join([_SEAL_ROW] * len(ids)), [ids, *params])
        sealed += len(ids)
        if until is not None:
            until.difference_update(ids)
            if not until:
                return sealed
        if len(batch) < limit:
            return sealed
        after = (batch[-1][1], str(batch[-1][0]))


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
        while True:
            ids = list(AccessEntry.objects.filter(seq__lte=last["seq"]).values_list("pk", flat=True)[:batch])
            if not ids:
                break
            purged += AccessEntry.objects.filter(pk__in=ids).delete()[0]
        LedgerCheckpoint.objects.filter(upto_seq=last["seq"]).update(purged=purged)
    record(actor=None, action="ledger.purged", target_type="ledger", upto_seq=last["seq"], entries=purged)
    return purged
