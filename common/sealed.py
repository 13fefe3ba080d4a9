"""Evidence at rest: AES-256-GCM in fixed-size chunks under a per-file data key (envelope encryption).

File layout: MAGIC, an 8-byte random nonce prefix, then records of CHUNK plaintext bytes each (the last
one shorter), every record sealed as ciphertext + 16-byte tag. The nonce of record i is prefix || i, and
its associated data says whether it is the last record, so records cannot be reordered, dropped or
truncated without the tag failing. Fixed sizes make any byte offset reachable without reading before it,
which lets PyAV probe an upload straight from the encrypted file: no plaintext ever touches the disk.

The data key is wrapped by a master key held by the key service (common/key_service.py: CONNECT_EVIDENCE_KEY
or AWS KMS), and for clips also by a shred key held apart from the database (common/clip_keys.py); destroying
either destroys the clip (crypto-shredding). Rotation re-wraps data keys, the files stay as they are.
"""

import hashlib
import io
import os
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from common import key_service
from common.private_files import private_create

MAGIC = b"CNEV1\n"
CHUNK = 1024 * 1024
TAG = 16
HEADER = len(MAGIC) + 8
RECORD = CHUNK + TAG


class EvidenceIntegrityError(Exception):
    """The stored ciphertext or its key does not authenticate: the file was altered."""


def key_id(master: bytes) -> str:
    return key_service.local_key_id(master)


def current_key_id() -> str:
    return key_service.current_key_id()


def wrap_key(data_key: bytes, *, context: bytes) -> tuple[str, bytes]:
    """(key id, wrapped key) under the current master key of the key service; `context` binds it to one clip."""
    return key_service.wrap(data_key, context=context)


def unwrap_key(wrapped: bytes, *, master_id: str, context: bytes) -> bytes:
    """The key wrap_key wrapped. EvidenceIntegrityError if it does not authenticate; KeyServiceError (or its
    MasterKeyMissing) if the key service cannot answer."""
    return key_service.unwrap(wrapped, master_id=master_id, context=context)


def _nonce(prefix: bytes, index: int) -> bytes:
    return prefix + struct.pack(">I", index)


def _aad(index: int, last: bool) -> bytes:
    return struct.pack(">I?", index, last)


def seal_record(aead: AESGCM, prefix: bytes, index: int, plaintext, *, last: bool) -> bytes:
    """Record `index` of a sealed file whose nonce prefix is `prefix`, as it is written."""
    return aead.encrypt(_nonce(prefix, index), plaintext, _aad(index, last))


WRITEBACK_RECORDS = 8  # every 8 MiB sealed, the kernel is asked to start writing the file out


def _start_writeback(file) -> None:
    """Starts writing the file's dirty pages to disk without waiting, and lets the kernel drop the pages already
    written (Linux does both for POSIX_FADV_DONTNEED). A large upload then reaches the disk while it arrives, so
    the fsync at close waits for the last few megabytes, not the whole file, and sealed evidence does not crowd
    the page cache."""
    if hasattr(os, "posix_fadvise"):
        file.flush()
        os.posix_fadvise(file.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)


class EncryptingWriter:
    """Takes plaintext in pieces of any size; hashes it and writes sealed records to `path`, a new file readable
    by connect's user only. `lease` keeps it locked as in use (common.private_files) until whoever ends up owning
    the file releases it, or `abort` does."""

    def __init__(self, path: str):
        self.path = path
        self.data_key = AESGCM.generate_key(bit_length=256)
        self._aead = AESGCM(self.data_key)
        self._prefix = os.urandom(8)
        self._file, self.lease = private_create(path)
        self._file.write(MAGIC + self._prefix)
        self._buffer = bytearray()
        self._index = 0
        self._finished = False
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.digest(data)
        self.encrypt(data)

    def digest(self, data: bytes) -> None:
        """Half of `write`: the SHA-256 of the plaintext. It may run in another thread, at the same time as
        `encrypt`, as long as each half is given every piece once and in order."""
        self.sha256.update(data)

    def encrypt(self, data: bytes) -> None:
        """The other half of `write`: seals and writes the records."""
        self.size += len(data)
        view = memoryview(data)
        if self._buffer:
            room = CHUNK - len(self._buffer)
            self._buffer += view[:room]
            view = view[room:]
            if not view:  # a full buffer stays: it is sealed as last unless more data follows
                return
            self._seal(self._buffer, last=False)
            self._buffer.clear()
        while len(view) > CHUNK:  # whole records straight from the caller's bytes, no copy
            self._seal(view[:CHUNK], last=False)
            view = view[CHUNK:]
        self._buffer += view  # keep at least one byte back: the last record is sealed as last

    def _seal(self, plaintext, *, last: bool) -> None:
        self._file.write(seal_record(self._aead, self._prefix, self._index, plaintext, last=last))
        self._index += 1
        if self._index % WRITEBACK_RECORDS == 0:
            _start_writeback(self._file)

    def sealed_size(self) -> int:
        """How much of the file is sealed and written (flushed to the OS, so another reader sees it)."""
        self._file.flush()
        return self._file.tell()

    def finish(self) -> None:
        """Seals the last record and hands the file to the OS: readable from here on, on disk after `close`."""
        if self._finished:
            return
        self._seal(bytes(self._buffer), last=True)
        self._buffer.clear()
        self._file.flush()
        self._finished = True

    def close(self) -> None:
        self.finish()
        os.fsync(self._file.fileno())
        self._file.close()

    def abort(self) -> None:
        """Closes and deletes the file, whether or not it was finished."""
        self._file.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        self.lease.release()


