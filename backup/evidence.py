"""The evidence part: every sealed clip object, copied as it is (ciphertext: a backup holds no plaintext).

Every copy goes through the configured evidence store (common/evidence_store: local disk or a bucket): a backup
reads each object from it, a restore writes each into it, so a set taken from a folder restores into a bucket and
the other way round. Every byte a restore writes was checked against the manifest's SHA-256 first.

Restoring is two steps around the database's: `evidence_stage` (before anything changes: every file of the set
checked; with the local store also copied into a hidden folder inside it) and `evidence_import` (once the database
is restored: each clip renamed into the folder, or uploaded to the bucket, whole or not at all)."""

import hashlib
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from backup.manifest import HASH_CHUNK, Part, part_mismatch
from common.evidence_store import EvidenceMissing, EvidenceStoreError, evidence_store

FOLDER = "evidence"


class EvidenceCopyFailed(Exception):
    """The evidence store failed while a set was being written or restored; the message names the object."""


def _local_root() -> Path:
    return Path(settings.EVIDENCE_DIR)


def _is_clip_object(name: str) -> bool:
    return name.endswith(".cnev") and not name.startswith(("incoming-", ".")) and "/" not in name


def evidence_names() -> list[str]:
    """The names of sealed clip objects in the store (not uploads still arriving, nor a restore's staging)."""
    store = evidence_store()
    if store.name == "local" and not _local_root().is_dir():
        return []
    try:
        return sorted(name for name in store.names() if _is_clip_object(name))
    except EvidenceStoreError as exc:
        raise EvidenceCopyFailed(f"the evidence store could not be listed: {exc}") from None


def durable(folder: Path) -> None:
    """Makes everything written under `folder` durable: one syncfs(2) of its file system (an fsync per file cost
    three times the copy itself: bench/backup.py), or an fsync of each file where syncfs is not to be had."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        if _syncfs(fd):
            return
        for path in folder.rglob("*"):
            if path.is_file():
                with open(path, "rb") as file:
                    os.fsync(file.fileno())
        os.fsync(fd)
    finally:
        os.close(fd)


def _syncfs(fd: int) -> bool:
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return hasattr(libc, "syncfs") and libc.syncfs(fd) == 0
    except OSError:
        return False


def _write_hashed(pieces, target: Path) -> Part:
    """Writes `pieces` to `target` (under a temporary name, renamed once whole), hashing on the way; durable only
    after `durable()` of its folder."""
    digest = hashlib.sha256()
    size = 0
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}")
    try:
        with open(temporary, "xb") as writing:
            for piece in pieces:
                digest.update(piece)
                writing.write(piece)
                size += len(piece)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return Part(digest.hexdigest(), size)


def _file_pieces(path: Path):
    with open(path, "rb") as reading:
        while chunk := reading.read(HASH_CHUNK):
            yield chunk


def _object_pieces(stored):
    try:
        yield from stored.iter_range(0, stored.size)
    finally:
        stored.close()


def _file_hash(path: Path) -> Part:
    digest = hashlib.sha256()
    size = 0
    for chunk in _file_pieces(path):
        digest.update(chunk)
        size += len(chunk)
    return Part(digest.hexdigest(), size)


def evidence_export(target: Path) -> dict[str, Part]:
    """Copies every sealed clip object of the store into `target`; {part name: its hash and size}. A clip purged
    while the copy runs is skipped (its key is gone: the object opens nothing). EvidenceCopyFailed if the store
    fails otherwise: a set missing a live clip would not be a backup."""
    target.mkdir(parents=True, exist_ok=True)
    store = evidence_store()
    parts = {}
    for name in evidence_names():
        try:
            stored = store.open(name, from_start=True)
            found = _write_hashed(_object_pieces(stored), target / name)
        except EvidenceMissing:
            continue
        except EvidenceStoreError as exc:
            raise EvidenceCopyFailed(f"the evidence object {name} could not be read: {exc}") from None
        if found.size != stored.size:  # a transfer cut short that the store did not report
            raise EvidenceCopyFailed(f"the evidence object {name} was read short ({found.size} of {stored.size} "
                                     "bytes)")
        parts[f"{FOLDER}/{name}"] = found
    durable(target)
    return parts


@dataclass
class Staged:
    """A restore's evidence, checked and ready to go in: `folder` holds copies inside the local store (renamed in
    by evidence_import); for a bucket it is None and `files` are the set's own, checked, uploaded by import."""
    files: dict[str, Path]
    expected: dict[str, Part]
    folder: Path | None = None


def evidence_stage(source: Path, names: list[str], expected: dict[str, Part]) -> Staged:
    """Checks every evidence file of the set against the manifest before anything changes: BackupRefused for one
    that does not match. With the local store each is copied as it is hashed into a staging folder inside the store
    (same file system, so the final move is a rename; its hidden name keeps it out of the store's listing), removed
    again on refusal. With a bucket each is hashed where it lies; import uploads it."""
    wanted = {name: expected[f"{FOLDER}/{name}"] for name in names}
    if evidence_store().name != "local":
        for name, part in wanted.items():
            found = _file_hash(source / name)
            if found != part:
                raise part_mismatch(f"{FOLDER}/{name}", found, part)
        return Staged(files={name: source / name for name in names}, expected=wanted)
    staging = _local_root() / f".restoring-{uuid.uuid4().hex}"
    staging.mkdir(parents=True, mode=0o700)
    try:
        for name, part in wanted.items():
            found = _write_hashed(_file_pieces(source / name), staging / name)
            if found != part:
                raise part_mismatch(f"{FOLDER}/{name}", found, part)
        durable(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Staged(files={name: staging / name for name in names}, expected=wanted, folder=staging)


def evidence_import(staged: Staged) -> int:
    """Puts the staged objects into the store, each whole or not at all (a rename in the folder; an upload that
    is visible only once complete in a bucket, its size read back). Returns how many."""
    store = evidence_store()
    moved = 0
    if staged.folder is not None:
        for name, path in sorted(staged.files.items()):
            os.replace(path, _local_root() / name)
            moved += 1
        staged.folder.rmdir()
        durable(_local_root())  # the renames
        return moved
    for name, path in sorted(staged.files.items()):
        try:
            store.upload(path, name)
            stored_size = store.object_size(name)
        except EvidenceStoreError as exc:
            raise EvidenceCopyFailed(f"the evidence object {name} could not be restored into the store ({moved} "
                                     f"of {len(staged.files)} were): {exc}. Run the restore again.") from None
        if stored_size != staged.expected[name].size:
            raise EvidenceCopyFailed(f"the evidence object {name} is {stored_size} bytes in the store after the "
                                     f"restore, not {staged.expected[name].size}. Run the restore again.")
        moved += 1
    return moved


def evidence_unstage(staged: Staged) -> None:
    if staged.folder is not None:
        shutil.rmtree(staged.folder, ignore_errors=True)
