"""ASGI entry point: HTTP through Django, websockets through Channels (host- and origin-checked)."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "connect.settings")
django.setup(set_prefix=False)

from connect.asgi_body import SealedBodyASGIHandler  # noqa: E402  (needs Django set up first)

# Django's own handler, except that request bodies never reach the disk in plaintext (uploaded evidence).
django_asgi_app = SealedBodyASGIHandler()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs Django set up first)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from connect.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
