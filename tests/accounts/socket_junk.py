"""Malformed messages every websocket must answer (common/socket_messages.py), shared by the socket tests."""

import asyncio
import json

from common.socket_messages import MAX_BAD_MESSAGES, MAX_TEXT_CHARS

JUNK = [  # (what, the ASGI receive message; send_input, as send_to refuses an empty text)
    ("text that is not JSON", {"text": "hello there"}),
    ("an empty text message", {"text": ""}),
    ("JSON that is not an object", {"text": "[1, 2, 3]"}),
    ("a bare JSON string", {"text": '"ping"'}),
    ("a JSON null", {"text": "null"}),
    ("a type that is a number", {"text": '{"type": 5}'}),
    ("a type that is a list", {"text": '{"type": ["ping"]}'}),
    ("no type at all", {"text": '{"kind": "ping"}'}),
    ("an unknown type", {"text": '{"type": "drop_everything"}'}),
    ("nesting too deep to decode", {"text": "[" * 5000 + "]" * 5000}),
    ("binary where text is expected", {"bytes": b"\x00\xff\xfe binary"}),
]
TOO_BIG = "x" * (MAX_TEXT_CHARS + 1)


async def next_text(socket, timeout: float = 5) -> dict | None:
    """The next JSON text message (frames and other binary skipped), or None when the socket closed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        message = await socket.receive_output(timeout=max(0.01, deadline - loop.time()))
        if message["type"] == "websocket.close":
            socket.closed_with = message.get("code")
            return None
        if message.get("text") is not None:
            return json.loads(message["text"])


async def next_error(socket, timeout: float = 5) -> dict:
    """The next {"type": "error"} message, skipping others (a live view's session info, a map's positions)."""
    while True:
        body = await next_text(socket, timeout)
        assert body is not None, f"the socket closed with {socket.closed_with} instead of answering"
        if body["type"] == "error":
            return body


async def answers_every_junk_message(socket, junk=JUNK) -> list[str]:
    """Sends each junk message and returns the reasons given; each must be answered with an error."""
    reasons = []
    for what, message in junk:
        await socket.send_input({"type": "websocket.receive", **message})
        reasons.append((await next_error(socket))["reason"])
        assert reasons[-1], what
    return reasons


async def closes_after_too_many(socket) -> int:
    """Sends junk until the socket closes; returns the close code."""
    for _ in range(MAX_BAD_MESSAGES + 1):
        await socket.send_to(text_data="not json")
    return await _closed(socket)


async def closes_on_a_huge_message(socket, text: str = TOO_BIG) -> int:
    await socket.send_to(text_data=text)
    return await _closed(socket)


async def _closed(socket) -> int:
    """Waits for the server's close, then lets the application finish (and release its database connection)."""
    while (await next_text(socket)) is not None:
        pass
    await socket.disconnect(code=socket.closed_with)
    return socket.closed_with
