"""Resumable uploads (the consent page's tus 1.0.0 subset): one file sent in pieces over many requests, sealed as
it arrives into the staging folder, and turned into a clip only once every byte is there.

The staging file has the layout of every sealed file (common.sealed): a header, then 1 MiB records under a data
key. Between requests nothing of the plaintext is kept anywhere: the data key is stored wrapped by the key
service beside the file (`resumable-<id>.json`, with the footage request whose consent link made it), and the
file holds whole records only, so the offset to resume from is always a record boundary that the file's size
gives. A request cut in the middle of a record loses that record's bytes, never the records before it. The
SHA-256 of the whole file is taken once, at the end, by reading the sealed records back (hashlib cannot carry a
running hash from one request to the next).

A request appending to the file holds an exclusive lock on it (common.private_files), so two requests never
append at once and the sweep leaves it alone; a file left unchanged for a day is removed (`abandoned_sweep`)."""

import base64
import fcntl
import hashlib
import hmac
import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from common.private_files import leftovers_sweep, private_create
from common.sealed import CHUNK, HEADER, MAGIC, RECORD, TAG, DecryptingReader, seal_record, unwrap_key, wrap_key
from requests_app.evidence import SealedUpload, evidence_dir

ABANDONED_AFTER_S = 24 * 3600


class UploadNotFound(Exception):
    """No such upload under this consent link (or it is finished, or was removed)."""


class UploadBusy(Exception):
    """Another request is appending to this upload right now."""


def _paths(upload_id: uuid.UUID) -> tuple[Path, Path]:
    folder = evidence_dir()
    return folder / f"resumable-{upload_id}.cnev", folder / f"resumable-{upload_id}.json"


def _owner_tag(request_code: uuid.UUID) -> str:
    return str(request_code)


def _context(upload_id: uuid.UUID) -> bytes:
    return f"resumable-upload:{upload_id}".encode()


@dataclass
class Staged:
    """One resumable upload: what its creation announced, and where it stands."""

    id: uuid.UUID
    name: str
    length: int
    path: Path
    meta_path: Path
    _meta: dict

    @property
    def offset(self) -> int:
        """Bytes received and sealed: whole records only (a record cut short by a dropped request is not counted)."""
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            raise UploadNotFound() from None
        full, rest = divmod(max(size - HEADER, 0), RECORD)
        if full * CHUNK + rest - TAG == self.length:  # the short last record, whole
            return self.length
        return min(full * CHUNK, self.length)

    def data_key(self) -> bytes:
        return unwrap_key(base64.b64decode(self._meta["wrapped_key"]), master_id=self._meta["key_id"],
                          context=_context(self.id))


def staged_create(*, request_code: uuid.UUID, name: str, length: int) -> Staged:
    """A new, empty resumable upload of the footage request `request_code` (whose consent link made it), its id
    unguessable (a random UUID)."""
    upload_id = uuid.uuid4()
    path, meta_path = _paths(upload_id)
    data_key = AESGCM.generate_key(bit_length=256)
    key_id, wrapped = wrap_key(data_key, context=_context(upload_id))
    meta = {"request": _owner_tag(request_code), "name": name, "length": length, "key_id": key_id,
            "wrapped_key": base64.b64encode(wrapped).decode()}
    file, lease = private_create(path)  # the file first: the sweep removes a description without one
    with file:
        file.write(MAGIC + os.urandom(8))
    lease.release()
    file, lease = private_create(meta_path)
    with file:
        file.write(json.dumps(meta).encode())
    lease.release()
    return Staged(upload_id, name, length, path, meta_path, meta)


def staged_announced(*, request_code: uuid.UUID) -> list[Staged]:
    """The unfinished uploads of the footage request `request_code` (what their creation announced)."""
    found = []
    for meta_path in evidence_dir().glob("resumable-*.json"):
        try:
            found.append(staged_get(request_code=request_code, upload_id=uuid.UUID(meta_path.stem[len("resumable-"):])))
        except (UploadNotFound, ValueError):
            continue
    return found


def staged_get(*, request_code: uuid.UUID, upload_id: uuid.UUID) -> Staged:
    """The upload `upload_id` of the footage request `request_code`; UploadNotFound for another request's, or
    none."""
    path, meta_path = _paths(upload_id)
    try:
        meta = json.loads(meta_path.read_bytes())
    except (FileNotFoundError, ValueError):
        raise UploadNotFound() from None
    if not hmac.compare_digest(meta.get("request", ""), _owner_tag(request_code)) or not path.exists():
        raise UploadNotFound()
    return Staged(upload_id, meta["name"], meta["length"], path, meta_path, meta)


class Appender:
    """Appends whole records to a staged upload under an exclusive lock; `close` lets go of it."""

    def __init__(self, staged: Staged):
        self.staged = staged
        try:
            self._file = open(staged.path, "r+b")  # noqa: SIM115  held across the request, closed in `close`
        except FileNotFoundError:
            raise UploadNotFound() from None
        try:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.close()
            raise UploadBusy() from None
        self.offset = staged.offset
        self._index = -(-self.offset // CHUNK)  # records sealed: the offset is a record boundary, or the end
        if self.offset < staged.length:
            self._file.seek(HEADER + self._index * RECORD)
            self._file.truncate()  # a record a dropped request left half written
        self._prefix = os.pread(self._file.fileno(), 8, len(MAGIC))
        self._aead = AESGCM(staged.data_key())
        self._records = max(1, -(-staged.length // CHUNK))

    def append_record(self, plaintext: bytes) -> None:
        """Seals one record: CHUNK bytes, or the rest of the file (its last record)."""
        last = self._index == self._records - 1
        self._file.write(seal_record(self._aead, self._prefix, self._index, plaintext, last=last))
        self._file.flush()
        self._index += 1
        self.offset += len(plaintext)

    def close(self) -> None:
        if self.offset == self.staged.length:
            os.fsync(self._file.fileno())
        self._file.close()


def staged_sealed_upload(staged: Staged) -> SealedUpload:
    """The finished upload as the streamed path leaves one: sealed, its SHA-256 taken from the records read back
    (each authenticated on the way). Its closing deletes the file unless it became a clip."""
    data_key = staged.data_key()
    digest = hashlib.sha256()
    reader = DecryptingReader(str(staged.path), data_key)
    try:
        for record in reader.chunks():
            digest.update(record)
        size = reader.size
    finally:
        reader.close()
    staged.meta_path.unlink(missing_ok=True)  # from here on the upload is the SealedUpload's to keep or delete
    return SealedUpload(name=staged.name or "upload", path=staged.path, size=size, sha256=digest.hexdigest(),
                        data_key=data_key)


def staged_delete(staged: Staged) -> None:
    staged.path.unlink(missing_ok=True)
    staged.meta_path.unlink(missing_ok=True)


def abandoned_sweep(*, now: float | None = None) -> int:
    """Removes resumable uploads nobody added to for ABANDONED_AFTER_S (and descriptions whose file is gone);
    an upload a request is appending to right now is locked and stays. Returns how many uploads it removed."""
    folder = evidence_dir()
    removed = leftovers_sweep(folder, "resumable-*.cnev", grace_s=ABANDONED_AFTER_S, now=now)
    for meta_path in folder.glob("resumable-*.json"):
        if not meta_path.with_suffix(".cnev").exists():
            meta_path.unlink(missing_ok=True)
    return len(removed)
