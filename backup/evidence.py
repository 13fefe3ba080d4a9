"""The evidence part: every sealed clip file, copied as it is (ciphertext: a backup holds no plaintext).

Every copy goes through `evidence_export` and `evidence_import`, which read and write the evidence store by name,
so another store (S3) plugs in here alone. Files are written under a temporary name and renamed once whole."""

import hashlib
import os
import shutil
import uuid
from pathlib import Path

from django.conf import settings

from backup.manifest import HASH_CHUNK, Part

FOLDER = "evidence"


def _store() -> Path:
    return Path(settings.EVIDENCE_DIR)


def evidence_names() -> list[str]:
    """The names of sealed clip files in the store (not uploads still arriving)."""
    store = _store()
    if not store.is_dir():
        return []
    return sorted(path.name for path in store.glob("*.cnev") if not path.name.startswith("incoming-"))


def _copy(source: Path, target: Path) -> Part:
    digest = hashlib.sha256()
    size = 0
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}")
    try:
        with open(source, "rb") as reading, open(temporary, "xb") as writing:
            while chunk := reading.read(HASH_CHUNK):
                digest.update(chunk)
                writing.write(chunk)
                size += len(chunk)
            writing.flush()
            os.fsync(writing.fileno())
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
    return parts


def evidence_stage(source: Path, names: list[str], expected: dict[str, Part]) -> Path:
    """Copies the set's files into a staging folder inside the store (same file system, so the final move is a
    rename), checking each against the manifest as it is copied. Returns the staging folder."""
    staging = _store() / f".restoring-{uuid.uuid4().hex}"
    staging.mkdir(parents=True, mode=0o700)
    try:
        for name in names:
            found = _copy(source / name, staging / name)
            if found != expected[f"{FOLDER}/{name}"]:
                raise ValueError(f"the part {FOLDER}/{name} changed while it was being restored")
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
    return moved


def evidence_unstage(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)