@dataclass
class _Layout:
    records: int
    plaintext_size: int


def _layout(file_size: int) -> _Layout:
    body = file_size - HEADER
    if body < TAG:
        raise EvidenceIntegrityError("the evidence file is truncated")
    full, rest = divmod(body, RECORD)
    if rest == 0:  # the last record was exactly CHUNK bytes long
        full, rest = full - 1, RECORD
    if rest < TAG:
        raise EvidenceIntegrityError("the evidence file is truncated")
    return _Layout(records=full + 1, plaintext_size=full * CHUNK + rest - TAG)


class DecryptingReader(io.RawIOBase):
    """A seekable, read-only view of the plaintext; every record is authenticated as it is read."""

    def __init__(self, source, data_key: bytes):
        """`source`: a path, or an opened stored object (common.evidence_store: `size`, `read_at`, `iter_range`,
        `close`), which the reader then owns."""
        super().__init__()
        self._source = _PathObject(source) if isinstance(source, str | os.PathLike) else source
        try:
            header = self._source.read_at(0, HEADER)
            if header[: len(MAGIC)] != MAGIC:
                raise EvidenceIntegrityError("not a connect evidence file")
            self._prefix = header[len(MAGIC):]
            self._layout = _layout(self._source.size)
        except BaseException:
            self._source.close()
            raise
        self._aead = AESGCM(data_key)
        self._pos = 0
        self._cached: tuple[int, bytes] | None = None

    @property
    def size(self) -> int:
        return self._layout.plaintext_size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def _record(self, index: int) -> bytes:
        if self._cached and self._cached[0] == index:
            return self._cached[1]
        plaintext = self._open_record(index, self._source.read_at(HEADER + index * RECORD, RECORD))
        self._cached = (index, plaintext)
        return plaintext

    def _open_record(self, index: int, sealed: bytes) -> bytes:
        last = index == self._layout.records - 1
        try:
            return self._aead.decrypt(_nonce(self._prefix, index), sealed, _aad(index, last))
        except InvalidTag:
            raise EvidenceIntegrityError(f"record {index} of the evidence file does not authenticate") from None

    def records_from(self, first: int, last: int):
        """Records first..last (inclusive) decrypted in order, their ciphertext read as one stream: one request
        to a bucket for a whole download, not one per record. Each record's tag is checked before it is yielded."""
        index = first
        stop = min(self._source.size, HEADER + (last + 1) * RECORD)
        for sealed in _records(self._source.iter_range(HEADER + first * RECORD, stop)):
            if index > last:
                break
            yield self._open_record(index, sealed)
            index += 1
        if index <= last:
            raise EvidenceIntegrityError("the evidence file ended early")

    def plaintext_range(self, start: int, stop: int):
        """The plaintext bytes [start, stop), decrypting only the records they fall in."""
        if start >= stop:
            return
        first, last = start // CHUNK, (stop - 1) // CHUNK
        for index, plaintext in enumerate(self.records_from(first, last), start=first):
            base = index * CHUNK
            yield plaintext[max(0, start - base): stop - base] if base < start or base + CHUNK > stop else plaintext

    def readinto(self, buffer) -> int:
        if self._pos >= self.size:
            return 0
        index, offset = divmod(self._pos, CHUNK)
        piece = self._record(index)[offset:offset + len(buffer)]
        buffer[: len(piece)] = piece
        self._pos += len(piece)
        return len(piece)

    def chunks(self):
        """The whole plaintext from the start, one record at a time."""
        yield from self.records_from(0, self._layout.records - 1)

    def close(self) -> None:
        self._source.close()
        super().close()


def _records(pieces):
    """Ciphertext pieces of any size regrouped into whole records (the last may be short). Pieces that already
    are one record each, as a file read or a bucket stream read record by record gives them, pass through
    uncopied."""
    pending = bytearray()
    for piece in pieces:
        if not pending and len(piece) == RECORD:
            yield piece
            continue
        pending += piece
        while len(pending) >= RECORD:
            yield bytes(pending[:RECORD])
            del pending[:RECORD]
    if pending:
        yield bytes(pending)


class _PathObject:
    """A sealed file on disk, read like a stored object."""

    def __init__(self, path):
        self._file = open(path, "rb")
        self.size = os.fstat(self._file.fileno()).st_size

    def read_at(self, offset: int, length: int) -> bytes:
        return os.pread(self._file.fileno(), length, offset)

    def iter_range(self, offset: int, end: int):
        while offset < end:
            piece = os.pread(self._file.fileno(), min(RECORD, end - offset), offset)
            if not piece:
                return
            offset += len(piece)
            yield piece

    def close(self) -> None:
        self._file.close()
