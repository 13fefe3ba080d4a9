"""ASGI entry point: HTTP through Django, websockets through Channels (host- and origin-checked)."""

import logging
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "connect.settings")
# uvicorn's --no-access-log leaves its access logger without handlers; Django's logging configuration (connect's
# LOGGING) would give it the console handler back, and every answer would pay for a line nobody asked for.
_access = logging.getLogger("uvicorn.access")
_access_log_off = not _access.handlers and not _access.propagate
django.setup(set_prefix=False)
if _access_log_off:
    _access.handlers, _access.propagate = [], False

from api.map_route import MapRoute  # noqa: E402
from api.nearby_route import NearbyRoute  # noqa: E402
from api.position_push import PositionPush  # noqa: E402
from connect.asgi_body import SealedBodyASGIHandler  # noqa: E402  (needs Django set up first)
from connect.asgi_threads import ReusedRequestThreads, SyncStackInOneHop  # noqa: E402
from connect.metrics import metrics_port_serve  # noqa: E402
from connect.observability import RequestObservation  # noqa: E402


class DjangoHandler(SyncStackInOneHop, SealedBodyASGIHandler):
    """Django's own handler, except that request bodies never reach the disk in plaintext (uploaded evidence), the
    middlewares and view run in one call on the request's thread, and answers go out in the pieces they come in."""

    @classmethod
    def chunk_bytes(cls, data):
        # Django copies every piece into 64 KiB slices, sixteen sends per 1 MiB evidence record; the ASGI server
        # takes a message of any size and applies its own flow control, so each piece goes out whole.
        yield data, True


# Each request's sync code runs on a thread kept between requests rather than a new one per request.
django_asgi_app = ReusedRequestThreads(DjangoHandler())
# Three hot endpoints have explicit routes on the event loop for their plain case (api.fast_route): vehicle
# location's one-position pushes, other systems' nearby searches and the staff map's data; every other request goes
# to Django. In front of them all: the request id and the latency metric.
http_app = RequestObservation(NearbyRoute(MapRoute(PositionPush(django_asgi_app))))

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs Django set up first)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from connect.routing import connector_urlpatterns, websocket_urlpatterns  # noqa: E402
from connect.socket_origin import SameOriginSockets  # noqa: E402

browser_sockets = SameOriginSockets(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
connector_sockets = URLRouter(connector_urlpatterns)


async def websockets(scope, receive, send):
    """Connectors authenticate by token (no cookies, no Origin); everything else is a browser socket."""
    app = connector_sockets if scope["path"].startswith("/ws/connector/") else browser_sockets
    return await app(scope, receive, send)


application = ProtocolTypeRouter({"http": http_app, "websocket": RequestObservation(websockets)})
metrics_port_serve()  # when CONNECT_METRICS_PORT is set: one process of the machine serves it, any will do
