"""A load generator's HTTP/1.1 client: one keep-alive connection that sends a prepared GET and reads an answer with a
Content-Length, and nothing else.

http.client parses every answer's headers with the email package: about 0.2 ms of this machine's CPU a request,
taken from the same two cores the server under test runs on (bench/api_nearby.py measured it). Load generators such
as wrk cost a small fraction of that; so does this. It is for benchmarks only: no chunked answers, no redirects, no
TLS.
"""

import socket
from typing import NamedTuple

_HEAD_END = b"\r\n\r\n"


class Answer(NamedTuple):
    status: int
    headers: dict[bytes, bytes]  # names lowercased
    body: bytes


class KeepAlive:
    def __init__(self, host: str, port: int, *, timeout: float = 60):
        self.host_header = f"{host}:{port}"
        self._sock = socket.create_connection((host, port), timeout=timeout)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as http.client's requests go out whole
        self._pending = bytearray()

    def request_bytes(self, path: str, headers: dict[str, str]) -> bytes:
        """A GET of `path` as http.client sends it: Host, Accept-Encoding (identity unless `headers` has one),
        then `headers`."""
        headers = {"Host": self.host_header, "Accept-Encoding": "identity", **headers}
        lines = [f"GET {path} HTTP/1.1", *(f"{name}: {value}" for name, value in headers.items())]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def get(self, request: bytes) -> Answer:
        """Sends `request` (from request_bytes) and reads the answer (its body as sent: still compressed if so)."""
        self._sock.sendall(request)
        pending = self._pending
        while (end := pending.find(_HEAD_END)) < 0:
            self._receive(pending)
        head = bytes(pending[:end])
        del pending[:end + len(_HEAD_END)]
        status, headers = int(head[9:12]), {}
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            headers[name.strip().lower()] = value.strip()
        if b"transfer-encoding" in headers:
            raise RuntimeError("a chunked answer: this client reads only answers with a Content-Length")
        if b"content-length" not in headers:
            raise RuntimeError(f"an answer without a Content-Length: {head[:200]!r}")
        length = int(headers[b"content-length"])
        while len(pending) < length:
            self._receive(pending)
        body = bytes(pending[:length])
        del pending[:length]
        return Answer(status, headers, body)

    def _receive(self, into: bytearray) -> None:
        piece = self._sock.recv(262144)
        if not piece:
            raise ConnectionError("the server closed the connection")
        into += piece

    def close(self) -> None:
        self._sock.close()
