"""An exclusive lock on an output folder: one run writes into a folder at a time.

The lock is a file ``<folder>/.axonseg.lock`` created with ``O_CREAT | O_EXCL`` holding the
owner's pid and host name. A second run fails with :class:`LockError` naming the folder
and the owner. A lock left by a process that no longer exists on this host is taken over
with a warning (a run killed with SIGKILL cannot remove its lock).
"""
from __future__ import annotations

import errno
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
            os.write(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname()}).encode())
        finally:
            os.close(fd)
        return True

    def acquire(self) -> "FolderLock":
        if self._create():
            self.held = True
            return self
        try:
            owner = json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):
            owner = {}
        pid, host = owner.get("pid"), owner.get("host")
        if host == socket.gethostname() and isinstance(pid, int) and not _alive(pid):
            logger.warning("%s: taking over a stale lock of process %d (no longer running)", self.folder, pid)
            try:
                self.path.unlink()
            except FileNotFoundError:
                pass
            if self._create():
                self.held = True
                return self
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
