"""Under ASGI every request has a cache object of its own: they share one Redis connection pool per process, so
requests reuse connections instead of opening one each."""

import urllib.request

import redis
from django.conf import settings

from api import services


def test_requests_reuse_the_processs_redis_connections(asgi_server):
    _, key = services.token_create(name="a system", scopes=["registry:read"])
    redis_server = redis.Redis.from_url(settings.REDIS_URL)

    def get():
        request = urllib.request.Request(asgi_server + "/api/v1/cameras/nearby/?lat=35.78&lng=-78.64",
                                         headers={"Authorization": f"Bearer {key}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200

    get()  # the process's first connection
    opened = redis_server.info("stats")["total_connections_received"]
    for _ in range(10):  # each counted against the token's limit in Redis
        get()
    assert redis_server.info("stats")["total_connections_received"] - opened <= 2  # before: one per request
