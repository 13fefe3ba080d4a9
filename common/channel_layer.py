"""The channel layer: channels-redis's, except that losing Redis is a message to the consumer, not its death.

channels-redis raises a Redis connection error out of `receive()`; Channels' consumer loop does not catch it, so
every websocket of the process died with an unhandled exception when Redis went away (a restart, a failover) and
its client saw a bare 1011. Here `receive()` answers that error once with {"type": "layer.lost"} for the
consumer to handle (common.layer_aware.LayerAware), then waits, probing Redis, until it answers again before it
receives again. Nothing comes back by itself: what was sent while Redis was away is gone, and a restarted Redis
forgets the groups, so the consumer joins them again and catches up (LayerAware does both).
"""

import asyncio
import logging
import random
import threading
import time

import redis.asyncio as redis
from channels_redis.core import RedisChannelLayer

logger = logging.getLogger(__name__)

# What a channel layer or cache call raises when Redis is unreachable (refused, reset, timed out, no master).
REDIS_DOWN = (redis.ConnectionError, redis.TimeoutError, OSError)
LAYER_LOST = "layer.lost"
PROBE_SECONDS = 1.0
WARN_EVERY_SECONDS = 10.0


class ResilientRedisChannelLayer(RedisChannelLayer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._lost: set[str] = set()  # channels told "layer.lost" whose Redis has not answered since
        self._reachable_at = float("-inf")  # when a probe last got an answer (one probe serves every waiter)
        self._warned_at = float("-inf")

    async def receive(self, channel):
        if channel in self._lost:
            try:
                await self._until_reachable(channel)
            finally:  # also when the consumer is gone (cancelled): nothing more is owed to this channel
                self._lost.discard(channel)
        try:
            return await super().receive(channel)
        except REDIS_DOWN as exc:
            self._lost.add(channel)
            self._warn(exc)
            return {"type": LAYER_LOST}

    async def _brpop_with_clean(self, index, channel, timeout):
        # Python 3.11's asyncio.wait_for, under which redis-py sends each command, returns the result and drops a
        # cancellation that arrives as its inner future completes. A consumer cancelled while its receive set up the
        # loop's Redis connection lost its cancel that way, and channels-redis's receive loop (a BZPOPMIN every few
        # seconds) ran on forever: a task and a Redis connection per closed socket, and an event loop that never
        # closed (what hung a CI run). A cancel asked for is honoured here, before and after each pop.
        _raise_if_cancel_asked()
        member = await super()._brpop_with_clean(index, channel, timeout)
        _raise_if_cancel_asked()  # a message popped is not lost: channels-redis keeps it in its backup queue
        return member

    async def _until_reachable(self, channel: str) -> None:
        index = self.consistent_hash(self.non_local_name(channel) if "!" in channel else channel)
        while True:
            # Jittered, so the sockets of a process do not all probe at the same instant.
            await asyncio.sleep(PROBE_SECONDS * random.uniform(0.75, 1.25))
            if time.monotonic() - self._reachable_at < PROBE_SECONDS:
                return  # another waiter's probe just got an answer
            try:
                await self.connection(index).ping()
            except REDIS_DOWN:
                continue
            self._reachable_at = time.monotonic()
            logger.info("channel layer: Redis answers again")
            return

    def _warn(self, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._warned_at > WARN_EVERY_SECONDS:  # once an outage, not once a socket
            self._warned_at = now
            logger.warning("channel layer: Redis unreachable (%s); sockets wait for it", exc)


def _raise_if_cancel_asked() -> None:
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def group_send_from_sync(group: str, message: dict) -> None:
    """A group message sent from synchronous code. From a view's or a worker's thread, as async_to_sync does; from a
    thread whose own event loop is running (sync code a consumer calls directly, or the tests' Playwright loop),
    where async_to_sync refuses ("cannot use AsyncToSync in the same thread as an async event loop") and the message
    was lost, in a short thread of its own. Raises what the layer raises (Redis away)."""
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    send = async_to_sync(get_channel_layer().group_send)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return send(group, message)
    failed = []

    def in_thread():
        try:
            send(group, message)
        except Exception as exc:  # handed back to the caller, who decides what losing it means
            failed.append(exc)

    thread = threading.Thread(target=in_thread, name="group-send", daemon=True)
    thread.start()
    thread.join(timeout=5)
    if failed:
        raise failed[0]
