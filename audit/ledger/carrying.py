"""Carrying the ledger across a database restore.

A backup's manifest names the chain's head (seq and hash) at the moment of the dump. Restoring that dump would
lose every entry sealed since: the record of what happened after the backup (a clip shredded, a view). When the
live ledger still holds the backup's head, the entries after it continue that very chain, so they are read before
the restore and appended after it unchanged (their hashes, their order): the restored ledger verifies, and tells
everything the live one told.
"""

from dataclasses import dataclass

from django.db import transaction

from audit.chain import FIELDS, GENESIS
from audit.models import AccessEntry, PendingEntry

CARRIED_FIELDS = (*FIELDS, "prev_hash", "entry_hash", "pending_id")


@dataclass(frozen=True)
class Head:
    seq: int
    hash: str


def head() -> Head:
    """The last sealed entry (seq 0 and the genesis hash for an empty ledger)."""
    last = AccessEntry.objects.order_by("-seq").values("seq", "entry_hash").first()
    return Head(last["seq"], last["entry_hash"]) if last else Head(0, GENESIS)


def holds(at: Head) -> bool:
    """Whether this ledger's chain passes through `at` (it continues the chain the head was taken from)."""
    if at.seq == 0:
        return True
    return AccessEntry.objects.filter(seq=at.seq, entry_hash=at.hash).exists()


def entries_after(at: Head) -> list[dict]:
    """The sealed entries after `at`, oldest first, every field the chain needs."""
    return list(AccessEntry.objects.filter(seq__gt=at.seq).order_by("seq").values(*CARRIED_FIELDS))


@transaction.atomic
def entries_append(rows: list[dict]) -> int:
    """Appends entries read by entries_after from a ledger that continued this one's chain (the database allows
    INSERT only; the chain check in audit_verify proves nothing was bent). Entries still pending in this ledger
    that the other had sealed since leave the pending table now, as sealing would have taken them: the database
    lets them go only because their identical copies are now in the chain."""
    AccessEntry.objects.bulk_create([AccessEntry(**row) for row in rows], batch_size=1000)
    sealed_there = [row["pending_id"] for row in rows if row["pending_id"] is not None]
    for start in range(0, len(sealed_there), 1000):
        PendingEntry.objects.filter(id__in=sealed_there[start:start + 1000]).delete()
    return len(rows)
