"""/healthz: is the database, Redis and at least one Celery worker up? 200 only when all three are."""

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from common.redis_url import redis_client
from connect.celery import app as celery_app


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT PostGIS_Lib_Version()")
        return "ok"
    except Exception as exc:  # any failure means "down"; the message says which
        return f"down: {type(exc).__name__}"


def _redis() -> str:
    try:
        redis_client(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1).ping()
        return "ok"
    except redis.RedisError as exc:
        return f"down: {type(exc).__name__}"


def _celery() -> str:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=1)
            # limit=1: answer as soon as one worker replies instead of waiting out the timeout.
            replies = celery_app.control.ping(timeout=1.0, limit=1, connection=conn)
    except Exception as exc:  # kombu raises several unrelated types when the broker is gone
        return f"down: {type(exc).__name__}"
    return "ok" if replies else "down: no worker answered"


@never_cache
@require_GET
def healthz(request):
    checks = {"database": _database(), "redis": _redis()}
    checks["celery"] = _celery() if checks["redis"] == "ok" else "down: no broker"
    healthy = all(state == "ok" for state in checks.values())
    return JsonResponse({"status": "ok" if healthy else "down", **checks}, status=200 if healthy else 503)
