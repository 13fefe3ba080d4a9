"""What clients send on connect's websockets, checked before a consumer acts on it. Junk is answered, never
raised: an unhandled exception would only kill the socket and fill the server log.

Every socket speaks JSON objects with a "type" string, each type with its fields' expected types. Then:
  - text that is not JSON, JSON that is not an object, a missing or unknown type, a field of the wrong type,
    or binary where text is expected: answered {"type": "error", "reason": ...}; the socket stays open;
  - more than MAX_BAD_MESSAGES of those on one socket: closed with Close.BAD_MESSAGES (4400);
  - text longer than the socket's limit: closed with Close.TOO_BIG (1009, the standard "message too big").
"""

import enum
import json
from collections.abc import Mapping

MAX_TEXT_CHARS = 16 * 1024  # staff sockets send a few short commands; nothing needs more
MAX_BAD_MESSAGES = 20

Schema = Mapping[str, Mapping[str, type | tuple[type, ...]]]  # message type -> {field: expected type(s)}


class Close(enum.IntEnum):
    TOO_BIG = 1009
    BAD_MESSAGES = 4400


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


async def message_refused(consumer, bad: BadMessage, *, close=None) -> None:
    """Tells the client what was wrong; closes the socket when the message was too big or one too many.
    `close(code, reason)` lets a consumer end its own way (stop its tasks, record why); by default the error
    message is sent and the socket closed."""
    if getattr(consumer, "closed_for_messages", False):
        return  # closing already; the client's messages still in flight need no answer
    consumer.bad_messages = getattr(consumer, "bad_messages", 0) + 1
    close_code = bad.close_code
    if close_code is None and consumer.bad_messages > MAX_BAD_MESSAGES:
        close_code = Close.BAD_MESSAGES
    if close_code is None:
        await consumer.send(text_data=json.dumps({"type": "error", "reason": bad.reason}))
        return
    consumer.closed_for_messages = True
    reason = bad.reason if close_code != Close.BAD_MESSAGES else f"more than {MAX_BAD_MESSAGES} bad messages"
    if close is not None:
        await close(close_code, reason)
        return
    await consumer.send(text_data=json.dumps({"type": "error", "reason": reason}))
    await consumer.close(code=close_code)
