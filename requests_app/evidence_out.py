"""Evidence going out: a clip's plaintext streamed from the store in records, whole or one byte range, with
flat memory (one 1 MiB record at a time) and every record's GCM tag checked before a byte of it is sent.

A whole-file read also re-hashes the plaintext as it goes and compares it with the SHA-256 taken at upload
once the last record is out: a mismatch (or a record that fails its tag later on) cuts the transfer before it
completes, so the client never holds a complete file, and the clip is flagged and the failure recorded.
Under ASGI each record is read and decrypted in a worker thread (`__aiter__`), never on the event loop.
"""

import asyncio
import hashlib
import hmac
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from asgiref.sync import sync_to_async

from common.evidence_store import EvidenceStoreError
from common.sealed import DecryptingReader, EvidenceIntegrityError

_hashing = ThreadPoolExecutor(max_workers=4, thread_name_prefix="evidence-hash")


class ClipStream:
    """Plaintext [start, stop) of one clip; `whole` when that is the entire file (the hash is then checked)."""

    def __init__(self, reader: DecryptingReader, *, start: int, stop: int, sha256: str,
                 on_failure: Callable[[Exception], None]):
        self._reader, self.start, self.stop = reader, start, stop
        self.whole = start == 0 and stop == reader.size
        self._expected = sha256
        self._digest = hashlib.sha256() if self.whole else None
        self._hashing: Future | None = None
        self._on_failure = on_failure
        self._pieces = reader.plaintext_range(start, stop)
        self._closed = False
        # The first record is read now, so a missing object, a truncated file or a bad first record is a clear
        # answer (409, 503) instead of a cut transfer.
        self._first = self._advance() if stop > start else None

    @property
    def length(self) -> int:
        return self.stop - self.start

    def _advance(self) -> bytes | None:
        """The next piece, or None at the end; raises what went wrong (after closing the reader)."""
        try:
            piece = next(self._pieces, None)
            if self._hashing is not None:
                self._hashing.result()  # the record before this one is in the digest: order kept
                self._hashing = None
            if piece is None:
                if self._digest is not None and not hmac.compare_digest(self._digest.hexdigest(), self._expected):
                    raise EvidenceIntegrityError("the SHA-256 differs from the one taken at upload")
                return None
        except (EvidenceIntegrityError, EvidenceStoreError):
            self.close()
            raise
        if self._digest is not None:
            # Hashed on another thread while this one reads and decrypts the next record (hashlib lets go of the
            # GIL): SHA-256 is the slowest step of a whole download, slower than AES-GCM.
            self._hashing = _hashing.submit(self._digest.update, piece)
        return piece

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
            while True:
                try:
                    piece = await asyncio.to_thread(self._advance)
                except (EvidenceIntegrityError, EvidenceStoreError) as exc:
                    await sync_to_async(self._on_failure)(exc)  # the database from Django's own thread
                    raise
                if piece is None:
                    break
                yield piece
        finally:
            self.close()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            try:
                self._pieces.close()
            except ValueError:  # still running in a worker thread (the client left mid-record): it ends alone
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
