"""/healthz: can connect do its work now?

503 "down" when a request or task would fail: the database, Redis, no Celery worker answering, or the evidence store
unreachable. 200 "degraded" when connect works but an operator should look: no ledger sealer running (writers seal
their own entries, more slowly), the ledger's oldest unsealed entry older than CONNECT_HEALTH_SEALER_LAG_S, or less
free space in the evidence store than CONNECT_HEALTH_MIN_FREE_MB. 200 "ok" otherwise.

The public body gives each check's state in words and exception class names, never a path, a version or a figure;
a request with the metrics token (`Authorization: Bearer CONNECT_METRICS_TOKEN`) also gets `detail`: free bytes,
the ledger's backlog and the store's error. Not by address: behind a proxy on the same machine every request
comes from 127.0.0.1.
"""

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from audit.ledger import backlog, sealer_holds_lock
from common.redis_url import redis_client
from connect.celery import app as celery_app
from connect.metrics import has_metrics_token
from requests_app.evidence import evidence_store_health


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


def _evidence_store(detail: dict) -> str:
    health = evidence_store_health()
    detail["evidence_store"] = {"free_bytes": health.free_bytes, "error": health.error}
    if not health.reachable:
        return "down"
    if health.free_bytes is not None and health.free_bytes < settings.HEALTH_MIN_FREE_MB * 1024 * 1024:
        return "low on space"
    return "ok"


def _ledger(detail: dict) -> tuple[str, str]:
    """(the sealer's state, the backlog's state)."""
    try:
        running = sealer_holds_lock()
        waiting = backlog()
    except Exception as exc:  # the database is down: its own check says so
        return f"unknown: {type(exc).__name__}", f"unknown: {type(exc).__name__}"
    detail["ledger"] = {"pending": waiting.count, "lag_seconds": round(waiting.lag_seconds, 3)}
    return ("running" if running else "stopped"), ("lagging" if waiting.lag_seconds > settings.HEALTH_SEALER_LAG_S
                                                   else "ok")


@never_cache
@require_GET
def healthz(request):
    detail: dict = {}
    checks = {"database": _database(), "redis": _redis()}
    checks["celery"] = _celery() if checks["redis"] == "ok" else "down: no broker"
    checks["evidence_store"] = _evidence_store(detail)
    checks["sealer"], checks["ledger"] = _ledger(detail) if checks["database"] == "ok" else ("unknown", "unknown")
    required = ("database", "redis", "celery")
    if any(checks[name] != "ok" for name in required) or checks["evidence_store"] == "down":
        status = "down"
    elif checks["sealer"] != "running" or checks["ledger"] != "ok" or checks["evidence_store"] != "ok":
        status = "degraded"
    else:
        status = "ok"
    body = {"status": status, **checks}
    if has_metrics_token(request):
        body["detail"] = detail
    return JsonResponse(body, status=503 if status == "down" else 200)
