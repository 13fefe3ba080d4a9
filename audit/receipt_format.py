"""What a public checkpoint signs and what an owner's receipt holds: the formats the server writes and
`python -m audit.verify_receipt` reads. Standard library only (the verifier runs without Django)."""

import json

STATEMENT_HEADER = "connect-ledger-checkpoint/1"
STATEMENT_FIELDS = ("origin", "date", "first-seq", "tree-size", "root", "chain-head")
RECEIPT_FORMAT = "connect-ledger-receipt/1"
# What a receipt shows of an entry: what the owner's history shows, and `digest`, the chain's keyed hash (HMAC)
# over every field of the entry, which binds the rest (who, the staff detail) without revealing it.
PUBLIC_FIELDS = ("seq", "at", "action", "camera_code", "owner_code", "case_number", "reason", "digest")


def leaf_bytes(public: dict) -> bytes:
    """The Merkle leaf of an entry: canonical JSON of its public fields."""
    return json.dumps({name: public[name] for name in PUBLIC_FIELDS}, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode()


def statement_text(fields: dict) -> str:
    """The exact text a checkpoint's signature covers: a header line, then `name: value` lines in a fixed order."""
    return "\n".join([STATEMENT_HEADER, *(f"{name}: {fields[name]}" for name in STATEMENT_FIELDS)]) + "\n"


def parse_statement(text: str) -> dict:
    """The fields of a statement; ValueError if it is not one (a verifier must not trust what it cannot read)."""
    lines = text.split("\n")
    if lines[0] != STATEMENT_HEADER or lines[-1] != "":
        raise ValueError("not a connect ledger checkpoint")
    fields = dict(line.split(": ", 1) for line in lines[1:-1])
    if tuple(fields) != STATEMENT_FIELDS:
        raise ValueError("a checkpoint's fields are missing or out of order")
    fields["first-seq"], fields["tree-size"] = int(fields["first-seq"]), int(fields["tree-size"])
    return fields
