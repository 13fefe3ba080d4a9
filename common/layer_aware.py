"""Websocket consumers that live through a Redis outage: the socket to the browser or connector stays open, the
consumer hears "layer.lost" (common.channel_layer) or meets the error in a call of its own, says so to its client,
and every couple of seconds tries to join its groups again. Once that works it catches up (`layer_back`): a
consumer re-checks whatever rules it enforces, since every message sent while Redis was away is lost.

Every consumer in connect.routing derives from LayerAware (tests/test_architecture.py).
"""

import asyncio
import contextlib
import logging
import random

from common.channel_layer import REDIS_DOWN

logger = logging.getLogger(__name__)
REJOIN_SECONDS = 2.0


class LayerAware:
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.layer_groups: tuple[str, ...] = ()  # the groups this socket listens on, joined again after an outage
        self.layer_down = False
        self.layer_closed = False  # closed by the server: nothing more is said to the client
        self._rejoin: asyncio.Task | None = None

    async def close(self, *args, **kwargs):
        self.layer_closed = True
        await super().close(*args, **kwargs)

    async def layer_join(self, *groups: str) -> bool:
        """Joins `groups` (remembered for after an outage); False, with the outage handled, when Redis is away."""
        self.layer_groups = tuple(dict.fromkeys((*self.layer_groups, *groups)))
        try:
            for group in groups:
                await self.channel_layer.group_add(group, self.channel_name)
        except REDIS_DOWN:
            await self.layer_lost({})
            return False
        return True

    async def layer_leave(self) -> None:
        """Leaves every group and stops trying to rejoin; quietly when Redis is away (the groups are gone then, or
        expire: a message to this channel finds nobody and is dropped)."""
        if self._rejoin is not None:
            self._rejoin.cancel()
        for group in self.layer_groups:
            with contextlib.suppress(*REDIS_DOWN):
                await self.channel_layer.group_discard(group, self.channel_name)
        self.layer_groups = ()

    async def layer_call(self, call) -> bool:
        """Awaits a channel layer or cache call; False, with the outage handled, when Redis is away."""
        try:
            await call
        except REDIS_DOWN:
            await self.layer_lost({})
            return False
        return True

    async def layer_lost(self, event) -> None:
        """The `layer.lost` event, or a call that met Redis away: tell the client once, then rejoin in the back."""
        if self.layer_down or self.layer_closed or not self.layer_groups:
            return  # told already, or nothing joined yet (the socket may not even be accepted): nothing was lost
        self.layer_down = True
        logger.info("%s: channel layer lost; rejoining every %s s", type(self).__name__, REJOIN_SECONDS)
        await self.on_layer_lost()
        self._rejoin = asyncio.create_task(self._rejoin_when_back())

    async def _rejoin_when_back(self) -> None:
        while True:
            await asyncio.sleep(REJOIN_SECONDS * random.uniform(0.75, 1.25))
            try:
                for group in self.layer_groups:
                    await self.channel_layer.group_add(group, self.channel_name)
            except REDIS_DOWN:
                continue
            self.layer_down = False
            if self.layer_closed:
                return
            try:
                await self.on_layer_back()
            except REDIS_DOWN:  # gone again while catching up: start over
                await self.layer_lost({})
            return

    async def on_layer_lost(self) -> None:
        """What the client is told, and what stops, while Redis is away."""

    async def on_layer_back(self) -> None:
        """Catching up once the groups are joined again."""
