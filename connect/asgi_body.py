"""Request bodies under ASGI, spooled without ever writing plaintext to disk.

Django's ASGIHandler reads the whole body into a SpooledTemporaryFile before the view runs, so an
uploaded clip would sit in /tmp in the clear. Here small bodies stay in memory and large ones spill into
a temporary file sealed with a key that exists only in this process's memory; the file is deleted when
the request ends, so a cut-off upload leaves nothing usable behind. Bodies over the upload limit are
drained but not kept, and the view is told (`oversize`).

Views marked `common.streamed_body.streams_body` get no spool: their body stays in the server until the view
reads it, piece by piece (a clip is sealed once, as it arrives, straight into the evidence folder).
"""

import io
import uuid

from django.conf import settings
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler
from django.urls import Resolver404, resolve

from common.private_files import private_folder
from common.sealed import DecryptingReader, EncryptingWriter
from common.streamed_body import StreamedBody


class SealedSpool(io.RawIOBase):
    def __init__(self, *, memory_limit: int, hard_limit: int):
        super().__init__()
        self._memory = io.BytesIO()
        self._memory_limit = memory_limit
        self._hard_limit = hard_limit
        self._writer: EncryptingWriter | None = None
        self._reader = None
        self.size = 0
        self.oversize = False

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.size > self._hard_limit:
            self.oversize = True  # keep draining the connection, keep nothing
            return len(data)
        if self._writer is None and self.size > self._memory_limit:
            # Private (0600) and locked while this request lives: the start-up and hourly sweeps remove only files
            # whose process is gone (common.private_files).
            folder = private_folder(settings.SPOOL_DIR)
            self._writer = EncryptingWriter(str(folder / f"connect-body-{uuid.uuid4().hex}.sealed"))
            self._writer.write(self._memory.getvalue())
            self._memory = io.BytesIO()
        if self._writer is not None:
            self._writer.write(data)
        else:
            self._memory.write(data)
        return len(data)

    def rewind(self) -> None:
        """Writing is over: from here on the spool reads back from its start."""
        if self.oversize:
            self._discard()
            self._reader = io.BytesIO(b"")
        elif self._writer is not None:
            self._writer.close()
            self._reader = DecryptingReader(self._writer.path, self._writer.data_key)
        else:
            self._memory.seek(0)
            self._reader = self._memory

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self._reader.read(size)

    def readinto(self, buffer) -> int:
        data = self._reader.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readline(self, size: int = -1) -> bytes:
        return self._reader.readline(size)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._reader.seek(offset, whence)

    def _discard(self) -> None:
        if self._writer is not None:
            if isinstance(self._reader, DecryptingReader):
                self._reader.close()
            self._writer.abort()  # closes (if still open) and deletes the sealed file
            self._writer = None

    def close(self) -> None:
        self._discard()
        super().close()


def _view_streams_body(scope) -> bool:
    if scope.get("method") not in ("POST", "PUT", "PATCH"):
        return False
    path = scope["path"]
    root = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root):]
    try:
        return getattr(resolve(path).func, "streams_body", False)
    except Resolver404:
        return False


class SealedBodyASGIHandler(ASGIHandler):
    async def handle(self, scope, receive, send):
        if _view_streams_body(scope):
            # Django reads the body with read_body and listens for a disconnect with the same `receive`; the
            # streamed body serves both, in turn (see StreamedBody).
            receive = StreamedBody(receive)
        return await super().handle(scope, receive, send)

    def create_request(self, scope, body_file):
        request, error_response = super().create_request(scope, body_file)
        if request is not None and isinstance(body_file, StreamedBody):
            request.streamed_body = body_file
        return request, error_response

    async def read_body(self, receive):
        if isinstance(receive, StreamedBody):
            return receive  # its view reads it
        body = SealedSpool(memory_limit=settings.FILE_UPLOAD_MAX_MEMORY_SIZE,
                           hard_limit=settings.UPLOAD_MAX_MB * 1024 * 1024 + 1024 * 1024)
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                body.close()
                raise RequestAborted()
            if "body" in message:
                body.write(message["body"])
            if not message.get("more_body", False):
                break
        body.rewind()
        return body
