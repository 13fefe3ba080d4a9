"""Registers the compose page as where the live view's 'Send this frame' goes (integration/frame_share.py)."""

from django.urls import reverse

from integration import frame_share


def compose_url(token: str) -> str:
    return f"{reverse('bulletins:compose')}?frame={token}"


def register() -> None:
    frame_share.target_register(compose_url)
