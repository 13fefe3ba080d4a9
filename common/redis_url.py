"""One Redis URL for every Redis client connect makes: the cache, the channel layer, Celery's broker, the live
relay, the API's limits and the health check. Either a plain URL (redis://, rediss://, unix://) or a Sentinel URL:

    redis+sentinel://[[USER]:PASSWORD@]HOST:PORT[,HOST:PORT...]/MASTER_NAME[/DB]

The sentinels are asked which server is the master of MASTER_NAME; every client follows a failover (a replica
promoted) by asking again when its connection breaks. USER and PASSWORD are the master's (and its replicas');
the sentinels themselves are reached without a password. (No TLS form yet: kombu's Sentinel transport takes its
TLS settings apart from the URL; put Sentinel and Redis on a private network.)

Each library takes Sentinel in its own form, built here from the one URL: redis-py's `Sentinel.master_for`
(cache, relay, limits, health), channels-redis's host dict with "sentinels" and "master_name", and kombu's
`sentinel://host:port;sentinel://...` broker URL with the `master_name` transport option.
"""

from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

SENTINEL_SCHEME = "redis+sentinel"


class RedisUrlError(ValueError):
    pass


@dataclass(frozen=True)
class SentinelTarget:
    sentinels: tuple[tuple[str, int], ...]
    master: str
    db: int = 0
    username: str | None = None
    password: str | None = None

    def connection_options(self) -> dict:
        """What redis-py's connections to the master need besides their address."""
        options = {"db": self.db}
        if self.username:
            options["username"] = self.username
        if self.password:
            options["password"] = self.password
        return options


def sentinel_target(url: str) -> SentinelTarget | None:
    """The Sentinel URL's parts, None for a plain Redis URL; RedisUrlError says what is wrong with a bad one."""
    scheme, _, rest = url.partition("://")
    if scheme != SENTINEL_SCHEME:
        return None
    parts = urlsplit(f"http://{rest}")  # the host list is no single netloc: parsed by hand below
    userinfo, _, hosts = parts.netloc.rpartition("@")
    username, _, password = userinfo.partition(":") if userinfo else ("", "", "")
    sentinels = []
    for host in filter(None, hosts.split(",")):
        name, _, port = host.rpartition(":")
        if not name or not port.isdigit() or not 0 < int(port) < 65536:
            raise RedisUrlError(f"each sentinel must be HOST:PORT, not {host!r}")
        sentinels.append((name.strip("[]"), int(port)))
    path = [unquote(part) for part in parts.path.split("/") if part]
    if not sentinels or not 1 <= len(path) <= 2 or (len(path) == 2 and not path[1].isdigit()):
        raise RedisUrlError("expected redis+sentinel://HOST:PORT[,HOST:PORT...]/MASTER_NAME[/DB]")
    return SentinelTarget(sentinels=tuple(sentinels), master=path[0], db=int(path[1]) if len(path) == 2 else 0,
                          username=unquote(username) or None, password=unquote(password) or None)


def _sentinel_kwargs(options: dict) -> dict:
    """The connections to the sentinels time out as the client's own do."""
    return {key: options[key] for key in ("socket_connect_timeout", "socket_timeout") if key in options}


def redis_client(url: str, **options):
    """A redis-py client for the URL (options: socket timeouts, protocol, ...)."""
    import redis
    from redis.sentinel import Sentinel

    target = sentinel_target(url)
    if target is None:
        return redis.Redis.from_url(url, **options)
    sentinel = Sentinel(target.sentinels, sentinel_kwargs=_sentinel_kwargs(options))
    return sentinel.master_for(target.master, **target.connection_options(), **options)


def async_redis_client(url: str, **options):
    """A redis.asyncio client for the URL."""
    import redis.asyncio
    from redis.asyncio.sentinel import Sentinel

    target = sentinel_target(url)
    if target is None:
        return redis.asyncio.Redis.from_url(url, **options)
    sentinel = Sentinel(target.sentinels, sentinel_kwargs=_sentinel_kwargs(options))
    return sentinel.master_for(target.master, **target.connection_options(), **options)


def connection_pool(url: str, pool_class, **options):
    """A synchronous connection pool for the URL: pool_class.from_url for a plain URL (Django's cache)."""
    from redis.sentinel import Sentinel, SentinelConnectionPool

    target = sentinel_target(url)
    if target is None:
        return pool_class.from_url(url, **options)
    sentinel = Sentinel(target.sentinels, sentinel_kwargs=_sentinel_kwargs(options))
    return SentinelConnectionPool(target.master, sentinel, **target.connection_options(), **options)


def channel_layer_host(url: str, **options) -> dict:
    """One entry of channels-redis's "hosts" setting."""
    target = sentinel_target(url)
    if target is None:
        return {"address": url, **options}
    return {"sentinels": [list(address) for address in target.sentinels], "master_name": target.master,
            "sentinel_kwargs": _sentinel_kwargs(options), **target.connection_options(), **options}


def celery_broker(url: str) -> tuple[str, dict]:
    """Celery's broker URL and the transport options it needs beside the usual ones."""
    target = sentinel_target(url)
    if target is None:
        return url, {}
    auth = ""
    if target.password:
        auth = f"{quote(target.username or '', safe='')}:{quote(target.password, safe='')}@"
    # kombu takes the database and the password from the first URL, the address from each.
    broker = ";".join(f"sentinel://{auth}{host}:{port}/{target.db}" for host, port in target.sentinels)
    return broker, {"master_name": target.master}
