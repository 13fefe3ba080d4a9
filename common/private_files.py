"""Working files of uploads (the request body spool, sealed uploads in the staging folder): created readable by
connect's user only, held under a lock while in use, and swept once their process is gone.

A process that writes such a file holds a shared `flock` on it from the moment it creates it until the file is
renamed into place or deleted (`FileLease`). The kernel drops the lock when the process dies, however it dies,
so the sweep can tell a file some request is still writing or reading (locked) from one a killed process left
(unlocked), whatever their ages. The age test (`grace_s`) only covers the instant between creating a file and
locking it.
"""

import fcntl
import logging
import os
import time
from pathlib import Path

logger = logging.getLogger(__name__)


class FileLease:
    """A shared lock on a file, held on an open descriptor of its own until `release` (or until the process
    ends: the kernel drops it then)."""

    def __init__(self, fd: int):
        self._fd: int | None = os.dup(fd)  # the same open file, so the lock taken through `fd` lives on here
        fcntl.flock(self._fd, fcntl.LOCK_SH)

    @classmethod
    def of_path(cls, path: str | os.PathLike) -> "FileLease":
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            return cls(fd)
        finally:
            os.close(fd)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __del__(self):
        self.release()


def private_create(path: str | os.PathLike):
    """Creates `path` (it must not exist) for writing, mode 0600 whatever the umask, with a `FileLease` on it:
    (file, lease)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # a umask can only take bits away from 0600; this states it
        lease = FileLease(fd)
    except BaseException:
        os.close(fd)
        os.unlink(path)
        raise
    return os.fdopen(fd, "wb"), lease


def private_folder(path: str | os.PathLike) -> Path:
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def leftovers_sweep(folder: str | os.PathLike, pattern: str, *, grace_s: float = 60.0,
                    now: float | None = None) -> list[Path]:
    """Removes the files matching `pattern` in `folder` that no live process holds (see the module's text) and
    that were last changed more than `grace_s` seconds before `now` (the clock's time); returns what it removed."""
    removed: list[Path] = []
    folder = Path(folder)
    if not folder.is_dir():
        return removed
    cutoff = (time.time() if now is None else now) - grace_s
    for path in folder.glob(pattern):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
        except OSError:
            continue  # gone meanwhile, or a link: not ours to follow
        try:
            opened = os.fstat(fd)
            if opened.st_mtime >= cutoff:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live process is writing or reading it
            try:
                current = os.stat(path, follow_symlinks=False)
            except FileNotFoundError:
                continue
            if (current.st_dev, current.st_ino) == (opened.st_dev, opened.st_ino):
                os.unlink(path)
                removed.append(path)
        finally:
            os.close(fd)
    if removed:
        logger.info("removed %d upload file(s) left by stopped processes in %s", len(removed), folder)
    return removed
