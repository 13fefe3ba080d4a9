"""Prometheus metrics: the counts every process keeps (common/metrics.py) and the state read when scraped.

Two ways out, both off unless configured (deny by default):
- CONNECT_METRICS_PORT: a small HTTP server of its own on CONNECT_METRICS_ADDRESS (127.0.0.1 unless set), not
  on the public site. Every web and worker process of a machine tries to bind it; one holds it and the others try
  again every PORT_RETRY_S, so when that process goes another takes over. All of them count into the same
  CONNECT_METRICS_DIR, so whichever serves gives the machine's totals.
- CONNECT_METRICS_TOKEN: /metrics on the site, for a scraper sending `Authorization: Bearer <token>`; 404 without
  the setting, 401 without the right token.

Gauges read at scrape time (the ledger's backlog, queue depth, live viewers, connectors) come from the database
and Redis, so they are the same whichever process or machine answers: alert on one machine's value (max()).
"""

import hmac
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import redis
from django.conf import settings
from django.db import close_old_connections, connection
from django.http import HttpResponse, HttpResponseNotFound
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily

log = logging.getLogger(__name__)

PORT_RETRY_S = 10.0
QUEUES = ("celery",)  # the Celery queues connect uses (no routes: every task goes to the default queue)
# kombu's Redis transport keeps a queue's priorities in lists of their own: name, then name + sep + step.
_PRIORITY_SUFFIXES = ("", "\x06\x163", "\x06\x166", "\x06\x169")


class StateCollector:
    """Gauges computed when scraped, from the database and Redis. A source that is down gives
    connect_metrics_source_up 0 and leaves its gauges out rather than failing the scrape."""

    def collect(self):
        up = GaugeMetricFamily("connect_metrics_source_up", "Whether this scrape could read the source (1) or not (0).",
                               labels=["source"])
        yield from self._guarded(up, "database", self._database)
        yield from self._guarded(up, "redis", self._redis)
        yield from self._guarded(up, "evidence_store", self._evidence)
        yield up

    @staticmethod
    def _guarded(up, source, read):
        try:
            families = list(read())
        except Exception as exc:  # any failure: the source is down for this scrape, the rest still answers
            log.warning("metrics: cannot read the %s (%s)", source, type(exc).__name__)
            up.add_metric([source], 0)
            return []
        up.add_metric([source], 1)
        return families

    @staticmethod
    def _database():
        from audit.ledger import backlog, sealer_holds_lock
        from integration.selectors import live_viewers_count

        pending = backlog()
        yield GaugeMetricFamily("connect_ledger_pending_entries",
                                "Ledger entries recorded and not yet sealed into the chain.", value=pending.count)
        yield GaugeMetricFamily("connect_ledger_sealer_lag_seconds",
                                "How long the oldest unsealed ledger entry has waited (0: none waits).",
                                value=pending.lag_seconds)
        yield GaugeMetricFamily("connect_ledger_sealer_running",
                                "Whether a sealer process holds its lock (1) or not (0): without one, writers "
                                "seal their own entries.", value=int(sealer_holds_lock()))
        yield GaugeMetricFamily("connect_live_viewers", "Live views open now, across every server.",
                                value=live_viewers_count())

    @staticmethod
    def _redis():
        from integration.selectors import connectors_online_count

        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
        try:
            queued = GaugeMetricFamily("connect_celery_queue_length", "Tasks waiting in a Celery queue in Redis.",
                                       labels=["queue"])
            with client.pipeline(transaction=False) as pipe:
                for queue in QUEUES:
                    for suffix in _PRIORITY_SUFFIXES:
                        pipe.llen(queue + suffix)
                lengths = pipe.execute()
            for index, queue in enumerate(QUEUES):
                queued.add_metric([queue], sum(lengths[index * 4:(index + 1) * 4]))
            yield queued
            yield GaugeMetricFamily("connect_celery_tasks_unacknowledged",
                                    "Tasks a worker has taken and not finished (they return if it dies).",
                                    value=client.hlen("unacked"))
            yield GaugeMetricFamily("connect_live_connectors_online", "Camera connectors connected now.",
                                    value=connectors_online_count(client))
        finally:
            client.close()

    @staticmethod
    def _evidence():
        from requests_app.evidence import evidence_store_health

        health = evidence_store_health()
        yield GaugeMetricFamily("connect_evidence_store_up", "Whether the evidence store answers (1) or not (0).",
                                value=int(health.reachable))
        if health.free_bytes is not None:
            yield GaugeMetricFamily("connect_evidence_store_free_bytes", "Free space in the evidence store.",
                                    value=health.free_bytes)


