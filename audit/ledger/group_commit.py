"""Group commit for writers on an event loop (the API's fast routes): the entries of requests that want to record at
the same moment are written together, by one `record_many()` (one multi-row INSERT, one commit), and each request
waits for that commit before it answers.

A request's answer must never leave before its entry is committed: `await group.record(entries)` returns only once
the write that carried them has committed, and raises that write's error otherwise (every request of a failed write
gets it, so none of them answers with the data). There is no timer: the first request starts a write at once, the
requests that arrive while it runs go into the next one, so a lone request waits for its own INSERT alone and a
busy process writes many entries per commit. Sealing works as for any record_many() (audit.ledger.writing).

The write runs on a database thread that the caller provides (`run(function, *args)`, awaitable), so this module
needs nothing of the caller's. State is per event loop: a future belongs to the loop that made it.
"""

import asyncio
import weakref
from dataclasses import dataclass, field

from audit.ledger.writing import record_many


@dataclass
class _LoopState:
    waiting: list[tuple[list[dict], asyncio.Future]] = field(default_factory=list)
    writer: asyncio.Task | None = None


class GroupCommit:
    def __init__(self, run, *, write=record_many):
        """`await run(write, entries)` writes and commits (`write`: record_many on a database thread, or
        record_many_on_loop on an event loop's connection)."""
        self.run = run
        self.write = write
        self._states: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopState] = weakref.WeakKeyDictionary()

    async def record(self, entries: list[dict]) -> None:
        """Writes `entries` (audit.ledger.entry values) with whatever other requests record meanwhile; returns once
        they are committed, or raises the write's error."""
        loop = asyncio.get_running_loop()
        state = self._states.get(loop)
        if state is None:
            state = self._states[loop] = _LoopState()
        committed = loop.create_future()
        state.waiting.append((entries, committed))
        if state.writer is None:
            state.writer = loop.create_task(self._write(state))
        # shield: a request that goes away (its client disconnected) must not cancel the others' write.
        await asyncio.shield(committed)

    async def _write(self, state: _LoopState) -> None:
        try:
            while state.waiting:
                batch, state.waiting = state.waiting, []
                try:
                    await self.run(self.write, [values for entries, _ in batch for values in entries])
                except BaseException as exc:
                    for _, committed in batch:
                        if not committed.done():
                            committed.set_exception(exc)
                    if not isinstance(exc, Exception):
                        raise
                else:
                    for _, committed in batch:
                        if not committed.done():
                            committed.set_result(None)
        finally:
            state.writer = None
