"""Public checkpoints of the ledger: a Merkle tree over the chain (audit/merkle.py), grown and signed daily
(`publish()`), and the proofs anyone can ask for (`inclusion()`, `consistency()`) or an owner keeps (`receipt()`).

`audit_verify` needs CONNECT_LEDGER_KEY; these need only the public key. Each leaf is an entry's public fields and
its chain digest recomputed from the row as it is now (audit/receipt_format.py), so a row changed in the database
no longer matches the leaf a checkpoint signed, and a rewritten history cannot extend an earlier checkpoint.
"""

from dataclasses import dataclass
from datetime import UTC, date

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from audit import merkle, signing
from audit.chain import FIELDS, GENESIS, entry_digest
from audit.ledger.locks import PUBLISH_LOCK
from audit.models import AccessEntry, LedgerCheckpoint, LedgerTreeBlock, PublishedCheckpoint
from audit.receipt_format import RECEIPT_FORMAT, leaf_bytes, statement_text

BATCH = 5000
ROW_FIELDS = (*FIELDS, "prev_hash", "entry_hash")


class ChainBroken(Exception):
    """The chain does not verify where the tree would grow: nothing is published until someone looks."""


class ProofUnavailable(ValueError):
    """A proof that cannot be given (an entry outside the tree, sizes the wrong way round): its message says why."""


class NotPublished(ProofUnavailable):
    """No checkpoint of that size was published."""


def public_fields(row: dict) -> dict:
    return {"seq": row["seq"], "at": row["at"].astimezone(UTC).isoformat(timespec="microseconds"),
            "action": row["action"], "camera_code": row["camera_code"], "owner_code": row["owner_code"],
            "case_number": row["case_number"], "reason": row["reason"],
            "digest": entry_digest(row, row["prev_hash"])}


def _leaf(row: dict) -> bytes:
    return merkle.leaf_hash(leaf_bytes(public_fields(row)))


# --- publishing --------------------------------------------------------------------------------------------------

def latest() -> PublishedCheckpoint | None:
    return PublishedCheckpoint.objects.order_by("-tree_size").first()


