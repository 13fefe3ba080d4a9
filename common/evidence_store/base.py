"""What every evidence store offers: sealed objects by name, read by range, written whole, deleted, listed.

Stores only ever hold connect's sealed envelope (common/sealed.py): nothing here sees plaintext or keys, and no
store relies on its own server-side encryption.
"""

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Protocol


class EvidenceStoreError(Exception):
    """The store failed: unreachable, refusing, too slow, or the connection was cut. The message says which."""


class EvidenceMissing(EvidenceStoreError):
    """No object of that name in the store."""


class StoredObject(Protocol):
    """One sealed object opened for reading."""

    size: int

    def read_at(self, offset: int, length: int) -> bytes: ...

    def iter_range(self, offset: int, end: int) -> Iterator[bytes]:
        """The bytes [offset, end) in pieces of any size, read as one stream (one request for a bucket)."""

    def close(self) -> None: ...


class EvidenceStore(Protocol):
    name: str  # "local" or "s3", for messages and metrics

    def open(self, name: str, *, from_start: bool = False) -> StoredObject:
        """`from_start`: the caller will read the object from its first byte on, in order (a whole download, a
        check, a copy); a bucket then serves it all from one request."""

    def adopt(self, staged: Path, name: str) -> None:
        """Moves a finished sealed file from the staging folder into the store under `name`: all of it or
        nothing (a failed move leaves no object under `name` and the staged file where it was)."""

    def streaming_upload(self, name: str, staged_path: str):
        """Something with `advance(sealed_size)`, `complete()` and `abort()` that sends the staging file to the
        store while it is sealed (a bucket), or None when `adopt` at the end is all it takes (a disk)."""

    def delete(self, name: str) -> None:
        """Removes the object; a missing one is no error (purges run again)."""

    def exists(self, name: str) -> bool: ...

    def names(self, prefix: str = "") -> Iterator[str]: ...

    def entries(self, prefix: str = "") -> Iterator[tuple[str, datetime]]:
        """(name, last modified, aware) of every object: what the purge sweeps for objects no clip names."""

    def abandoned_uploads_abort(self, older_than: datetime) -> int:
        """Aborts multipart uploads started before `older_than` and never finished (a crashed process): their
        parts are never visible, but they take space. The number aborted; 0 for a disk."""

    def health(self) -> dict:
        """{"ok": bool, "store": name, "detail": str, "free_bytes": int | None}; never raises."""
