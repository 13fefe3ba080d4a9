"""The hash chain: what an entry's hash covers, and the walk that checks a whole ledger."""

import functools
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC

from django.conf import settings

GENESIS = "0" * 64
FIELDS = ("seq", "at", "actor_id", "actor_label", "action", "target_type", "target_code", "camera_code",
          "owner_code", "incident_code", "case_number", "reason", "detail")


def _key() -> bytes:
    return _derived_key(settings.LEDGER_KEY)


@functools.lru_cache(maxsize=4)
def _derived_key(secret: str) -> bytes:
    return hashlib.sha256(b"connect-ledger" + secret.encode()).digest()


def _canonical(values: dict, names: tuple[str, ...]) -> str:
    content = {name: values[name] for name in names}
    content["at"] = values["at"].astimezone(UTC).isoformat(timespec="microseconds")
    return json.dumps(content, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)


def entry_digest(values: dict, prev_hash: str) -> str:
    """HMAC-SHA-256, under CONNECT_LEDGER_KEY (kept outside the database), over the previous hash and a
    canonical JSON of the entry's fields: write access to the database alone cannot forge a chain."""
    return hmac.new(_key(), (prev_hash + "\n" + _canonical(values, FIELDS)).encode(), hashlib.sha256).hexdigest()


PENDING_FIELDS = FIELDS[1:]  # everything but seq, which sealing assigns


def pending_mac(values: dict, pending_id) -> str:
    """The HMAC `record()` puts on a pending entry, over its id and content. Sealing chains only entries that
    carry it, so a row written into the pending table by anything else is never given a valid hash."""
    payload = f"pending:{pending_id}\n" + _canonical(values, PENDING_FIELDS)
    return hmac.new(_key(), payload.encode(), hashlib.sha256).hexdigest()


def checkpoint_signature(upto_seq: int, last_hash: str) -> str:
    return hmac.new(_key(), f"checkpoint:{upto_seq}:{last_hash}".encode(), hashlib.sha256).hexdigest()


@dataclass
class VerifyResult:
    checked: int
    problem: str = ""
    seq: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problem
