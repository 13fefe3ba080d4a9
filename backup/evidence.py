"""The evidence part: every sealed clip file, copied as it is (ciphertext: a backup holds no plaintext).

Every copy goes through `evidence_export` and `evidence_import`, which read and write the evidence store by name,
so another store (S3) plugs in here alone. Files are written under a temporary name and renamed once whole."""

import hashlib
import os
import shutil
import uuid
from pathlib import Path

from django.conf import settings

from backup.manifest import HASH_CHUNK, Part, part_mismatch

FOLDER = "evidence"


def _store() -> Path:
    return Path(settings.EVIDENCE_DIR)


def evidence_names() -> list[str]:
    """The names of sealed clip files in the store (not uploads still arriving)."""
    store = _store()
    if not store.is_dir():
        return []
    return sorted(path.name for path in store.glob("*.cnev") if not path.name.startswith("incoming-"))


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


def _copy(source: Path, target: Path) -> Part:
    """Copies one file, hashing it on the way; durable only after `durable()` of its folder."""
    digest = hashlib.sha256()
    size = 0
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}")
    try:
        with open(source, "rb") as reading, open(temporary, "xb") as writing:
            while chunk := reading.read(HASH_CHUNK):
                digest.update(chunk)
                writing.write(chunk)
                size += len(chunk)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return Part(digest.hexdigest(), size)


def evidence_export(target: Path) -> dict[str, Part]:
    """Copies every sealed clip file into `target`; {part name: its hash and size}. A clip purged while the copy
    runs is skipped (its key is gone: the file opens nothing)."""
    target.mkdir(parents=True, exist_ok=True)
    parts = {}
    for name in evidence_names():
        try:
            parts[f"{FOLDER}/{name}"] = _copy(_store() / name, target / name)
        except FileNotFoundError:
            continue
    durable(target)
    return parts


def evidence_stage(source: Path, names: list[str], expected: dict[str, Part]) -> Path:
    """Copies the set's files into a staging folder inside the store (same file system, so the final move is a
    rename; its hidden name keeps it out of the store's listing), checking each against the manifest as it is
    copied: BackupRefused, and the staging folder removed, for one that does not match. Returns the folder."""
    staging = _store() / f".restoring-{uuid.uuid4().hex}"
    staging.mkdir(parents=True, mode=0o700)
    try:
        for name in names:
            found = _copy(source / name, staging / name)
            if found != expected[f"{FOLDER}/{name}"]:
                raise part_mismatch(f"{FOLDER}/{name}", found, expected[f"{FOLDER}/{name}"])
        durable(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging


def evidence_import(staging: Path) -> int:
    """Moves staged files into the store (each a rename: a reader sees the old file or the new, never half)."""
    moved = 0
    for path in sorted(staging.iterdir()):
        os.replace(path, _store() / path.name)
        moved += 1
    staging.rmdir()
    durable(_store())  # the renames
    return moved


def evidence_unstage(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)
