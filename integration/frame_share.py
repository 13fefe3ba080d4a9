"""'Send this frame': the frame an analyst is looking at (privacy masks already applied by the connector's socket),
held for a few minutes for a higher app that shares it (bulletins registers itself in its AppConfig.ready; integration
never imports it). Held per analyst: only the analyst who held a frame can take it. Held sealed, as live frames pass
through Redis (integration.live_crypto, bound to the token): for those minutes Redis's memory, a dump or a replica
shows no picture of anyone's door, nor whose camera took it."""

import logging
import pickle
import uuid
from dataclasses import dataclass

from django.core.cache import cache

from integration import live_crypto

logger = logging.getLogger(__name__)

HOLD_SECONDS = 600
_targets: list = []  # callables token -> URL of the page that shares the held frame


@dataclass(frozen=True)
class HeldFrame:
    jpeg: bytes
    analyst_id: int
    session_code: str
    camera_code: str
    owner_code: str
    incident_id: int | None
    case_number: str


def target_register(url_for_token) -> None:
    if url_for_token not in _targets:
        _targets.append(url_for_token)


def target_url(token: str) -> str | None:
    return _targets[0](token) if _targets else None


def _key(token: str) -> str:
    return f"live-frame-held:{token}"


def frame_hold(*, session, frame: bytes) -> str:
    """Holds the frame and returns its token (the session's camera, owner and case go with it, for the ledger)."""
    token = uuid.uuid4().hex
    held = HeldFrame(jpeg=frame, analyst_id=session.analyst_id, session_code=str(session.code),
                     camera_code=str(session.camera.code), owner_code=str(session.camera.owner.code),
                     incident_id=session.incident_id,
                     case_number=session.incident.case_number if session.incident_id else "")
    cache.set(_key(token), live_crypto.held_seal(pickle.dumps(held), token=token), HOLD_SECONDS)
    return token


def frame_held(*, token: str, user_id: int) -> HeldFrame | None:
    """The frame held under `token` if this user held it and it has not lapsed; else None."""
    stored = cache.get(_key(token)) if token and token.isalnum() else None
    if stored is None:
        return None
    try:
        held = pickle.loads(live_crypto.held_open(stored, token=token))  # unpickled only once it authenticates
    except live_crypto.Unreadable as exc:
        logger.warning("a held live frame could not be opened: %s", exc)
        return None
    return held if isinstance(held, HeldFrame) and held.analyst_id == user_id else None


def frame_release(token: str) -> None:
    cache.delete(_key(token))
