"""The metrics connect's processes count, for Prometheus (connect/metrics.py serves them; docs/MONITORING.md).

Counted where they happen, in whichever process: with metrics on, prometheus_client's multiprocess mode keeps each
process's counts in files under CONNECT_METRICS_DIR (settings set PROMETHEUS_MULTIPROC_DIR before this module is
first imported), and a scrape adds them up. Values computed from the database or Redis at scrape time (queue depth,
ledger backlog, live viewers) are not here: connect/metrics.py asks for them when scraped.

Labels are few and bounded: a route's name, never a raw path; a method from a fixed list; a status class.
"""

from prometheus_client import Counter, Histogram

REQUEST_SECONDS = Histogram(
    "connect_http_request_duration_seconds",
    "Time from a request's arrival to its response's headers (a download's streaming is not in it).",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
EVIDENCE_STORE_ERRORS = Counter(
    "connect_evidence_store_errors",
    "Evidence reads or writes that failed: the store unreachable or full, a file missing, or a check failing.",
    ["operation", "kind"],
)

METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


class Operation:
    """What the evidence store was asked to do when it failed."""

    READ = "read"
    WRITE = "write"


def request_observe(*, route: str, method: str, status: int, seconds: float) -> None:
    REQUEST_SECONDS.labels(route=route or "unmatched", method=method if method in METHODS else "other",
                           status=f"{status // 100}xx").observe(seconds)


def evidence_store_error(operation: str, exc: BaseException | str) -> None:
    """One failed evidence read or write; `kind` is the exception's class name (or a short word), never its text,
    which may hold a path."""
    kind = exc if isinstance(exc, str) else type(exc).__name__
    EVIDENCE_STORE_ERRORS.labels(operation=operation, kind=kind[:40]).inc()
