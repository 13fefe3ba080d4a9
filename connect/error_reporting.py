"""Error reports to Sentry or a service speaking its protocol (GlitchTip, Bugsink), when CONNECT_SENTRY_DSN is set.

No personal data leaves. The SDK is told to collect none: its data_collection option (which replaced
send_default_pii) with every category off, so no user, cookies, headers, bodies, query parameters or local
variables. before_send then keeps of each event only what finds the bug: the exception's type and scrubbed
message, the stack (code, not values), the request's method and path without tokens or query, and the request id
and route to find its log lines. E-mail and street addresses, phone numbers and client addresses are taken out of
any text that remains.
"""

import re

import sentry_sdk

from common import request_context
from common.logs import REDACTED, scrub_path
from common.logs import scrub as scrub_log

# Reports leave the agency: client addresses go too (logs keep the server addresses they name, for operators).
_IP = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b|\b(?:[0-9a-fA-F]{1,4}:){2,7}[0-9a-fA-F]{1,4}\b")


def scrub(text: str) -> str:
    return _IP.sub(REDACTED, scrub_log(text))

_HEADERS_KEPT = {"content-type", "content-length"}


def error_reporting_start(*, dsn: str, environment: str) -> None:
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        # What send_default_pii=False meant, category by category (sentry-sdk 2.7x replaced that flag with this), and
        # stricter: no user, cookies, headers, bodies, query parameters, SQL parameters or local variables at all.
        data_collection={
            "user_info": False,
            "cookies": {"mode": "off"},
            "http_headers": {"request": {"mode": "off"}},
            "http_bodies": [],
            "url_query_params": {"mode": "off"},
            "database_query_data": False,
            "stack_frame_variables": False,
            "gen_ai": {"inputs": False, "outputs": False},
        },
        max_request_body_size="never",
        traces_sample_rate=None,  # errors only: no performance traces
        before_send=before_send,
        before_breadcrumb=before_breadcrumb,
    )


def before_send(event: dict, hint: dict) -> dict:
    request = event.get("request")
    if request:
        headers = {name: value for name, value in (request.get("headers") or {}).items()
                   if name.lower() in _HEADERS_KEPT}
        event["request"] = {"method": request.get("method"), "url": scrub_path(request.get("url") or ""),
                            "headers": headers}
    event.pop("user", None)
    for exception in (event.get("exception") or {}).get("values") or []:
        if exception.get("value"):
            exception["value"] = scrub(str(exception["value"]))
        _frames_scrub(exception)
    for entry in (event.get("threads") or {}).get("values") or []:
        _frames_scrub(entry)
    if event.get("logentry"):
        event["logentry"] = {"message": scrub(str(event["logentry"].get("formatted") or
                                                  event["logentry"].get("message") or ""))}
    if isinstance(event.get("message"), str):
        event["message"] = scrub(event["message"])
    if event.get("extra"):
        event["extra"] = {key: _scrubbed(value) for key, value in event["extra"].items()}
    breadcrumbs = event.get("breadcrumbs")
    if isinstance(breadcrumbs, dict):
        breadcrumbs["values"] = [before_breadcrumb(crumb, {}) for crumb in breadcrumbs.get("values") or []]
    context = request_context.current()
    if context is not None:
        tags = event.setdefault("tags", {})
        for name in ("request_id", "route", "task", "task_id"):
            if getattr(context, name):
                tags[name] = getattr(context, name)
    return event


def _frames_scrub(holder: dict) -> None:
    """No local variables; the source lines shown around each frame scrubbed like any text."""
    for frame in (holder.get("stacktrace") or {}).get("frames") or []:
        frame.pop("vars", None)
        if frame.get("context_line"):
            frame["context_line"] = scrub(frame["context_line"])
        for key in ("pre_context", "post_context"):
            if frame.get(key):
                frame[key] = [scrub(line) for line in frame[key]]


def before_breadcrumb(crumb: dict, hint: dict) -> dict:
    """Breadcrumbs (log lines, SQL, Redis commands before the error) keep their category and a scrubbed message;
    their data (SQL parameters, HTTP URLs, Redis keys) goes."""
    kept = {key: crumb[key] for key in ("type", "category", "level", "timestamp") if key in crumb}
    if crumb.get("message"):
        kept["message"] = scrub(str(crumb["message"]))
    return kept


def _scrubbed(value):
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    return scrub(str(value))
