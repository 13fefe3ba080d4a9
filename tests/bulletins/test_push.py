"""Web Push of bulletins: off unless configured; a patrol officer subscribes their own browser; a bulletin reaches
each recipient's subscriptions through a real HTTP push endpoint (started here), encrypted to the browser's keys
and carrying the priority and the page link alone; a subscription the push service calls gone is deleted."""

import base64
import json
import os
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import Client
from py_vapid import Vapid

from bulletins import services
from bulletins.models import PushSubscription
from bulletins.services import Addressees, Still
from tests.bulletins.conftest import jpeg
from tests.conftest import make_staff

pytestmark = pytest.mark.django_db


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def public_raw(key) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


class PushService:
    """A local push service: records each POST; answers 410 on paths under /gone/, 201 otherwise."""

    def __init__(self):
        self.received: list[dict] = []
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {name.lower(): value for name, value in self.headers.items()}
                service.received.append({"path": self.path, "headers": headers, "body": body})
                self.send_response(410 if self.path.startswith("/gone/") else 201)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def push_service():
    service = PushService()
    yield service
    service.server.shutdown()
    service.server.server_close()


@pytest.fixture
def webpush_on(settings):
    vapid = Vapid()
    vapid.generate_keys()
    settings.WEBPUSH_VAPID_PRIVATE_KEY = b64url(vapid.private_key.private_numbers().private_value.to_bytes(32, "big"))
    settings.WEBPUSH_VAPID_PUBLIC_KEY = b64url(public_raw(vapid.private_key))
    settings.WEBPUSH_CONTACT = "mailto:rtcc@example.org"
    settings.WEBPUSH_ENABLED = True
    settings.WEBPUSH_LOOPBACK_HTTP = True
    return settings


