"""Websocket routes of every app; each consumer checks who is asking on connect and on every event.

Browser sockets (staff map, live views) go through the allowed-origin check and the session; camera
connectors are programs, send no Origin, and prove themselves with a per-camera token instead.
"""

from django.urls import path

from accounts.consumers import StaffSocket
from bulletins.consumers import PatrolSocket, ReceiptsSocket
from detections.consumers import WatchSocket
from dispatch.consumers import DispatchSocket
from integration.consumers import ConnectorSocket, LiveViewSocket, WallSocket

websocket_urlpatterns = [
    path("ws/staff/", StaffSocket.as_asgi()),
    path("ws/dispatch/", DispatchSocket.as_asgi()),
    path("ws/live/<uuid:session>/", LiveViewSocket.as_asgi()),
    path("ws/wall/", WallSocket.as_asgi()),
    path("ws/watch/<uuid:session>/", WatchSocket.as_asgi()),
    path("ws/patrol/", PatrolSocket.as_asgi()),
    path("ws/bulletins/<uuid:code>/", ReceiptsSocket.as_asgi()),
]

connector_urlpatterns = [
    path("ws/connector/<uuid:camera>/", ConnectorSocket.as_asgi()),
]
