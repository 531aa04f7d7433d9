"""An exclusive lock on an output folder: one run writes into a folder at a time.

The lock is a file ``<folder>/.axonseg.lock`` created with ``O_CREAT | O_EXCL`` holding the
owner's pid and host name. A second run fails with :class:`LockError` naming the folder
and the owner. A lock left by a process that no longer exists on this host is taken over
with a warning (a run killed with SIGKILL cannot remove its lock).

Takeover is atomic: the taker holds an OS lock (``flock``) on the stale lock file, checks
that the path still names that same file and that its owner is still dead, and only then
writes itself into it. Two runs that find the same stale lock are serialised by the
``flock``; the second one then reads the first one's (live) pid and fails. Nothing is ever
unlinked and re-created, so no run can remove a lock another one has just taken.
"""
from __future__ import annotations

import errno
import fcntl
import json
import logging
import os
import socket
from pathlib import Path

from axonseg.errors import AxonsegError

logger = logging.getLogger(__name__)

LOCK_NAME = ".axonseg.lock"


class LockError(AxonsegError, RuntimeError):
    """The folder is locked by another running process."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class FolderLock:
    """``with FolderLock(folder): ...`` holds the lock for the block; ``acquire``/``release`` by hand too."""

    def __init__(self, folder: str | Path, name: str = LOCK_NAME):
        self.folder = Path(folder)
        self.path = self.folder / name
        self.held = False

    def _create(self) -> bool:
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return False
        try:
            os.write(fd, self._record())
        finally:
            os.close(fd)
        return True

    @staticmethod
    def _record() -> bytes:
        return json.dumps({"pid": os.getpid(), "host": socket.gethostname()}).encode()

    def _owner(self, fd: int | None = None) -> dict:
        try:
            if fd is None:
                text = self.path.read_text()
            else:
                os.lseek(fd, 0, os.SEEK_SET)
                text = os.read(fd, 4096).decode()
            owner = json.loads(text or "{}")
        except (OSError, ValueError):
            return {}
        return owner if isinstance(owner, dict) else {}

    @staticmethod
    def _stale(owner: dict) -> bool:
        pid = owner.get("pid")
        return owner.get("host") == socket.gethostname() and isinstance(pid, int) and not _alive(pid)

    def _take_over(self) -> bool | None:
        """Take over a stale lock file: True (ours now), False (not stale), None (it changed: retry)."""
        try:
            fd = os.open(self.path, os.O_RDWR)
        except FileNotFoundError:
            return None
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)  # one taker at a time; released when fd closes
            except OSError as exc:  # e.g. Lustre mounted without -o flock: no safe takeover
                if exc.errno not in (errno.ENOLCK, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL):
                    raise
                raise LockError(f"{self.folder}: the lock file {self.path} may be stale, but this file system "
                                f"has no flock ({exc.strerror}) to take it over safely; delete it if the run "
                                "that wrote it is gone") from None
            try:
                current = os.stat(self.path)
            except FileNotFoundError:
                return None
            mine = os.fstat(fd)
            if (current.st_ino, current.st_dev) != (mine.st_ino, mine.st_dev):
                return None  # released and re-created meanwhile: look again
            owner = self._owner(fd)
            if not self._stale(owner):
                return False
            logger.warning("%s: taking over a stale lock of process %d (no longer running)", self.folder,
                           owner["pid"])
            data = self._record()
            os.ftruncate(fd, 0)
            os.pwrite(fd, data, 0)
            os.fsync(fd)
            return True
        finally:
            os.close(fd)

    def acquire(self) -> "FolderLock":
        for _ in range(20):
            if self._create():
                self.held = True
                return self
            taken = self._take_over()
            if taken:
                self.held = True
                return self
            if taken is False:
                break
        owner = self._owner()
        pid, host = owner.get("pid"), owner.get("host")
        who = f"process {pid} on {host}" if pid else "another process"
        raise LockError(f"{self.folder}: in use by {who} (lock file {self.path}); wait for it to finish, "
                        f"or delete the lock file if that run is gone")

    def release(self) -> None:
        if self.held:
            try:
                self.path.unlink()
            except OSError as e:
                if e.errno != errno.ENOENT:
                    raise
            self.held = False

    def release_and_remove_folder(self) -> None:
        """Remove the lock file (whoever holds it: call only as its holder) and the folder if then empty."""
        self.path.unlink(missing_ok=True)
        self.held = False
        try:
            self.folder.rmdir()
        except OSError as e:
            if e.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOENT):
                raise

    def __enter__(self) -> "FolderLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()
