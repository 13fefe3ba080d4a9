"""Browser websockets open only from connect's own origin (scheme, host and port), as a form's POST must come from it:
a page on another port or scheme of the same host is refused on every socket, before any session is looked at,
while connect's own pages (and, behind the TLS proxy, https) connect."""

import pytest
from channels.testing import WebsocketCommunicator
from django.test import Client

from connect.asgi import application
from tests.conftest import make_staff_named
from tests.own_loop import run_async

pytestmark = pytest.mark.django_db(transaction=True)

SOCKETS = ["/ws/staff/", "/ws/patrol/", "/ws/wall/", "/ws/dispatch/",
           "/ws/bulletins/00000000-0000-4000-8000-000000000000/",
           "/ws/watch/00000000-0000-4000-8000-000000000000/",
           "/ws/live/00000000-0000-4000-8000-000000000000/"]


@pytest.fixture
def officer_cookie(db):
    client = Client()
    client.force_login(make_staff_named("patrol", "adams"))
    return client.cookies["sessionid"].value


def connects(path: str, cookie: str, *, origin: bytes, host: bytes = b"127.0.0.1:8000", extra=()) -> bool:
    async def attempt():
        socket = WebsocketCommunicator(application, path, headers=[
            (b"origin", origin), (b"host", host), (b"cookie", f"sessionid={cookie}".encode()), *extra])
        connected, _ = await socket.connect(timeout=5)
        if connected:
            await socket.disconnect()
        return connected

    return run_async(attempt())


@pytest.mark.parametrize("origin", [b"http://127.0.0.1:9999", b"https://127.0.0.1:8000", b"http://127.0.0.1",
                                   b"null"])
def test_another_port_or_scheme_of_the_same_host_is_refused_on_every_socket(officer_cookie, origin):
    for path in SOCKETS:
        assert not connects(path, officer_cookie, origin=origin), (path, origin)


def test_connects_own_pages_connect(officer_cookie):
    assert connects("/ws/patrol/", officer_cookie, origin=b"http://127.0.0.1:8000")


def test_behind_the_tls_proxy_the_https_origin_is_the_own_one(officer_cookie, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    proxied = [(b"x-forwarded-proto", b"https")]
    assert connects("/ws/patrol/", officer_cookie, origin=b"https://127.0.0.1", host=b"127.0.0.1", extra=proxied)
    assert not connects("/ws/patrol/", officer_cookie, origin=b"http://127.0.0.1", host=b"127.0.0.1", extra=proxied)


def test_a_host_not_allowed_is_refused_even_from_its_own_origin(officer_cookie):
    """DNS rebinding: a page of evil.example whose name now points at connect sends Origin and Host alike."""
    assert not connects("/ws/patrol/", officer_cookie, origin=b"http://evil.example:8000", host=b"evil.example:8000")