def scrape_registry() -> CollectorRegistry:
    """What a scrape returns: every process's counts (multiprocess mode) or this process's, and the state."""
    registry = CollectorRegistry(auto_describe=False)
    if settings.METRICS_ENABLED and multiprocess_mode():
        multiprocess.MultiProcessCollector(registry, path=str(settings.METRICS_DIR))
    else:
        if settings.METRICS_ENABLED:  # prometheus_client was imported before settings: other processes are missing
            log.warning("metrics: counting in this process only (prometheus_client was imported before settings)")
        for collector in list(REGISTRY._collector_to_names):  # this process's own metrics, single-process mode
            registry.register(collector)
    registry.register(StateCollector())
    return registry


def multiprocess_mode() -> bool:
    from prometheus_client import values

    return values.ValueClass is not values.MutexValue


def scrape() -> bytes:
    return generate_latest(scrape_registry())


def has_metrics_token(request) -> bool:
    """The request carries `Authorization: Bearer CONNECT_METRICS_TOKEN` (the scheme's name in any case, as HTTP
    allows); False when no token is set."""
    expected = settings.METRICS_TOKEN
    scheme, _, offered = request.headers.get("Authorization", "").partition(" ")
    return bool(expected) and scheme.lower() == "bearer" and hmac.compare_digest(offered.encode(), expected.encode())


@never_cache
@require_GET
def metrics_view(request):
    """/metrics for a scraper with the token; 404 when metrics by token are off, 401 without the right token."""
    if not settings.METRICS_TOKEN:
        return HttpResponseNotFound()
    if not has_metrics_token(request):
        response = HttpResponse("A metrics token is required.\n", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(scrape(), content_type=CONTENT_TYPE_LATEST)


_port_thread: threading.Thread | None = None


def metrics_port_serve() -> None:
    """Serves CONNECT_METRICS_PORT from this process if no other process of the machine does (a daemon thread that
    keeps trying). Does nothing without the setting."""
    global _port_thread
    if not settings.METRICS_PORT or _port_thread is not None:
        return
    _port_thread = threading.Thread(target=_serve_when_free, name="metrics-port", daemon=True)
    _port_thread.start()


def _serve_when_free() -> None:
    told = False
    while True:
        try:
            server = ThreadingHTTPServer((settings.METRICS_ADDRESS, settings.METRICS_PORT), _MetricsHandler)
        except OSError as exc:
            if not told:
                log.info("metrics: port %s:%d is taken (%s); another process serves it, this one stands by",
                         settings.METRICS_ADDRESS, settings.METRICS_PORT, exc.strerror)
                told = True
            time.sleep(PORT_RETRY_S)
            continue
        log.info("metrics: serving on %s:%d", settings.METRICS_ADDRESS, settings.METRICS_PORT)
        server.daemon_threads = True
        server.serve_forever()


class _MetricsHandler(BaseHTTPRequestHandler):
    """GET /metrics and nothing else."""

    server_version = "connect-metrics"
    sys_version = ""

    def do_GET(self):  # noqa: N802 (the standard library's name)
        if self.path.split("?", 1)[0] != "/metrics":
            self.send_error(404)
            return
        close_old_connections()
        try:
            body = scrape()
        except Exception:
            log.exception("metrics: the scrape failed")
            self.send_error(500)
            return
        finally:
            connection.close()  # this thread's connection goes back to the pool between scrapes
        self.send_response(200)
        self.send_header("Content-Type", CONTENT_TYPE_LATEST)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # noqa: A002 -- scrapes every few seconds are not worth a log line
        pass

