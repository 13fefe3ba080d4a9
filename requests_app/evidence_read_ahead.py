"""A clip's records read and decrypted on a thread of their own, a few ahead of the event loop that sends them.

The event loop only hands records to the client; reading (a disk or a bucket's stream) and AES-GCM run meanwhile
on this thread, both letting go of the GIL. The thread stays at most DEPTH records ahead (memory is DEPTH records
whatever the clip's size) and stops within one record once the stream is closed (the client left).

The threads are kept between streams (at most KEEP_IDLE waiting): starting one per stream held the event loop while
Thread.start waited for it to run, about 0.2 ms (p90 0.3 ms) for every download and every seek on a two-core machine.
"""

import asyncio
import logging
import queue
import threading
from collections.abc import Callable, Iterator

DEPTH = 4  # records (1 MiB each) decrypted ahead of the client: enough to hide a slow read, little memory
KEEP_IDLE = 8  # threads kept waiting for the next stream; more at once are started, and end after their stream
_END = object()
logger = logging.getLogger(__name__)


class _Threads:
    """Daemon threads that each run one job after another (a daemon never holds up the process's exit)."""

    def __init__(self, keep_idle: int):
        self._keep_idle = keep_idle
        self._idle: list[queue.SimpleQueue] = []  # each waiting thread's inbox
        self._lock = threading.Lock()

    def run(self, job: Callable[[], None]) -> None:
        with self._lock:
            inbox = self._idle.pop() if self._idle else None
        if inbox is None:
            inbox = queue.SimpleQueue()
            threading.Thread(target=self._serve, args=(inbox,), name="evidence-read-ahead", daemon=True).start()
        inbox.put(job)

    def _serve(self, inbox: queue.SimpleQueue) -> None:
        while True:
            job = inbox.get()
            try:
                job()
            except BaseException:  # a job hands its own errors on; anything else must not end the thread silently
                logger.exception("evidence read-ahead failed")
            with self._lock:
                if len(self._idle) >= self._keep_idle:
                    return
                self._idle.append(inbox)


_threads = _Threads(KEEP_IDLE)


class ReadAhead:
    """Iterates `pieces` on its own thread; `await next_piece()` returns each in order, None at the end, and raises
    what the iteration raised. `on_exit` runs on the thread once it is done with `pieces` (to close the source)."""

    def __init__(self, pieces: Iterator[bytes], *, on_exit, depth: int = DEPTH):
        self._pieces, self._on_exit = pieces, on_exit
        self._loop = asyncio.get_running_loop()
        self._ready: asyncio.Queue = asyncio.Queue()
        self._slots = threading.Semaphore(depth)
        self._stopping = False
        _threads.run(self._run)

    def _run(self) -> None:
        try:
            while True:
                self._slots.acquire()
                if self._stopping:
                    return
                try:
                    piece = next(self._pieces, _END)
                except BaseException as exc:  # handed to the consumer, which records it and cuts the transfer
                    self._hand(exc)
                    return
                self._hand(piece)
                if piece is _END:
                    return
        finally:
            try:
                self._pieces.close()
            finally:
                self._on_exit()

    def _hand(self, item) -> None:
        try:
            self._loop.call_soon_threadsafe(self._ready.put_nowait, item)
        except RuntimeError:  # the event loop is closed (the server is stopping): nobody is waiting any more
            self._stopping = True

    async def next_piece(self) -> bytes | None:
        item = await self._ready.get()
        self._slots.release()
        if item is _END:
            return None
        if isinstance(item, BaseException):
            raise item
        return item

    def stop(self) -> None:
        """Asks the thread to stop; it closes the source itself, after the record it may be reading."""
        self._stopping = True
        self._slots.release()  # wakes it if it waits for room
