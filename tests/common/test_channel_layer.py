"""The channel layer tells a socket that Redis went away instead of raising out of its receive loop, waits for Redis
to answer again, and then receives as before (common/channel_layer.py), against a real redis-server of the test's
own that it kills and starts again on the same port."""

import asyncio
import subprocess
import time

import pytest
import redis

from common.channel_layer import ResilientRedisChannelLayer
from common.layer_aware import LayerAware
from connect.routing import connector_urlpatterns, websocket_urlpatterns
from tests.conftest import free_port
from tests.own_loop import run_async


class OwnRedis:
    """A redis-server on a free port, nothing on disk; stop() kills it, start() brings it back on the same port."""

    def __init__(self, tmp_path):
        self.port, self.dir, self.process = free_port(), tmp_path, None

    def start(self):
        self.process = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                                         "--save", "", "--appendonly", "no", "--dir", str(self.dir)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while True:
            try:
                redis.Redis(port=self.port).ping()
                return
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    def stop(self):
        self.process.kill()
        self.process.wait(timeout=10)


@pytest.fixture
def own_redis(tmp_path):
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    if server.process.poll() is None:
        server.stop()


def test_a_lost_redis_is_one_message_then_receiving_resumes_once_it_is_back(own_redis):
    layer = ResilientRedisChannelLayer(hosts=[{"address": f"redis://127.0.0.1:{own_redis.port}/0"}])

    async def scenario():
        channel = await layer.new_channel()
        await layer.group_add("watchers", channel)
        await layer.group_send("watchers", {"type": "hello"})
        before = await layer.receive(channel)
        waiting = asyncio.ensure_future(layer.receive(channel))
        await asyncio.sleep(0.3)  # blocked in Redis, as a consumer is between messages
        await asyncio.get_running_loop().run_in_executor(None, own_redis.stop)
        lost = await waiting
        resumed = asyncio.ensure_future(layer.receive(channel))
        await asyncio.sleep(2)
        still_waiting = not resumed.done()  # no second "lost", no error: it waits for Redis
        await asyncio.get_running_loop().run_in_executor(None, own_redis.start)
        # A restarted Redis forgot the group: a consumer joins again (common/layer_aware.py does) and hears.
        deadline = asyncio.get_running_loop().time() + 30
        while True:
            try:
                await layer.group_add("watchers", channel)
                break
            except redis.ConnectionError:
                assert asyncio.get_running_loop().time() < deadline
                await asyncio.sleep(0.2)
        await layer.group_send("watchers", {"type": "again"})
        after = await resumed
        await layer.close_pools()
        return before, lost, still_waiting, after

    before, lost, still_waiting, after = run_async(scenario())
    assert before == {"type": "hello"}
    assert lost == {"type": "layer.lost"}
    assert still_waiting
    assert after == {"type": "again"}


class LosesOneCancel:
    """A Redis client whose first command loses a cancellation that arrives during it, as Python 3.11's wait_for (under
    which redis-py sends each command) loses one arriving as its inner future completes."""

    def __init__(self, client):
        self.client, self.lost = client, asyncio.Event()

    def __getattr__(self, name):
        return getattr(self.client, name)

    async def eval(self, *args):
        if not self.lost.is_set():
            try:
                await asyncio.sleep(0.5)
            except asyncio.CancelledError:
                self.lost.set()
        return await self.client.eval(*args)


def test_a_receive_whose_cancel_was_lost_below_it_still_ends(own_redis):
    """A socket closed while its receive set up the Redis connection: channels-redis's receive loop went on popping
    every few seconds forever, and its event loop never closed (a CI run hung on it)."""
    layer = ResilientRedisChannelLayer(hosts=[{"address": f"redis://127.0.0.1:{own_redis.port}/0"}])
    layer.brpop_timeout = 1
    clients = {}

    def connection(index):
        loop = asyncio.get_running_loop()
        if loop not in clients:
            clients[loop] = LosesOneCancel(ResilientRedisChannelLayer.connection(layer, index))
        return clients[loop]

    layer.connection = connection

    async def scenario():
        receiving = asyncio.ensure_future(layer.receive(await layer.new_channel()))
        await asyncio.sleep(0.1)
        receiving.cancel()
        done, _ = await asyncio.wait([receiving], timeout=4)
        lost = next(iter(clients.values())).lost.is_set()
        return lost, receiving in done and receiving.cancelled()

    lost, ended = run_async(scenario(), timeout=10)  # unguarded, the receive is still popping after 4 s
    assert lost, "the client did not lose the cancellation: the test tests nothing"
    assert ended


def test_every_socket_lives_through_an_outage():
    for pattern in (*websocket_urlpatterns, *connector_urlpatterns):
        consumer = pattern.callback.consumer_class
        assert issubclass(consumer, LayerAware), f"{consumer.__name__} would die with Redis"


def test_the_configured_layer_is_the_resilient_one(settings):
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == "common.channel_layer.ResilientRedisChannelLayer"


def test_a_group_message_from_sync_code_on_a_thread_whose_loop_runs_is_delivered():
    """Sync code called on a thread whose event loop is running (a consumer calling a service directly; the tests'
    Playwright loop) could not use async_to_sync, and the message (a sign-out closing sockets, a stop-sharing) was
    lost with a warning; group_send_from_sync sends it from a thread of its own."""
    from channels.layers import get_channel_layer

    from common.channel_layer import group_send_from_sync

    async def scenario():
        layer = get_channel_layer()
        channel = await layer.new_channel()
        await layer.group_add("sync-send-test", channel)
        try:
            group_send_from_sync("sync-send-test", {"type": "hello", "n": 1})  # sync, on this loop's thread
            return await asyncio.wait_for(layer.receive(channel), 5)
        finally:
            await layer.group_discard("sync-send-test", channel)

    assert run_async(scenario())["n"] == 1
