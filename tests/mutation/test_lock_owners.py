"""Issue 18 item 36: a lock whose owner may be alive is never taken over.

Lock files are written by hand here (not with FolderLock), and the owner's state is set up
outside the code under test: a pid that surely exited (a child we waited for), a host name that
is not this one, and ``os.kill`` answering EPERM as the kernel does for another user's process.
"""
from __future__ import annotations

import errno
import json
import os
import socket
import subprocess
import sys

import pytest

import axonseg.io.lock as lock_module
from axonseg.io.lock import FolderLock, LockError


def _exited_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _hand_lock(folder, pid: int, host: str) -> bytes:
    data = json.dumps({"pid": pid, "host": host}).encode()
    (folder / FolderLock(folder).path.name).write_bytes(data)
    return data


def test_a_live_process_of_another_user_keeps_its_lock(tmp_path, monkeypatch):
    pid = _exited_pid()
    data = _hand_lock(tmp_path, pid, socket.gethostname())

    def kill_as_another_users_process(p, sig):
        if p == pid:
            raise PermissionError(errno.EPERM, "Operation not permitted")
        return os.kill(p, sig)

    monkeypatch.setattr(lock_module.os, "kill", kill_as_another_users_process)
    with pytest.raises(LockError, match=f"in use by process {pid}"):
        FolderLock(tmp_path).acquire()
    assert FolderLock(tmp_path).path.read_bytes() == data


def test_the_same_lock_of_an_exited_process_on_this_host_is_taken_over(tmp_path):
    _hand_lock(tmp_path, _exited_pid(), socket.gethostname())
    with FolderLock(tmp_path):
        assert json.loads(FolderLock(tmp_path).path.read_text())["pid"] == os.getpid()


def test_another_hosts_lock_is_not_taken_over(tmp_path):
    """Its pid means nothing here (it exited on this host, but that says nothing about the other)."""
    pid = _exited_pid()
    data = _hand_lock(tmp_path, pid, socket.gethostname() + "-elsewhere.example.org")
    with pytest.raises(LockError, match="elsewhere.example.org"):
        FolderLock(tmp_path).acquire()
    assert FolderLock(tmp_path).path.read_bytes() == data
