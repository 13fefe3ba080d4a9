"""What connect's websockets say and hear: the close codes of the whole site, the typed messages sent through one
helper, and the checks of what clients send, before a consumer acts on it. Junk is answered, never raised: an
unhandled exception would only kill the socket and fill the server log.

Close codes, one meaning each, for every socket (ws/staff/, ws/dispatch/, ws/live/<session>/, ws/wall/,
ws/connector/<camera>/); `Close.<NAME>.meaning` says it in words:

    1009  TOO_BIG           a text message longer than the socket accepts
    4400  BAD_MESSAGES      too many malformed messages or bad frames
    4401  UNAUTHENTICATED   no valid sign-in or token: not signed in, the session ended (signed out, expired,
                            disabled, role removed, a lock), or the connector's token is unknown, revoked or replaced
    4403  FORBIDDEN         signed in (or a valid token), but the rules do not allow this now: the role lacks the
                            permission, the analyst's training lapsed, or the owner does not share the camera live
    4404  ENDED             the live view has ended (time limit, the owner's hours, the case closed) or is not yours
    4409  DUPLICATE         already open elsewhere: one connector per camera, one window per live view
    4429  FLOODING          a connector sent frames far above its rate
    4503  UNAVAILABLE       the server cannot reach Redis right now: a connector tries again after the "retry"
                            message's seconds (a few when an analyst waits for its picture)

The camera connector (connector/src/connect_connector/link.py, a program without Django) keeps its own copy of the codes
it acts on; tests/common/test_close_codes.py checks the two agree.

Every socket speaks JSON objects with a "type" string, each type with its fields' expected types. Then:
  - text that is not JSON, JSON that is not an object, a missing or unknown type, a field of the wrong type,
    or binary where text is expected: answered {"type": "error", "reason": ...}; the socket stays open;
  - more than MAX_BAD_MESSAGES of those on one socket: closed with Close.BAD_MESSAGES;
  - text longer than the socket's limit: closed with Close.TOO_BIG (the standard "message too big").
"""

import enum
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Literal, TypedDict

from django.utils.translation import gettext_lazy as _

MAX_TEXT_CHARS = 16 * 1024  # staff sockets send a few short commands; nothing needs more
MAX_BAD_MESSAGES = 20

Schema = Mapping[str, Mapping[str, type | tuple[type, ...]]]  # message type -> {field: expected type(s)}


class Close(enum.IntEnum):
    """Every close code a connect socket sends (see the table above)."""

    def __new__(cls, code: int, meaning):
        member = int.__new__(cls, code)
        member._value_ = code
        member.meaning = meaning
        return member

    TOO_BIG = 1009, _("A message was longer than this socket accepts.")
    BAD_MESSAGES = 4400, _("Too many malformed messages or bad frames.")
    UNAUTHENTICATED = 4401, _("Not signed in, the sign-in has ended, or the connector's token was refused: sign in "
                              "again or check the token.")
    FORBIDDEN = 4403, _("Not allowed now: the role lacks the permission, privacy training lapsed, or the owner does "
                        "not share this camera live.")
    ENDED = 4404, _("The live view has ended or is not yours: open it again from the map.")
    DUPLICATE = 4409, _("Already open elsewhere: one connector per camera, one window per live view.")
    FLOODING = 4429, _("The connector sent frames far above its allowed rate.")
    UNAVAILABLE = 4503, _("The server cannot reach its live service (Redis) right now: try again in a few seconds.")


@dataclass(frozen=True)
class Refusal:
    """Why a socket must close: the code clients act on and the reason people read."""

    code: Close
    reason: str


# Messages every socket may send -----------------------------------------------------------------------------


class ErrorMessage(TypedDict):
    type: Literal["error"]
    reason: str


class Interrupted(TypedDict):
    """Redis went away: the socket stays open and picks up again by itself (common/layer_aware.py)."""

    type: Literal["interrupted"]
    reason: str


# What a staff page shows while its socket waits for Redis (the live view, the dispatch layer).
LIVE_SERVICE_LOST = _("The live service lost its connection; reopening…")


async def message_send(consumer, message: Mapping[str, object]) -> None:
    """Sends one typed message (a TypedDict of the consumer's module) as JSON text."""
    await consumer.send(text_data=json.dumps(message))


# What clients send --------------------------------------------------------------------------------------------


class BadMessage(Exception):
    def __init__(self, reason: str, *, close_code: Close | None = None):
        super().__init__(reason)
        self.reason = reason
        self.close_code = close_code


def message_parse(text_data: str | None, *, schema: Schema, max_chars: int = MAX_TEXT_CHARS) -> dict:
    """The message as a dict of a known type with fields of the declared types; raises BadMessage."""
    if text_data is None:
        raise BadMessage("binary messages are not accepted here: send a JSON object as text")
    if len(text_data) > max_chars:
        raise BadMessage(f"message longer than {max_chars} characters", close_code=Close.TOO_BIG)
    try:
        message = json.loads(text_data)
    except (ValueError, RecursionError):  # RecursionError: nesting too deep for the decoder
        raise BadMessage("message is not valid JSON") from None
    if not isinstance(message, dict):
        raise BadMessage("message must be a JSON object")
    kind = message.get("type")
    if not isinstance(kind, str) or kind not in schema:
        raise BadMessage(f"unknown message type; expected one of: {', '.join(sorted(schema))}")
    for field, expected in schema[kind].items():
        if not _is(message.get(field), _types(expected)):
            raise BadMessage(f"{kind!r} needs {field!r} of type {_names(expected)}")
    return message


def _types(expected) -> tuple[type, ...]:
    return expected if isinstance(expected, tuple) else (expected,)


def _is(value, kinds: tuple[type, ...]) -> bool:
    if isinstance(value, bool):  # JSON true is no number, though Python's bool is an int
        return bool in kinds
    return isinstance(value, kinds)


def _names(expected) -> str:
    return " or ".join({str: "string", int: "integer", float: "number", bool: "boolean", list: "array",
                        dict: "object"}.get(kind, kind.__name__) for kind in _types(expected))


class BadMessages:
    """One socket's tally of bad messages: each is answered, and one too many (or one too big) closes it."""

    def __init__(self):
        self.count = 0
        self.closing = False

    async def refuse(self, consumer, bad: BadMessage,
                     close: Callable[[Refusal], Awaitable[None]] | None = None) -> None:
        """Tells the client what was wrong, or closes: through `close(refusal)` when the consumer ends its own way
        (stops its tasks, records why), else by sending the error and closing the socket."""
        if self.closing:
            return  # closing already; the client's messages still in flight need no answer
        self.count += 1
        code = bad.close_code
        if code is None and self.count > MAX_BAD_MESSAGES:
            code = Close.BAD_MESSAGES
        if code is None:
            await message_send(consumer, ErrorMessage(type="error", reason=bad.reason))
            return
        self.closing = True
        reason = bad.reason if code != Close.BAD_MESSAGES else f"more than {MAX_BAD_MESSAGES} bad messages"
        refusal = Refusal(code, reason)
        if close is not None:
            await close(refusal)
            return
        await message_send(consumer, ErrorMessage(type="error", reason=refusal.reason))
        await consumer.close(code=refusal.code)
