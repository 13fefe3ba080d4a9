"""CONNECT_REDIS_URL as a Sentinel URL: the cache, the channel layer, the live relay's client and a real Celery
worker find the master through a real Redis Sentinel (`redis-server --sentinel`), and follow it when the master
dies and the sentinel promotes the replica."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from celery import Celery
from channels_redis.core import RedisChannelLayer
from django.core.exceptions import ImproperlyConfigured

from common.cache import SharedRedisCache
from common.redis_url import (
    RedisUrlError,
    async_redis_client,
    celery_broker,
    channel_layer_host,
    sentinel_target,
)
from connect.env import parse_redis_url
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
MASTER = "connectmaster"


# --- the URL ---------------------------------------------------------------------------------------------------

def test_a_sentinel_url_names_the_sentinels_the_master_and_the_database():
    target = sentinel_target("redis+sentinel://:s%40cret@10.0.0.1:26379,sentinel-2:26380/mymaster/3")

    assert target.sentinels == (("10.0.0.1", 26379), ("sentinel-2", 26380))
    assert (target.master, target.db, target.password) == ("mymaster", 3, "s@cret")
    assert celery_broker("redis+sentinel://:s%40cret@10.0.0.1:26379,sentinel-2:26380/mymaster/3") == (
        "sentinel://:s%40cret@10.0.0.1:26379/3;sentinel://:s%40cret@sentinel-2:26380/3", {"master_name": "mymaster"})
    assert sentinel_target("redis://127.0.0.1:6379/0") is None
    assert channel_layer_host("redis://127.0.0.1:6379/0", socket_timeout=15) == {
        "address": "redis://127.0.0.1:6379/0", "socket_timeout": 15}


@pytest.mark.parametrize("url", [
    "redis+sentinel://10.0.0.1/mymaster/0",  # no port
    "redis+sentinel://10.0.0.1:26379",  # no master name
    "redis+sentinel://10.0.0.1:26379/mymaster/zero",
    "redis+sentinel:///mymaster/0",
    "sentinel://10.0.0.1:26379/mymaster",  # kombu's own form is not what connect takes
])
def test_a_bad_sentinel_url_is_refused_at_start_up_naming_the_variable(url):
    with pytest.raises(ImproperlyConfigured, match="CONNECT_REDIS_URL"):
        parse_redis_url("CONNECT_REDIS_URL", url)
    if url.startswith("redis+sentinel"):
        with pytest.raises(RedisUrlError):
            sentinel_target(url)


# --- a real sentinel in front of a master and its replica ---------------------------------------------------------

def wait_until(predicate, what: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except (redis.RedisError, OSError):
            value = None
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")


class Servers:
    def __init__(self, folder: Path):
        self.folder, self.processes = folder, {}

    def start(self, name: str, *args: str) -> subprocess.Popen:
        log = (self.folder / f"{name}.log").open("wb")
        self.processes[name] = subprocess.Popen(["redis-server", *args], cwd=self.folder, stdout=log,
                                                stderr=subprocess.STDOUT)
        return self.processes[name]

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=10)


@pytest.fixture
def sentinel(tmp_path):
    """A master, its replica and one sentinel watching them (quorum 1), on free ports; yields the ports."""
    servers = Servers(tmp_path)
    master, replica, sentinel_port = free_port(), free_port(), free_port()
    common = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    servers.start("master", "--port", str(master), *common, "--dbfilename", "master.rdb")
    servers.start("replica", "--port", str(replica), *common, "--dbfilename", "replica.rdb",
                  "--replicaof", "127.0.0.1", str(master))
    config = tmp_path / "sentinel.conf"
    config.write_text(f"port {sentinel_port}\nbind 127.0.0.1\ndir {tmp_path}\n"
                      f"sentinel monitor {MASTER} 127.0.0.1 {master} 1\n"
                      f"sentinel down-after-milliseconds {MASTER} 1000\n"
                      f"sentinel failover-timeout {MASTER} 10000\n")
    servers.start("sentinel", str(config), "--sentinel")
    watcher = redis.Redis(port=sentinel_port, decode_responses=True)
    wait_until(lambda: watcher.sentinel_slaves(MASTER), "the sentinel sees the replica")
    wait_until(lambda: redis.Redis(port=replica).info("replication")["master_link_status"] == "up",
               "the replica follows the master")
    try:
        yield {"master": master, "replica": replica, "sentinel": sentinel_port, "servers": servers,
               "url": f"redis+sentinel://127.0.0.1:{sentinel_port}/{MASTER}/2"}
    finally:
        servers.stop()


def start_worker(url: str) -> subprocess.Popen:
    from django.db import connection

    db = connection.settings_dict
    env = {**os.environ, "CONNECT_CELERY_EAGER": "false", "CONNECT_REDIS_URL": url,
           "CONNECT_DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}
    return subprocess.Popen([sys.executable, "-m", "celery", "-A", "connect", "worker", "-n", "sentinel@%h",
                             "--pool", "solo", "--without-gossip", "--without-mingle", "--loglevel", "WARNING"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def layer_round_trip(layer: RedisChannelLayer, message: str) -> str:
    async def trip():
        channel = await layer.new_channel()
        await layer.send(channel, {"type": "test.message", "text": message})
        received = (await asyncio.wait_for(layer.receive(channel), 10))["text"]
        await layer.flush()
        return received
    return asyncio.run(trip())


def relay_client_ping(url: str) -> bool:
    async def ping():
        client = async_redis_client(url, socket_connect_timeout=2, socket_timeout=5, protocol=2)
        try:
            return await client.ping()
        finally:
            await client.aclose()
    return asyncio.run(ping())


@pytest.mark.scaleout
@pytest.mark.django_db
def test_every_client_finds_the_master_through_the_sentinel_and_follows_a_failover(sentinel):
    url = sentinel["url"]
    cache = SharedRedisCache(url, {"OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2}})
    layer = RedisChannelLayer(hosts=[channel_layer_host(url, socket_timeout=15)])
    broker, options = celery_broker(url)
    # Not the current app: shared tasks in later tests must keep sending through connect's own.
    app = Celery("sentinel-test", broker=broker, broker_transport_options=options, set_as_current=False)
    worker = start_worker(url)
    try:
        cache.set("door", "before", 300)
        assert cache.get("door") == "before"
        assert redis.Redis(port=sentinel["master"], db=2).exists(":1:door")  # written where the sentinel said
        assert layer_round_trip(layer, "frame one") == "frame one"
        assert relay_client_ping(url)
        wait_until(lambda: app.control.ping(timeout=1), "the worker answers through the sentinel's master")

        sentinel["servers"].processes["master"].send_signal(signal.SIGKILL)
        wait_until(lambda: int(redis.Redis(port=sentinel["sentinel"]).sentinel_get_master_addr_by_name(MASTER)[1])
                   == sentinel["replica"], "the sentinel promotes the replica")

        # Replicated before the master died, read from the new one (the first try may meet the dead connection).
        wait_until(lambda: cache.get("door") == "before", "the cache reads from the promoted master")
        wait_until(lambda: cache.set("door", "after", 300) or cache.get("door") == "after",
                   "the cache writes to the promoted master")
        assert redis.Redis(port=sentinel["replica"], db=2).get(":1:door") is not None
        assert wait_until(lambda: layer_round_trip(layer, "frame two") == "frame two", "the channel layer follows")
        assert relay_client_ping(url)
        wait_until(lambda: app.control.ping(timeout=1), "the worker reconnects to the promoted master", timeout=90)
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        app.close()
