"""Live events for the staff map's dispatch layer, sent to the `dispatch.live` channel group.

A position report is not sent on its own: each process keeps the newest report per unit and a flusher
thread sends them together every `CONNECT_DISPATCH_TICK_MS` (200 units reporting every second make ten
group sends a second, not two hundred, whatever the number of viewers). Calls go out on the next tick too.
Payloads are TypedDicts; consumers forward them as they are.
"""

import asyncio
import logging
import os
import threading
from datetime import datetime
from typing import TypedDict

from django.conf import settings

logger = logging.getLogger(__name__)

GROUP = "dispatch.live"
MAX_HELD_CALLS = 500  # calls kept across failed sends


class CameraPayload(TypedDict):
    code: str
    label: str
    kind: str
    level: str
    distance_m: float
    lat: float
    lng: float


class CallPayload(TypedDict):
    code: str
    dispatch_id: str
    call_type: str
    priority: int
    status: str
    lat: float
    lng: float
    address: str
    received_at: str
    incident: str | None
    cameras: list[CameraPayload]


class PositionPayload(TypedDict):
    unit: str
    lat: float
    lng: float
    heading: int | None
    speed: int | None
    at: str


class _Broadcaster:
    def __init__(self):
        self._lock = threading.Lock()
        self._positions: dict[str, tuple[datetime, PositionPayload]] = {}
        self._calls: list[CallPayload] = []
        self._thread: threading.Thread | None = None
        self._pid = None

    def call(self, payload: CallPayload) -> None:
        with self._lock:
            self._calls.append(payload)
        self._ensure_running()

    def position(self, recorded_at: datetime, payload: PositionPayload) -> None:
        """Keeps only the newest report per unit: one that arrives late never overwrites a newer one."""
        with self._lock:
            held = self._positions.get(payload["unit"])
            if held is None or held[0] <= recorded_at:
                self._positions[payload["unit"]] = (recorded_at, payload)
        self._ensure_running()

    def _take(self) -> tuple[list[CallPayload], list[PositionPayload]]:
        with self._lock:
            calls, positions = self._calls, self._positions
            self._calls, self._positions = [], {}
        return calls, [payload for _, payload in positions.values()]

    def _ensure_running(self) -> None:
        if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive() and self._pid == os.getpid():
                return
            self._pid = os.getpid()  # a forked worker starts its own flusher
            self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), name="dispatch-live",
                                            daemon=True)
            self._thread.start()

    def _put_back(self, calls: list[CallPayload]) -> None:
        """Calls a failed send did not deliver go out first on the next tick (a call is news; a position is not:
        the unit's next report replaces it). Bounded, so a long Redis outage cannot grow the list without end."""
        with self._lock:
            self._calls = (calls + self._calls)[-MAX_HELD_CALLS:]

    async def _run(self) -> None:
        from channels.layers import get_channel_layer

        tick = settings.DISPATCH_TICK_MS / 1000
        while True:
            await asyncio.sleep(tick)
            calls, positions = self._take()
            # The layer is looked up every tick, not kept: a replaced layer (settings, tests) is used at once.
            layer = get_channel_layer()
            sent = 0
            try:
                for call in calls:
                    await layer.group_send(GROUP, {"type": "dispatch.call", "call": call})
                    sent += 1
                if positions:
                    await layer.group_send(GROUP, {"type": "dispatch.positions", "positions": positions})
            except Exception:  # Redis away or a connection it reset: Redis reconnects on the next send
                logger.warning("dispatch events not sent; %d call(s) kept for the next tick", len(calls) - sent,
                               exc_info=True)
                self._put_back(calls[sent:])


broadcaster = _Broadcaster()
