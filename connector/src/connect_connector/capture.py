"""The capture thread: reads the source only as much as the server asks for, scales and encodes each picture,
and hands it to the websocket through the bounded ``FrameQueue``.

PyAV and urllib block, so they run here, away from the event loop. The two sides share a ``Control``: the
websocket side says start, stop, snapshot and what the server's limits are; the capture thread reads that
state and sleeps on it.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable

from .frames import DEFAULT_MAX_BYTES, Frame, FrameQueue, Limits, encode_jpeg
from .sources import AccessRefused, Source, SourceError

log = logging.getLogger(__name__)

RETRY_MAX_S = 30.0  # longest wait between attempts to reopen a failed source
AUTH_RETRY_S = 300.0  # after the camera refused the password: rare tries do not get its account locked


@dataclasses.dataclass(frozen=True)
class State:
    streaming: bool
    snapshots: int
    limits: Limits
    generation: int  # changes whenever anything else here does

    @property
    def active(self) -> bool:
        return self.streaming or self.snapshots > 0


class Control:
    """What the server wants, shared by the websocket side (which writes) and the capture thread (which
    reads and waits for changes)."""

    def __init__(self, own: Limits):
        self.own = own
        self._cond = threading.Condition()
        self._server: Limits | None = None
        self._throttle: float | None = None
        self._streaming = False
        self._snapshots = 0
        self._generation = 0
        self.closed = False

    def state(self) -> State:
        with self._cond:
            limits = self.own if self._server is None else self.own.lower(self._server)
            if self._throttle is not None:
                limits = dataclasses.replace(limits, fps=min(limits.fps, self._throttle))
            return State(self._streaming, self._snapshots, limits, self._generation)

    @property
    def streaming(self) -> bool:
        with self._cond:
            return self._streaming

    def _change(self, **fields) -> None:
        with self._cond:
            for name, value in fields.items():
                setattr(self, name, value)
            self._generation += 1
            self._cond.notify_all()

    def hello(self, *, fps: float | None = None, width: int | None = None, quality: int | None = None,
              max_bytes: int | None = None) -> None:
        """The server's limits; each one given lowers ours, the others leave ours as they are."""
        own = self.own
        self._change(_server=Limits(fps=fps or own.fps, width=width or own.width, quality=quality or own.quality,
                                    max_bytes=max_bytes or DEFAULT_MAX_BYTES))

    def throttle(self, fps: float) -> None:
        """A ceiling on the frame rate until the next throttle or reconnection."""
        self._change(_throttle=fps)

    def start(self) -> None:
        self._change(_streaming=True)

    def stop(self) -> None:
        self._change(_streaming=False)

    def snapshot(self) -> None:
        with self._cond:  # a re-entrant lock: _change takes it again
            self._change(_snapshots=self._snapshots + 1)

    def take_snapshot(self) -> bool:
        """Claims one pending snapshot request, if there is one."""
        with self._cond:
            if self._snapshots == 0:
                return False
            self._snapshots -= 1
            return True

    def reset(self) -> None:
        """A new connection: nobody is watching yet, and the last server's limits no longer hold."""
        self._change(_streaming=False, _snapshots=0, _server=None, _throttle=None)

    def close(self) -> None:
        self._change(closed=True)

    def wait(self, generation: int, timeout: float) -> None:
        """Sleeps up to ``timeout`` seconds, less if anything changes after ``generation``."""
        with self._cond:
            self._cond.wait_for(lambda: self._generation != generation or self.closed, timeout)


class Capture(threading.Thread):
    """``first_error``: why the source could not be opened at start-up; the thread then begins by waiting, as
    after any failure, instead of knocking on the camera again at once."""

    def __init__(self, source: Source, control: Control, queue: FrameQueue,
                 on_status: Callable[[str, str], None] = lambda state, detail: None, *, opened: bool = True,
                 first_error: SourceError | None = None):
        super().__init__(name="capture", daemon=True)
        self.source = source
        self.control = control
        self.queue = queue
        self.on_status = on_status
        self.opened = opened and first_error is None
        self.first_error = first_error
        self.grabbed = 0  # pictures taken from the source and encoded
        self._next_due = 0.0

    def run(self) -> None:
        failures = 0
        reported = ""  # the failure the server was last told about
        error: BaseException | None = self.first_error
        try:
            while not self.control.closed:
                if error is not None:
                    failures += 1
                    reported = self._failed(error, failures, reported)
                    error = None
                    continue
                try:
                    if not self.opened:
                        self.source.open()
                        self.opened = True
                        if failures:
                            log.info("the source works again: %s", self.source.label)
                            self.on_status("ok", "")
                        failures, reported = 0, ""
                    self._step()
                except Exception as exc:  # noqa: BLE001 - any failure of the source means: close, wait, reopen
                    if self.control.closed:
                        break
                    self.source.close()
                    self.opened = False
                    error = exc
        finally:
            self.source.close()

    def _failed(self, exc: BaseException, failures: int, reported: str) -> str:
        """Tells the server (when the failure is new), logs, and waits before the next try. A refused password
        waits the longest, every time: cameras lock an account after a few failed sign-ins. Returns the
        failure the server now knows about."""
        detail = str(exc) if isinstance(exc, SourceError) else f"{self.source.label}: {exc!r}"
        if detail != reported:
            self.on_status("error", detail)
            if not isinstance(exc, SourceError):
                log.error("unexpected error reading the source", exc_info=exc)
        if isinstance(exc, AccessRefused):
            delay = AUTH_RETRY_S
            log.error("%s; trying again in %.0f s", detail, delay)
        else:
            delay = min(RETRY_MAX_S, 2.0 ** (failures - 1))
            log.warning("source failed: %s; trying again in %.0f s", detail, delay)
        self._sleep(delay)
        return detail

    def _sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while not self.control.closed and (left := end - time.monotonic()) > 0:
            self.control.wait(self.control.state().generation, left)

    def _step(self) -> None:
        state = self.control.state()
        interval = 1.0 / state.limits.fps
        now = time.monotonic()
        if self.source.live:
            # Read all the time (the camera sets the pace); decode and encode only the pictures to be sent.
            want = state.snapshots > 0 or (state.streaming and now >= self._next_due)
            image = self.source.grab(active=state.active, want=want, width=state.limits.width)
        else:
            if not state.active:
                self.control.wait(state.generation, 5.0)  # nobody watches: do not touch the source
                return
            if state.snapshots == 0 and now < self._next_due:
                self.control.wait(state.generation, self._next_due - now)
                return
            image = self.source.grab(active=True, want=True, width=state.limits.width)
        if image is None:
            return
        # The next picture one interval after this one was due; after a pause or when falling behind, one
        # interval from now (never a burst to catch up).
        self._next_due = self._next_due + interval if now - self._next_due < interval else now + interval
        snapshot = self.control.take_snapshot()
        if not (snapshot or self.control.streaming):
            return
        jpeg = encode_jpeg(image, quality=state.limits.quality, max_bytes=state.limits.max_bytes)
        self.grabbed += 1
        if jpeg is not None:
            self.queue.put(Frame(jpeg, snapshot=snapshot))