def publish(*, day: date | None = None) -> PublishedCheckpoint | None:
    """Adds the entries sealed since the last checkpoint to the tree and signs a checkpoint of it; None when there
    is nothing new. Raises ChainBroken (publishing nothing) if those entries do not verify."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PUBLISH_LOCK])
        last = latest()
        if last:
            first_seq, size, prev_hash = last.first_seq, last.tree_size, last.chain_head
        else:  # the first checkpoint starts where the chain does (after the last retention purge, if any)
            purged = LedgerCheckpoint.objects.order_by("-upto_seq").values_list("upto_seq", "last_hash").first()
            first_seq, prev_hash = (purged[0] + 1, purged[1]) if purged else (1, GENESIS)
            size = 0
        new_size, prev_hash = _grow(first_seq, size, prev_hash)
        if new_size == size:
            return None
        blocks = _load(merkle.range_blocks(0, new_size))
        fields = {"origin": settings.PUBLIC_URL, "date": (day or timezone.localdate()).isoformat(),
                  "first-seq": first_seq, "tree-size": new_size,
                  "root": merkle.range_hash(0, new_size, blocks).hex(), "chain-head": prev_hash}
        statement = statement_text(fields)
        return PublishedCheckpoint.objects.create(
            day=fields["date"], first_seq=first_seq, tree_size=new_size, root=fields["root"], chain_head=prev_hash,
            statement=statement, signature=signing.sign(statement), key_id=signing.key_id())


def _grow(first_seq: int, size: int, prev_hash: str) -> tuple[int, str]:
    """Checks and adds sealed entries after leaf `size`, batch by batch; returns the new size and chain head."""
    while True:
        start = first_seq + size
        rows = list(AccessEntry.objects.filter(seq__gte=start).order_by("seq").values(*ROW_FIELDS)[:BATCH])
        if not rows:
            return size, prev_hash
        leaves = []
        for row in rows:
            expected = first_seq + size + len(leaves)
            if row["seq"] != expected:
                raise ChainBroken(f"entry {expected} is missing from the chain")
            if row["prev_hash"] != prev_hash or entry_digest(row, prev_hash) != row["entry_hash"]:
                raise ChainBroken(f"entry {row['seq']} does not verify: run manage.py audit_verify")
            leaves.append(_leaf(row))
            prev_hash = row["entry_hash"]
        LedgerTreeBlock.objects.bulk_create(
            [LedgerTreeBlock(level=0, index=size + i, hash=leaf) for i, leaf in enumerate(leaves)])
        _add_blocks(size, size + len(leaves), {(0, size + i): leaf for i, leaf in enumerate(leaves)})
        size += len(leaves)


def _add_blocks(old_size: int, new_size: int, known: dict) -> None:
    """Stores the subtrees completed by the leaves [old_size, new_size), lowest level first."""
    wanted = merkle.new_blocks(old_size, new_size)
    children = {child for level, i in wanted for child in ((level - 1, 2 * i), (level - 1, 2 * i + 1))}
    known.update(_load(children - set(known) - set(wanted)))
    made = []
    for level, i in wanted:  # lowest first, so a block's children are known when it is made
        known[(level, i)] = merkle.node_hash(known[(level - 1, 2 * i)], known[(level - 1, 2 * i + 1)])
        made.append(LedgerTreeBlock(level=level, index=i, hash=known[(level, i)]))
    LedgerTreeBlock.objects.bulk_create(made, batch_size=BATCH)


def _load(blocks) -> dict:
    blocks = set(blocks)
    found = {}
    for level in {level for level, _ in blocks}:
        indexes = [i for lv, i in blocks if lv == level]
        for i, value in LedgerTreeBlock.objects.filter(level=level, index__in=indexes).values_list("index", "hash"):
            found[(level, i)] = bytes(value)
    return found


# --- proofs --------------------------------------------------------------------------------------------------------

def _published(size: int) -> PublishedCheckpoint:
    checkpoint = PublishedCheckpoint.objects.filter(tree_size=size).first()
    if checkpoint is None:
        raise NotPublished(f"no checkpoint of {size} entries was published")
    return checkpoint


def _path(ranges) -> list[str]:
    blocks = _load(merkle.blocks_for(ranges))
    return [merkle.range_hash(start, end, blocks).hex() for start, end in ranges]


@dataclass
class LeafNow:
    """An entry's leaf as the ledger holds it now: `status` is "present", "purged" (by the retention purge,
    its published leaf kept) or "changed"/"missing" (the database no longer holds what was signed)."""

    hash: str
    status: str


def leaf_now(seq: int, first_seq: int) -> LeafNow:
    stored = _load([(0, seq - first_seq)]).get((0, seq - first_seq), b"")
    row = AccessEntry.objects.filter(seq=seq).values(*ROW_FIELDS).first()
    if row is not None:
        leaf = _leaf(row)
        return LeafNow(leaf.hex(), "present" if leaf == stored else "changed")
    purged_upto = LedgerCheckpoint.objects.aggregate(upto=Max("upto_seq"))["upto"] or 0
    return LeafNow(stored.hex(), "purged" if seq <= purged_upto else "missing")


def inclusion(seq: int, size: int) -> dict:
    """The proof that entry `seq` is leaf `seq - first_seq` of the published tree of `size` leaves."""
    checkpoint = _published(size)
    index = seq - checkpoint.first_seq
    if not 0 <= index < size:
        raise ProofUnavailable(f"entry {seq} is not in the checkpoint of {size} entries")
    leaf = leaf_now(seq, checkpoint.first_seq)
    return {"seq": seq, "tree_size": size, "leaf_index": index, "leaf_hash": leaf.hash, "status": leaf.status,
            "inclusion": _path(merkle.inclusion_ranges(index, size))}


def consistency(old_size: int, new_size: int) -> dict:
    """The proof that the published tree of `new_size` leaves extends the one of `old_size`."""
    _published(old_size), _published(new_size)
    if old_size > new_size:
        raise ProofUnavailable("the first size must not be larger than the second")
    return {"from": old_size, "to": new_size, "proof": _path(merkle.consistency_ranges(old_size, new_size))}


def published_list() -> dict:
    """Every checkpoint, oldest first, with the key that signs them (what /transparency/checkpoints.json serves)."""
    return {"public_key": signing.public_key_b64(), "key_id": signing.key_id(),
            "checkpoints": [_checkpoint_json(c) for c in PublishedCheckpoint.objects.order_by("tree_size")]}


def _checkpoint_json(checkpoint: PublishedCheckpoint) -> dict:
    return {"statement": checkpoint.statement, "signature": checkpoint.signature, "key_id": checkpoint.key_id}


def receipt(seq: int) -> dict | None:
    """An owner's receipt for entry `seq`: the entry's public fields, the latest checkpoint covering it and the
    proof; None while no checkpoint covers it yet (the next daily one will)."""
    checkpoint = latest()
    row = AccessEntry.objects.filter(seq=seq).values(*ROW_FIELDS).first()
    if checkpoint is None or row is None:
        return None
    if not checkpoint.first_seq <= seq < checkpoint.first_seq + checkpoint.tree_size:
        return None
    proof = inclusion(seq, checkpoint.tree_size)
    return {"format": RECEIPT_FORMAT, "server": settings.PUBLIC_URL, "entry": public_fields(row),
            "leaf_index": proof["leaf_index"], "checkpoint": _checkpoint_json(checkpoint),
            "public_key": signing.public_key_b64(), "inclusion": proof["inclusion"]}
