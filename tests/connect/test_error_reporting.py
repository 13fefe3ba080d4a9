"""Error reports (CONNECT_SENTRY_DSN): an exception reaches a Sentry-compatible server, a real HTTP server on a local
port here, with what finds the bug and nothing personal: no e-mail or street address, no cookie, token, header,
request body, query string or local variable."""

import gzip
import json
import threading
import urllib.error
import urllib.parse
import urllib.request
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sentry_sdk
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from connect.error_reporting import error_reporting_start
from tests.conftest import wait_for

OWNER_EMAIL = "alice@example.org"
OWNER_ADDRESS = "1 Alpha Street"
SIGNED_LINK_TOKEN = ".eJyrVkrOz0vOTC4pSkxJUbIyMtAB8-OTS1SsjAwNDS1hLANjPQ:1tZ2Xq:abcDEF1234567"


class Receiver(BaseHTTPRequestHandler):
    """Takes envelopes as a Sentry server does (POST /api/<project>/envelope/) and keeps their raw bytes."""

    received: list[bytes] = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        elif encoding == "br":
            import brotli

            body = brotli.decompress(body)
        self.received.append(body)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def sentry_server():
    Receiver.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    error_reporting_start(dsn=f"http://public-key@127.0.0.1:{server.server_address[1]}/42", environment="test")
    yield Receiver.received
    sentry_sdk.get_client().close(timeout=5)
    sentry_sdk.init()  # no DSN: reporting off again for the rest of the run
    server.shutdown()


def events(envelopes: list[bytes]) -> list[dict]:
    found = []
    for envelope in envelopes:
        lines = envelope.split(b"\n")
        for header, payload in zip(lines[1::2], lines[2::2], strict=False):
            if json.loads(header).get("type") == "event":
                found.append(json.loads(payload))
    return found


@pytest.mark.urls(__name__)
def test_an_exception_arrives_without_personal_data(asgi_server, sentry_server):
    request = urllib.request.Request(
        f"{asgi_server}/footage/{SIGNED_LINK_TOKEN}/?view=query-view-token",
        data=urllib.parse.urlencode({"email": OWNER_EMAIL}).encode(), method="POST",
        headers={"Cookie": "sessionid=session-cookie-value-123", "Authorization": "Bearer cnt_api-token-value",
                 "X-Forwarded-For": "203.0.113.9", "X-Request-ID": "abcdef0123456789"})
    with pytest.raises(urllib.error.HTTPError) as failed:
        urllib.request.urlopen(request, timeout=30)
    assert failed.value.code == 500
    request_id = failed.value.headers["X-Request-ID"]
    sentry_sdk.flush(timeout=10)
    reports = wait_for(lambda: events(sentry_server))

    raw = b"".join(sentry_server).decode()
    for personal in (OWNER_EMAIL, OWNER_ADDRESS, "919-555-0101", SIGNED_LINK_TOKEN, "query-view-token",
                     "session-cookie-value", "cnt_api-token-value", "203.0.113.9", "REMOTE_ADDR", "ip_address"):
        assert personal not in raw, personal
    report = reports[0]
    exception = report["exception"]["values"][-1]
    assert exception["type"] == "ValueError"
    assert exception["value"] == "cannot send the footage request to [redacted] at [redacted], Raleigh"
    assert any(frame["function"] == "failing_view" for frame in exception["stacktrace"]["frames"])
    assert report["request"]["url"].endswith("/footage/[redacted]/")  # the site's address, no token, no query
    assert report["request"]["method"] == "POST" and "data" not in report["request"]
    # What finds the request's log lines: its id (made here: no trusted proxy) and its route.
    assert report["tags"]["request_id"] == request_id and report["tags"]["route"] == "failing"
    assert "user" not in report


# Far from the constants above: the report shows a few source lines around the failing one.
def failing_view(request, token):
    owner_phone = "919-555-" + "0101"  # a local variable's value the report must not carry  # noqa: F841
    raise ValueError(f"cannot send the footage request to {OWNER_EMAIL} at {OWNER_ADDRESS}, Raleigh")


urlpatterns = [path("footage/<str:token>/", csrf_exempt(failing_view), name="failing")]
