"""The shred key store: one random 256-bit key per clip, kept in CONNECT_KEY_STORE_DIR, apart from the database
and from the evidence files, and backed up apart from them with a short retention (docs/BACKUPS.md).

A clip's data key is sealed under its shred key before the master key wraps it (common/clip_keys.py), so the
database row alone, or a database backup with every master key, opens nothing once the shred key is destroyed.
Destroying is for good: the file is overwritten, removed, and the removal is made durable.

Files are written whole or not at all (a temporary name, fsync, rename, fsync of the folder), so a crash never
leaves a half-written key that would look present.
"""

import os
import uuid
from pathlib import Path

from django.conf import settings

KEY_BYTES = 32
SUFFIX = ".key"


class KeyStoreError(Exception):
    """The key store cannot be read or written (a missing mount, full disk, permissions)."""


def root() -> Path:
    return Path(settings.KEY_STORE_DIR)


def _root_ready() -> Path:
    """The store's folder. In production it must exist already: a key store that is not mounted must not be
    replaced, silently, by an empty folder on the local disk (keys written there would be missed by its backups
    and by the other machines). The demo creates its own under var/."""
    folder = root()
    if not folder.is_dir():
        if not settings.DEMO:
            raise KeyStoreError(f"the key store ({folder}) is missing: is CONNECT_KEY_STORE_DIR mounted? (create the "
                                "folder, owned by connect's user and readable by it alone, on first install)")
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def _path(code: uuid.UUID) -> Path:
    text = str(code)
    return root() / text[:2] / f"{text}{SUFFIX}"


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def shred_key_create(code: uuid.UUID) -> bytes:
    """A new shred key for the clip `code`, durable on disk before it is returned."""
    key = os.urandom(KEY_BYTES)
    path = _path(code)
    _root_ready()
    try:
        path.parent.mkdir(exist_ok=True, mode=0o700)
        temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, key)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.link(temporary, path)  # fails if a key for this code exists: a key is never replaced
        os.unlink(temporary)
        _fsync_dir(path.parent)
    except FileExistsError:
        temporary.unlink(missing_ok=True)
        raise KeyStoreError(f"a shred key for clip {code} already exists") from None
    except OSError as exc:
        raise KeyStoreError(f"the key store ({root()}) cannot be written: {exc.strerror or exc}") from None
    return key


def shred_key_get(code: uuid.UUID) -> bytes | None:
    """The clip's shred key, or None once it has been destroyed (or never existed)."""
    if not root().is_dir():
        raise KeyStoreError(f"the key store ({root()}) is missing: is CONNECT_KEY_STORE_DIR mounted?")
    try:
        key = _path(code).read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise KeyStoreError(f"the key store ({root()}) cannot be read: {exc.strerror or exc}") from None
    if len(key) != KEY_BYTES:
        raise KeyStoreError(f"the shred key of clip {code} is damaged ({len(key)} bytes)")
    return key


def shred_key_destroy(code: uuid.UUID) -> bool:
    """Destroys the clip's shred key for good; False if there was none."""
    path = _path(code)
    try:
        with open(path, "r+b") as file:
            file.write(os.urandom(KEY_BYTES))  # not a guarantee on every disk, but no copy left in place
            file.flush()
            os.fsync(file.fileno())
        path.unlink()
        _fsync_dir(path.parent)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise KeyStoreError(f"the key store ({root()}) cannot destroy a key: {exc.strerror or exc}") from None
    return True


def shred_key_codes() -> set[uuid.UUID]:
    """Every clip code that has a shred key."""
    codes = set()
    for path in root().glob(f"*/*{SUFFIX}"):
        try:
            codes.add(uuid.UUID(path.name.removesuffix(SUFFIX)))
        except ValueError:
            continue
    return codes
