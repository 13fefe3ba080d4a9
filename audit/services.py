"""`record` is the one way to write the access ledger. audit imports no other app: callers pass plain values."""

from django.db import connection, transaction
from django.utils import timezone

from audit.chain import FIELDS, GENESIS, VerifyResult, checkpoint_signature, entry_digest
from audit.models import AccessEntry, LedgerCheckpoint

# Appends are serialised by a transaction-scoped advisory lock, so two writers never chain to the same entry.
_LEDGER_LOCK = 0x636F6E6E  # "conn"


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
    return _nul_free({
        "actor_id": actor_id, "actor_label": actor_label, "action": action,
        "target_type": target_type, "target_code": str(target_code or ""), "camera_code": str(camera_code or ""),
        "owner_code": str(owner_code or ""), "incident_code": str(incident_code or ""), "case_number": case_number,
        "reason": reason, "detail": detail,
    })


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


def record(*, actor, action: str, **fields) -> AccessEntry:
    """Appends one entry. `actor` is a user, a label such as 'owner', or None for the system."""
    return record_many([entry(actor=actor, action=action, **fields)])[0]


def record_many(entries: list[dict]) -> list[AccessEntry]:
    """Appends entries in one go: one lock, one look at the chain's head, one insert (purges write thousands)."""
    if not entries:
        return []
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LEDGER_LOCK])
        seq, prev_hash = _chain_head()
        now = timezone.now()  # taken under the lock, so time order is chain order
        rows = []
        for values in entries:
            seq += 1
            # JSON round trip so the hash covers exactly what the database will give back.
            values = {**values, "seq": seq, "at": now, "detail": _json_roundtrip(values["detail"])}
            entry_hash = entry_digest(values, prev_hash)
            rows.append(AccessEntry(**values, prev_hash=prev_hash, entry_hash=entry_hash))
            prev_hash = entry_hash
        return AccessEntry.objects.bulk_create(rows)


def _json_roundtrip(data: dict) -> dict:
    import json

    return json.loads(json.dumps(data, default=str))


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
    at the last one, so audit_verify continues from there. Idempotent; a purge cut off half-way resumes."""
    from datetime import timedelta

    from django.conf import settings

    cutoff = timezone.now() - timedelta(days=settings.LEDGER_KEEP_DAYS)
    last = AccessEntry.objects.filter(at__lt=cutoff).order_by("-seq").values("seq", "entry_hash").first()
    if last is None:
        return 0
    purged = 0
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LEDGER_LOCK])
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