class Browser:
    """A browser's push subscription keys (what PushManager.subscribe makes)."""

    def __init__(self, endpoint: str):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        self.endpoint = endpoint

    def subscription(self) -> dict:
        return {"endpoint": self.endpoint, "keys": {"p256dh": b64url(public_raw(self.key)), "auth": b64url(self.auth)}}

    def decrypt(self, body: bytes) -> dict:
        return json.loads(http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"))


def subscribe(user, browser: Browser, **extra):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client.post("/patrol/push/", data=json.dumps({**browser.subscription(), **extra}),
                       content_type="application/json")


def send(analyst, django_capture_on_commit_callbacks, priority="urgent"):
    with django_capture_on_commit_callbacks(execute=True):
        return services.bulletin_send(sender=analyst, description="white hat, grey backpack", priority=priority,
                                      addressees=Addressees(units=["2B11"]), still=Still(jpeg=jpeg()))


def test_a_bulletin_pushes_only_its_priority_and_the_page_link(officers, analyst, webpush_on, push_service,
                                                              django_capture_on_commit_callbacks):
    phone = Browser(push_service.url + "/push/adams-phone")
    assert subscribe(officers[0], phone).status_code == 201
    assert PushSubscription.objects.get().user == officers[0]
    other_phone = Browser(push_service.url + "/push/baker-phone")
    assert subscribe(officers[1], other_phone).status_code == 201  # baker is not addressed: nothing for him

    send(analyst, django_capture_on_commit_callbacks, priority="emergency")
    assert [r["path"] for r in push_service.received] == ["/push/adams-phone"]
    request = push_service.received[0]
    assert request["headers"]["content-encoding"] == "aes128gcm"
    assert request["headers"]["authorization"].startswith("vapid t=")
    assert b"white hat" not in request["body"]
    assert phone.decrypt(request["body"]) == {"title": "New bulletin (Emergency)", "url": "/patrol/"}


def test_a_gone_subscription_is_deleted(officers, analyst, webpush_on, push_service,
                                        django_capture_on_commit_callbacks):
    subscribe(officers[0], Browser(push_service.url + "/gone/old-phone"))
    subscribe(officers[0], Browser(push_service.url + "/push/new-phone"))
    send(analyst, django_capture_on_commit_callbacks)
    assert len(push_service.received) == 2
    assert list(PushSubscription.objects.values_list("endpoint", flat=True)) == [push_service.url + "/push/new-phone"]


def test_off_when_unset(officers, analyst, push_service, django_capture_on_commit_callbacks):
    client = Client()
    client.force_login(officers[0])
    assert "Notify me when the page is closed" not in client.get("/patrol/").content.decode()
    assert subscribe(officers[0], Browser(push_service.url + "/push/adams-phone")).status_code == 404
    send(analyst, django_capture_on_commit_callbacks)
    assert push_service.received == [] and not PushSubscription.objects.exists()


def test_only_the_signed_in_patrol_officer_subscribes_themselves(officers, webpush_on, push_service):
    page = Client()
    page.force_login(officers[0])
    assert "Notify me when the page is closed" in page.get("/patrol/").content.decode()
    phone = Browser(push_service.url + "/push/adams-phone")
    assert subscribe(None, phone).status_code == 401
    assert subscribe(make_staff("auditor"), phone).status_code == 403
    assert not PushSubscription.objects.exists()
    assert subscribe(officers[0], phone).status_code == 201
    subscribe(officers[1], phone, remove=True)  # another officer cannot take it away
    assert PushSubscription.objects.get().user == officers[0]
    subscribe(officers[0], phone, remove=True)
    assert not PushSubscription.objects.exists()


def test_a_push_service_on_this_network_is_refused(officers, webpush_on):
    webpush_on.WEBPUSH_LOOPBACK_HTTP = False
    for endpoint in ["http://fcm.googleapis.com/fcm/send/x", "https://10.0.0.5/push", "https://localhost/push",
                     "https://127.0.0.1/push", "https://[::ffff:10.0.0.5]/push", "https://[fd00::1]/push"]:
        response = subscribe(officers[0], Browser(endpoint))
        assert response.status_code == 400 and "public https address" in response.json()["error"], endpoint
    assert subscribe(officers[0], Browser("https://fcm.googleapis.com/fcm/send/x")).status_code == 201


def test_a_name_that_now_points_at_this_network_is_not_posted_to(officers, analyst, webpush_on, push_service,
                                                                 monkeypatch, django_capture_on_commit_callbacks):
    """DNS rebinding: the endpoint's name was public when the browser sent it; when a bulletin goes out, the name
    points at an address on this network (here, the local push service's). The server does not post there."""
    phone = Browser(f"http://push.example:{push_service.server.server_address[1]}/push/adams-phone")
    keys = phone.subscription()["keys"]
    PushSubscription.objects.create(user=officers[0], endpoint=phone.endpoint, p256dh=keys["p256dh"],
                                    auth=keys["auth"])  # as saved while the name was public
    looked_up = socket.getaddrinfo

    def rebound(host, *args, **kwargs):
        return looked_up("127.0.0.1" if host == "push.example" else host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebound)
    send(analyst, django_capture_on_commit_callbacks)  # loopback allowed (tests' own setting): the name reaches it
    assert [r["path"] for r in push_service.received] == ["/push/adams-phone"]

    webpush_on.WEBPUSH_LOOPBACK_HTTP = False  # as in production: an address on this network is never posted to
    send(analyst, django_capture_on_commit_callbacks)
    assert len(push_service.received) == 1
    assert PushSubscription.objects.filter(endpoint=phone.endpoint).exists()  # a failed post, not a gone one


def test_a_push_goes_to_the_next_address_when_the_first_does_not_answer(officers, analyst, webpush_on, push_service,
                                                                        monkeypatch,
                                                                        django_capture_on_commit_callbacks):
    """A name with two addresses, the first not answering (as an IPv6 address on a server without an IPv6 route):
    the push goes to the second, as any client would."""
    phone = Browser(f"http://push.example:{push_service.server.server_address[1]}/push/adams-phone")
    keys = phone.subscription()["keys"]
    PushSubscription.objects.create(user=officers[0], endpoint=phone.endpoint, p256dh=keys["p256dh"],
                                    auth=keys["auth"])
    looked_up = socket.getaddrinfo

    def two_addresses(host, *args, **kwargs):
        if host != "push.example":
            return looked_up(host, *args, **kwargs)
        return looked_up("127.0.0.2", *args, **kwargs) + looked_up("127.0.0.1", *args, **kwargs)  # nobody at .2

    monkeypatch.setattr(socket, "getaddrinfo", two_addresses)
    send(analyst, django_capture_on_commit_callbacks)
    assert [r["path"] for r in push_service.received] == ["/push/adams-phone"]
