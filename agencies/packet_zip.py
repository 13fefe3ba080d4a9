"""A prosecutor's case packet as a zip that leaves as it is written: each clip is decrypted, stored in the zip and
sent piece by piece, so memory stays flat however large the clips (no archive is built in memory or on disk in
plain text). zipfile writes to an unseekable stream with data descriptors, and ZIP64 for clips over 4 GiB."""

import zipfile
from collections.abc import Callable, Iterable, Iterator


class _Outbox:
    """A write-only file the zip writes into; what it holds is taken out after each write."""

    def __init__(self):
        self._pieces: list[bytes] = []

    def write(self, data) -> int:
        self._pieces.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> Iterator[bytes]:
        pieces, self._pieces = self._pieces, []
        yield from pieces


def packet_chunks(entries: Iterable[tuple[str, Callable[[], Iterable[bytes]]]]) -> Iterator[bytes]:
    """The zip's bytes, for (name in the zip, opener of its content's pieces), each opened only when its turn
    comes (a clip's read is recorded then)."""
    outbox = _Outbox()
    with zipfile.ZipFile(outbox, "w", zipfile.ZIP_STORED) as zipped:
        for name, opener in entries:
            with zipped.open(name, "w", force_zip64=True) as out:
                for piece in opener():
                    out.write(piece)
                    yield from outbox.take()
            yield from outbox.take()
    yield from outbox.take()
