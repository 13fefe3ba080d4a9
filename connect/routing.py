"""Websocket routes of every app; each consumer checks who is asking on connect and on every event."""

from django.urls import path

from accounts.consumers import StaffSocket
from dispatch.consumers import DispatchSocket

websocket_urlpatterns = [
    path("ws/staff/", StaffSocket.as_asgi()),
    path("ws/dispatch/", DispatchSocket.as_asgi()),
]
