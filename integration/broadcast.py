"""Messages to the live sockets of one camera, through the channel layer, sent after the change commits.

Viewers of a camera listen on `live-view-<code>`, its connector on `live-conn-<code>`. These carry control
messages only; frames go through integration.relay.
"""

import logging

from django.db import transaction

from common.channel_layer import group_send_from_sync

logger = logging.getLogger(__name__)


def viewers_group(camera_code) -> str:
    return f"live-view-{camera_code}"


def connector_group(camera_code) -> str:
    return f"live-conn-{camera_code}"


def _send(group: str, message: dict) -> None:
    def send():
        try:
            group_send_from_sync(group, message)
        except Exception as exc:  # Redis down: sockets re-check the database on their own timers
            logger.warning("live: could not reach %s (%s)", group, exc)

    transaction.on_commit(send)


def camera_closed(camera_code, *, reason: str) -> None:
    """Sharing stopped or paused: every viewer closes now and the connector is told to stop."""
    _send(viewers_group(camera_code), {"type": "live.closed", "reason": reason, "camera": str(camera_code)})
    _send(connector_group(camera_code), {"type": "connector.closed", "reason": reason})


def session_closed(camera_code, *, session_code, reason: str) -> None:
    _send(viewers_group(camera_code), {"type": "live.session_closed", "session": str(session_code), "reason": reason,
                                       "camera": str(camera_code)})


def sessions_changed(camera_code) -> None:
    """Viewers re-read their session's end; the connector re-checks whether anyone is watching."""
    _send(viewers_group(camera_code), {"type": "live.refresh", "camera": str(camera_code)})
    _send(connector_group(camera_code), {"type": "connector.demand"})


def masks_changed(camera_code) -> None:
    _send(connector_group(camera_code), {"type": "connector.masks"})


def snapshot_wanted(camera_code) -> None:
    _send(connector_group(camera_code), {"type": "connector.snapshot"})


def connector_kicked(camera_code, *, reason: str) -> None:
    _send(connector_group(camera_code), {"type": "connector.kick", "reason": reason})
