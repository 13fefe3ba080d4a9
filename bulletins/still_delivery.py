"""A new bulletin's still, delivered on its recipients' patrol sockets (one binary frame each) instead of fetched by
every page over HTTP: 200 fetches, each through Django's stack on the one thread its sync code shares, each
unwrapping the key, decrypting the still and committing its own ledger entry, held the last officer's still back
by seconds (bench/bulletin_fanout.py).

Nothing the still's page (bulletins.views.media) does is skipped; it is done for many recipients at once:
  - each recipient is checked when the still leaves: a recipient of the bulletin, active program staff holding the
    receive permission, not an outside agency's (selectors.recipients_receiving), and the socket's session still in
    the store (selectors.sessions_live); the socket itself keeps checking the rest (bulletins.consumers);
  - each delivery is a BULLETIN_MEDIA_VIEWED entry, committed before its bytes leave. The sockets of a process that
    want a still at the same moment are checked together and recorded in one INSERT and one commit (a group commit
    as audit.ledger.GroupCommit's: the first starts a write at once, those arriving meanwhile go into the next), on
    a database thread of this module's own rather than the thread Django's sync calls queue on.
The still is decrypted once per process and bulletin, and its plaintext kept only in this process's memory (never
Redis, never disk), for BURST_S seconds at most and for at most KEPT stills: the burst of one bulletin's sending.

Frame: the bulletin's code as 16 raw bytes, then the image (static/bulletins/js/patrol.js)."""

import logging
import threading
import time
import uuid
from collections import OrderedDict, defaultdict
from dataclasses import dataclass

from django.db import transaction

from audit.actions import Action
from audit.ledger import entry, record_many
from bulletins import media, selectors
from bulletins.batched import Batched, database
from bulletins.models import Bulletin

logger = logging.getLogger(__name__)

KEPT = 4  # stills whose plaintext a process keeps at once (a few bulletins sent in the same seconds)
BURST_S = 30.0  # how long a still's plaintext is kept after it was decrypted


class Plaintexts:
    """Decrypted stills by bulletin code, few and briefly (see KEPT, BURST_S)."""

    def __init__(self, kept: int = KEPT, burst_s: float = BURST_S):
        self.kept, self.burst_s = kept, burst_s
        self._stills: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, code: str) -> bytes | None:
        with self._lock:
            self._drop_stale(time.monotonic())
            found = self._stills.get(code)
            return found[1] if found else None

    def put(self, code: str, data: bytes) -> bytes:
        with self._lock:
            self._stills[code] = (time.monotonic(), data)
            self._stills.move_to_end(code)
            while len(self._stills) > self.kept:
                self._stills.popitem(last=False)
        return data

    def __len__(self) -> int:
        with self._lock:
            self._drop_stale(time.monotonic())
            return len(self._stills)

    def _drop_stale(self, now: float) -> None:
        for code in [code for code, (at, _) in self._stills.items() if now - at > self.burst_s]:
            del self._stills[code]


plaintexts = Plaintexts()


@dataclass(frozen=True)
class Delivery:
    """One patrol socket wanting one bulletin's still."""

    code: str
    user_id: int
    session_key: str


def deliveries_record(deliveries: list[Delivery]) -> dict[Delivery, bytes]:
    """The still for each delivery whose recipient may have it now, each such delivery recorded; one transaction,
    committed when this returns. The others are left out (nothing recorded, nothing to send)."""
    wanted: dict[str, list[Delivery]] = defaultdict(list)
    for delivery in deliveries:
        wanted[delivery.code].append(delivery)
    live = selectors.sessions_live({d.session_key for d in deliveries if d.session_key})
    allowed: dict[Delivery, bytes] = {}
    entries = []
    with transaction.atomic():
        for code, asking in wanted.items():
            bulletin = Bulletin.objects.defer("media_sealed").filter(code=code).first()
            if bulletin is None or not bulletin.has_media or bulletin.is_clip:  # segments: played by address
                continue
            receiving = selectors.recipients_receiving(bulletin=bulletin, user_ids={d.user_id for d in asking})
            asking = [d for d in asking if d.user_id in receiving and d.session_key in live]
            if not asking:
                continue
            data = plaintexts.get(code) or plaintexts.put(code, media.media_open(
                bulletin.media_sealed, wrapped=bulletin.media_key_wrapped, key_id=bulletin.media_key_id,
                code=bulletin.code))
            for delivery in asking:
                entries.append(entry(actor=receiving[delivery.user_id], action=Action.BULLETIN_MEDIA_VIEWED,
                                     target_type="bulletin", target_code=bulletin.code,
                                     case_number=bulletin.case_number, size=len(data), via="patrol socket"))
                allowed[delivery] = data
        record_many(entries)
    return allowed


# Looked up at each call, so that a test can stand in for it.
_deliveries = Batched(database.run, lambda asks: deliveries_record(asks))


async def still_for(delivery: Delivery) -> bytes | None:
    """The still's bytes once this recipient was checked and the delivery's entry committed, with those of the
    sockets asking at the same moment; None if they may not have it now (or it is gone). Raises the call's error if
    checking or recording failed (send nothing then)."""
    return await _deliveries.ask(delivery)


def frame_of(code: str, data: bytes) -> bytes:
    """The binary frame the page reads: 16 bytes of the bulletin's code, then the image."""
    return uuid.UUID(code).bytes + data
