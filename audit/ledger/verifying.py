"""Checking the ledger: `verify()` walks the chain, `pending()` looks at entries not yet sealed."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice

from django.db.models import Count, Min
from django.utils import timezone

from audit.chain import FIELDS, GENESIS, PENDING_FIELDS, VerifyResult, checkpoint_signature, entry_digest, pending_mac
from audit.ledger.sealing import SEAL_BATCH
from audit.models import AccessEntry, LedgerCheckpoint, PendingEntry


@dataclass
class PendingCheck:
    """The pending table as audit_verify sees it."""

    count: int = 0
    stale: int = 0  # written by record() longer ago than the threshold, and still not sealed
    oldest_at: datetime | None = None
    forged: list[str] = field(default_factory=list)  # rows sealing will never take, and why


@dataclass
class Backlog:
    """Entries recorded and not yet sealed: how many, and how long the oldest has waited (the sealer's lag)."""

    count: int
    lag_seconds: float


def backlog() -> Backlog:
    """One cheap query, for monitoring: normally none pending, or the last milliseconds' worth."""
    summary = PendingEntry.objects.aggregate(count=Count("id"), oldest=Min("at"))
    lag = (timezone.now() - summary["oldest"]).total_seconds() if summary["oldest"] else 0.0
    return Backlog(summary["count"], max(lag, 0.0))


def pending(*, older_than: timedelta) -> PendingCheck:
    """Looks at every pending entry (normally none, or the last milliseconds' worth): how many, how many were
    recorded more than `older_than` ago, and which were not written by `record()` (no valid MAC, or a copy of
    an entry already sealed)."""
    cutoff = timezone.now() - older_than
    check = PendingCheck()
    rows = (PendingEntry.objects.order_by("at", "id").values("id", *PENDING_FIELDS, "mac")
            .iterator(chunk_size=SEAL_BATCH))
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


def verify(*, batch: int = 5000) -> VerifyResult:
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
