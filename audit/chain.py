"""The hash chain: what an entry's hash covers, and the walk that checks a whole ledger."""

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC

from django.conf import settings

GENESIS = "0" * 64
FIELDS = ("seq", "at", "actor_id", "actor_label", "action", "target_type", "target_code", "camera_code",
          "owner_code", "incident_code", "case_number", "reason", "detail")


def entry_digest(values: dict, prev_hash: str) -> str:
    """SHA-256 over the previous hash and a canonical JSON of the entry's fields (UTC microseconds)."""
    content = {name: values[name] for name in FIELDS}
    content["at"] = values["at"].astimezone(UTC).isoformat(timespec="microseconds")
    payload = json.dumps(content, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256((prev_hash + "\n" + payload).encode()).hexdigest()


def checkpoint_signature(upto_seq: int, last_hash: str) -> str:
    key = hashlib.sha256(b"connect-ledger-checkpoint" + settings.SECRET_KEY.encode()).digest()
    return hmac.new(key, f"{upto_seq}:{last_hash}".encode(), hashlib.sha256).hexdigest()


@dataclass
class VerifyResult:
    checked: int
    problem: str = ""
    seq: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problem
