"""Websocket routes of every app; each consumer checks who is asking on connect."""

websocket_urlpatterns: list = []
