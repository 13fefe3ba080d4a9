"""Log records for people (text) or collectors (one JSON object a line), scrubbed of what must never be logged.

Whatever the format, the console handler's ScrubFilter removes signed links' tokens from paths, query strings from
URLs (a clip's view token rides in one) and client addresses from uvicorn's access lines: logs are kept longer and
read by more people than the ledger, so they name no owner, token or session. RequestContextFilter adds the
request id (and route, staff user id, task) of the work in progress to every record.
"""

import json
import logging
import logging.config
import re
from datetime import UTC, datetime

from common import request_context

# A path segment that looks like a secret: 24+ characters with letters and digits, not a UUID (connect's public
# codes are UUIDs) and not a file name. Signed links (registry/links.py, requests_app consent) are 40+ characters;
# Django's signing adds ':' separators.
_SEGMENT = re.compile(r"(?<=/)[A-Za-z0-9_.:~%=+-]{24,}(?=/|$|\s|\?|\"|')")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_QUERY = re.compile(r"(/[^\s?\"']*)\?[^\s\"']*")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
# Owners' street addresses and phone numbers, should a message ever quote one (a validation error, say).
_STREET = re.compile(r"\b\d{1,6}\s+(?:[A-Z][A-Za-z'.-]*\s+){1,4}(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|"
                     r"Drive|Dr|Lane|Ln|Court|Ct|Way|Place|Pl|Circle|Cir|Parkway|Pkwy|Highway|Hwy|Terrace|Ter|"
                     r"Trail|Trl|Square|Sq|Loop|Row|Calle|Avenida)\b\.?")
_PHONE = re.compile(r"(?<![\w.:-])(?:\+?1[ .-]?)?\(?\d{3}\)?[ .-]\d{3}[ .-]\d{4}(?![\w.:-])")
_CREDENTIAL = re.compile(r"(?i)\b(bearer |(?:token|sessionid|csrftoken|password)=)[^\s&\"',]+")
REDACTED = "[redacted]"

# Attributes every LogRecord has; anything else on a record was passed in `extra=` and goes into the JSON object.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName",
                                                                         "color_message"}  # uvicorn's, with ANSI
_CONTEXT_FIELDS = ("request_id", "route", "user_id", "task", "task_id")


def configure(config: dict) -> None:
    """settings.LOGGING_CONFIG: Django's dictConfig, and Python's warnings through the same handler (else they would
    be bare text among the JSON lines)."""
    logging.config.dictConfig(config)
    logging.captureWarnings(True)


def scrub(text: str) -> str:
    """Takes out of free text what logs must not hold: tokens in paths and headers, query strings, e-mail and street
    addresses, phone numbers."""
    text = _QUERY.sub(r"\1?" + REDACTED, text)
    text = _SEGMENT.sub(_segment, text)
    text = _CREDENTIAL.sub(lambda match: match.group(1) + REDACTED, text)
    text = _EMAIL.sub(REDACTED, text)
    text = _STREET.sub(REDACTED, text)
    return _PHONE.sub(REDACTED, text)


def _segment(match: re.Match) -> str:
    segment = match.group(0)
    secret = (not _UUID.fullmatch(segment) and not segment.endswith(".py")
              and any(c.isdigit() for c in segment) and any(c.isalpha() for c in segment))
    return REDACTED if secret else segment


def scrub_path(path: str) -> str:
    """A request path as logs may show it: no query string, no token segments."""
    return _SEGMENT.sub(_segment, path.split("?", 1)[0])


class RequestContextFilter(logging.Filter):
    """Copies the current request's (or task's) id, route and staff user id onto the record."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = request_context.current()
        for name in _CONTEXT_FIELDS:
            value = getattr(context, name, None) if context is not None else None
            if not hasattr(record, name):
                setattr(record, name, value if value not in ("", None) else None)
        return True


class ScrubFilter(logging.Filter):
    """Rewrites each record's message, once, before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_scrubbed", False):
            return True
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5:
            # uvicorn: (client address, method, path with query, HTTP version, status). The address is personal
            # data of whoever asked (an owner on the consent page): the ledger records addresses where it must.
            _client, method, path, version, status = record.args
            record.msg, record.args = '"%s %s HTTP/%s" %d', (method, scrub_path(str(path)), version, status)
            record.http_method, record.http_path, record.http_status = method, scrub_path(str(path)), status
        else:
            message = scrub(record.getMessage())
            record.msg, record.args = message, None
        if record.exc_info and not record.exc_text:
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = scrub(record.exc_text)
        record._scrubbed = True
        return True


class TextFormatter(logging.Formatter):
    """Lines for people: time, level, logger, message, then the request id (or task id) when there is one."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        request_id, task_id = getattr(record, "request_id", None), getattr(record, "task_id", None)
        if request_id:
            return f"{text} [request {request_id}]" if "\n" not in text else text.replace(
                "\n", f" [request {request_id}]\n", 1)
        if task_id:
            return f"{text} [task {task_id}]" if "\n" not in text else text.replace("\n", f" [task {task_id}]\n", 1)
        return text


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, the context fields present, any
    `extra=` fields, and the exception (type, message, traceback) as a field of its own."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in _CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value not in (None, ""):
                entry[name] = value
        for name, value in vars(record).items():
            # Plain values only: an object passed in `extra=` (Django's request) would show its path and query.
            if name not in _STANDARD and name not in entry and not name.startswith("_") \
                    and isinstance(value, (str, int, float, bool)):
                entry[name] = scrub(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exception"] = {"type": record.exc_info[0].__name__ if record.exc_info[0] else None,
                                  "message": scrub(str(record.exc_info[1])),
                                  "traceback": record.exc_text or self.formatException(record.exc_info)}
        elif record.exc_text:
            entry["exception"] = {"traceback": record.exc_text}
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)
