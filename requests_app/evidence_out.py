"""Evidence going out: a clip's plaintext streamed from the store in records, whole or one byte range, with
flat memory (a few 1 MiB records at a time) and every record's GCM tag checked before a byte of it is sent.

A record's tag covers its position and whether it is the last one (common/sealed.py), and the file's size is
checked against the upload's before the answer starts, so what is sent is the plaintext sealed at upload, byte for
byte, or the transfer is cut before it completes (the client never holds a complete file) and the clip is flagged
and the failure recorded. The whole file's SHA-256 is not taken again on every download: it is checked at rest,
after moves and on restore (docs/SECURITY.md, Evidence integrity). A clip flagged before is the exception: a whole
download of it re-hashes the plaintext, and holds its last record back until the hash matches the upload's.

Under ASGI the records are read and decrypted on a thread of their own a few ahead of the event loop
(evidence_read_ahead.py), never on the event loop.
"""

import hashlib
import hmac
from collections.abc import Callable, Iterator

from asgiref.sync import sync_to_async

from common.evidence_store import EvidenceStoreError
from common.sealed import DecryptingReader, EvidenceIntegrityError
from requests_app.evidence_read_ahead import ReadAhead


class ClipStream:
    """Plaintext [start, stop) of one clip; `rehash` (a flagged clip read whole) re-checks the upload's SHA-256."""

    def __init__(self, reader: DecryptingReader, *, start: int, stop: int, sha256: str,
                 on_failure: Callable[[Exception], None], rehash: bool = False):
        self._reader, self.start, self.stop = reader, start, stop
        self.whole = start == 0 and stop == reader.size
        self.rehashes = rehash and self.whole
        self._expected = sha256
        self._on_failure = on_failure
        pieces = reader.plaintext_range(start, stop)
        self._pieces = self._hash_checked(pieces) if self.rehashes else pieces
        self._read_ahead: ReadAhead | None = None
        self._closed = False
        # The first record is read now, so a missing object, a truncated file or a bad first record is a clear
        # answer (409, 503) instead of a cut transfer.
        self._first = self._advance() if stop > start else None

    @property
    def length(self) -> int:
        return self.stop - self.start

    def _hash_checked(self, pieces: Iterator[bytes]) -> Iterator[bytes]:
        """The pieces, the last one held back until the whole plaintext's SHA-256 matches the upload's."""
        digest, held = hashlib.sha256(), None
        try:
            for piece in pieces:
                if held is not None:
                    yield held
                digest.update(piece)
                held = piece
        finally:
            pieces.close()
        if not hmac.compare_digest(digest.hexdigest(), self._expected):
            raise EvidenceIntegrityError("the SHA-256 differs from the one taken at upload")
        if held is not None:
            yield held

    def _advance(self) -> bytes | None:
        """The next piece, or None at the end; raises what went wrong (after closing the reader)."""
        try:
            return next(self._pieces, None)
        except (EvidenceIntegrityError, EvidenceStoreError):
            self.close()
            raise

    def _next(self) -> bytes | None:
        try:
            return self._advance()
        except (EvidenceIntegrityError, EvidenceStoreError) as exc:
            self._on_failure(exc)
            raise

    def __iter__(self):
        try:
            if self._first is not None:
                first, self._first = self._first, None
                yield first
            while (piece := self._next()) is not None:
                yield piece
        finally:
            self.close()

    async def __aiter__(self):
        try:
            if self._first is not None:
                first, self._first = self._first, None
                yield first
            if self._closed:
                return
            self._read_ahead = ReadAhead(self._pieces, on_exit=self._reader.close)
            while True:
                try:
                    piece = await self._read_ahead.next_piece()
                except (EvidenceIntegrityError, EvidenceStoreError) as exc:
                    await sync_to_async(self._on_failure)(exc)  # the database from Django's own thread
                    raise
                if piece is None:
                    break
                yield piece
        finally:
            self.close()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._read_ahead is not None:
            self._read_ahead.stop()  # its thread closes the pieces and the reader when it is out of them
            return
        try:
            self._pieces.close()
        except ValueError:  # still running in another thread: it ends alone
            pass
        self._reader.close()


class RangeNotSatisfiable(Exception):
    pass


def byte_range(header: str, size: int) -> tuple[int, int] | None:
    """[start, stop) for a single-range `Range` header, None to send the whole file (no header, or one this
    server does not honour: several ranges, other units, junk, which RFC 9110 lets it ignore).
    RangeNotSatisfiable when the range lies wholly past the end."""
    header = (header or "").strip()
    if not header.startswith("bytes=") or "," in header:
        return None
    first, sep, last = header[6:].strip().partition("-")
    if not sep or not (first.isdigit() or last.isdigit()) or (first and not first.isdigit()) \
            or (last and not last.isdigit()):
        return None
    if not first:  # the last N bytes
        suffix = int(last)
        if suffix == 0:
            raise RangeNotSatisfiable()
        return max(0, size - suffix), size
    start = int(first)
    if start >= size:
        raise RangeNotSatisfiable()
    stop = size if not last else min(size, int(last) + 1)
    if stop <= start:
        return None  # last < first: invalid, ignored
    return start, stop
