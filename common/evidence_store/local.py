"""Evidence on a local (or mounted) disk: one sealed file per clip in CONNECT_EVIDENCE_DIR."""

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from common.evidence_store.base import EvidenceMissing, EvidenceStoreError

READ_PIECE = 1024 * 1024 + 16  # one sealed record (common/sealed.py RECORD): read whole, passed on uncopied


class LocalObject:
    def __init__(self, path: Path):
        try:
            self._file = open(path, "rb")
        except FileNotFoundError:
            raise EvidenceMissing(f"the evidence file {path.name} is missing") from None
        except OSError as exc:
            raise EvidenceStoreError(f"the evidence file {path.name} cannot be read: {exc.strerror}") from None
        self.size = os.fstat(self._file.fileno()).st_size

    def read_at(self, offset: int, length: int) -> bytes:
        return os.pread(self._file.fileno(), length, offset)

    def iter_range(self, offset: int, end: int) -> Iterator[bytes]:
        while offset < end:
            piece = os.pread(self._file.fileno(), min(READ_PIECE, end - offset), offset)
            if not piece:
                return  # shorter than expected: the reader's layout check reports it
            offset += len(piece)
            yield piece

    def close(self) -> None:
        self._file.close()


class LocalStore:
    name = "local"

    def __init__(self, root: Path):
        self.root = Path(root)

    def _path(self, name: str) -> Path:
        if "/" in name or name.startswith("."):
            raise ValueError(f"not an evidence object name: {name!r}")
        return self.root / name

    def open(self, name: str) -> LocalObject:
        return LocalObject(self._path(name))

    def adopt(self, staged: Path, name: str) -> None:
        target = self._path(name)
        if staged.parent.resolve() == self.root.resolve():
            os.replace(staged, target)  # the staging folder is the store: a rename, atomic
            return
        partial = target.with_name(f"incoming-copy-{name}")
        try:
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # private before a byte lands
            os.fchmod(fd, 0o600)
            os.close(fd)
            shutil.copyfile(staged, partial)
            with open(partial, "rb") as copied:
                os.fsync(copied.fileno())
            os.replace(partial, target)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise EvidenceStoreError(f"the evidence folder refused the clip: {exc.strerror}") from None
        staged.unlink(missing_ok=True)

    def streaming_upload(self, name: str, staged_path: str) -> None:
        return None  # the staging folder is on disk already: `adopt` renames or copies it when it is complete

    def delete(self, name: str) -> None:
        self._path(name).unlink(missing_ok=True)

    def exists(self, name: str) -> bool:
        return self._path(name).exists()

    def names(self, prefix: str = "") -> Iterator[str]:
        if not self.root.exists():
            return
        for path in self.root.glob(f"{prefix}*"):
            if path.is_file():
                yield path.name

    def entries(self, prefix: str = "") -> Iterator[tuple[str, datetime]]:
        for name in self.names(prefix):
            try:
                yield name, datetime.fromtimestamp((self.root / name).stat().st_mtime, tz=UTC)
            except FileNotFoundError:
                continue

    def abandoned_uploads_abort(self, older_than: datetime) -> int:
        return 0  # sealed straight into the staging folder; upload_leftovers_sweep removes what a crash left

    def health(self) -> dict:
        try:
            self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
            usage = shutil.disk_usage(self.root)
            writable = os.access(self.root, os.W_OK)
        except OSError as exc:
            return {"ok": False, "store": self.name, "detail": f"{self.root}: {exc.strerror}", "free_bytes": None}
        return {"ok": writable, "store": self.name, "free_bytes": usage.free,
                "detail": str(self.root) if writable else f"{self.root} is not writable"}
