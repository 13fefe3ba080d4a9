"""A bare ASGI app standing in for connect behind nginx in tests/deploy/test_nginx.py: it reports how much of an
upload has reached it (so the test can see nginx pass a body on before it has all of it), the headers nginx
set, and echoes websocket messages."""

import json

received = {"bytes": 0}


async def app(scope, receive, send):
    if scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        while (message := await receive())["type"] == "websocket.receive":
            await send({"type": "websocket.send", "text": "echo:" + (message.get("text") or "")})
        return
    headers = {name.decode(): value.decode() for name, value in scope["headers"]}
    if scope["path"] == "/progress":
        body = str(received["bytes"]).encode()
    elif scope["path"].startswith("/footage/"):
        received["bytes"] = 0
        while True:
            message = await receive()
            received["bytes"] += len(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = json.dumps({"received": received["bytes"], "host": headers.get("host"),
                           "forwarded_for": headers.get("x-forwarded-for"),
                           "forwarded_proto": headers.get("x-forwarded-proto")}).encode()
    else:
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b"not here"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})
