"""Many patrol sockets of one process asking the database the same kind of thing at the same moment (a bulletin
reaches them all at once), answered by one call on a database thread: the group commit of audit.ledger.GroupCommit,
with an answer for each asker. No timer: the first ask starts a call at once, those arriving while it runs go into
the next, so a lone ask waits for its own call alone. State is per event loop: a future belongs to its loop."""

import asyncio
import weakref
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field

from api.fast_route import DatabaseThreads

# The patrol sockets' own database thread: their batches do not queue behind Django's sync calls, which share one.
database = DatabaseThreads(1, "bulletin-sockets")


@dataclass
class _LoopState:
    waiting: list[tuple[Hashable, asyncio.Future]] = field(default_factory=list)
    caller: asyncio.Task | None = None


class Batched:
    def __init__(self, run: Callable[..., Awaitable], answer: Callable[[list], dict]):
        """`await run(answer, asks)` calls `answer(asks)` on a database thread; it returns {ask: result} (an ask left
        out gets None) and commits whatever it writes before returning."""
        self.run, self.answer = run, answer
        self._states: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopState] = weakref.WeakKeyDictionary()

    async def ask(self, item: Hashable):
        """This ask's result once the call that carried it returned; raises that call's error otherwise."""
        loop = asyncio.get_running_loop()
        state = self._states.get(loop)
        if state is None:
            state = self._states[loop] = _LoopState()
        done = loop.create_future()
        state.waiting.append((item, done))
        if state.caller is None:
            state.caller = loop.create_task(self._call(state))
        # shield: a socket that closes meanwhile must not cancel the others' call.
        return await asyncio.shield(done)

    async def _call(self, state: _LoopState) -> None:
        try:
            while state.waiting:
                batch, state.waiting = state.waiting, []
                try:
                    results = await self.run(self.answer, [item for item, _ in batch])
                except Exception as exc:
                    for _, done in batch:
                        if not done.done():
                            done.set_exception(exc)
                else:
                    for item, done in batch:
                        if not done.done():
                            done.set_result(results.get(item))
        finally:
            state.caller = None
