"""Stale-lock takeover is atomic (issue 18.4): many processes that find the same stale lock at the
same moment, one holds it; the others fail with LockError. The liveness check is slowed down so
that every contender reads the stale owner before any of them acts (the race made certain)."""
from __future__ import annotations

import json
import multiprocessing
import socket
import subprocess
import time

import pytest

import axonseg.io.lock as lock_module
from axonseg.io.lock import FolderLock, LockError

PROCESSES, ROUNDS = 6, 3


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def _slow_alive(pid: int) -> bool:
    time.sleep(0.05)  # every contender has read the stale lock before anyone replaces it
    return False if pid == STALE["pid"] else _real_alive(pid)


_real_alive = lock_module._alive
STALE: dict = {}


def _contend(folder, start, results, rounds):
    lock_module._alive = _slow_alive
    for r in range(rounds):
        start.wait()
        try:
            FolderLock(folder).acquire()  # kept until the round ends: several holders would all say so
            results.put((r, True))
        except LockError:
            results.put((r, False))
        start.wait()  # the round ends when all have tried


def test_one_holder_among_six_takers_of_a_stale_lock(tmp_path):
    ctx = multiprocessing.get_context("fork")
    STALE["pid"] = _dead_pid()
    stale = json.dumps({"pid": STALE["pid"], "host": socket.gethostname()})
    start, results = ctx.Barrier(PROCESSES + 1), ctx.Queue()
    procs = [ctx.Process(target=_contend, args=(tmp_path, start, results, ROUNDS)) for _ in range(PROCESSES)]
    for p in procs:
        p.start()
    holders = []
    try:
        for r in range(ROUNDS):
            (tmp_path / ".axonseg.lock").write_text(stale)
            start.wait(timeout=30)
            start.wait(timeout=30)
            holders.append(sum(results.get(timeout=30)[1] for _ in range(PROCESSES)))
    finally:
        for p in procs:
            p.join(timeout=30)
    assert holders == [1] * ROUNDS


def test_a_live_owner_keeps_its_lock(tmp_path):
    (tmp_path / ".axonseg.lock").write_text(json.dumps({"pid": 1, "host": socket.gethostname()}))
    with pytest.raises(LockError, match="process 1"):
        FolderLock(tmp_path).acquire()


def test_a_stale_lock_is_taken_over_and_released(tmp_path):
    (tmp_path / ".axonseg.lock").write_text(json.dumps({"pid": _dead_pid(), "host": socket.gethostname()}))
    with FolderLock(tmp_path) as lock:
        assert lock.held and json.loads((tmp_path / ".axonseg.lock").read_text())["pid"] != 1
    assert not (tmp_path / ".axonseg.lock").exists()


def test_without_flock_a_stale_lock_is_refused_not_taken(tmp_path, monkeypatch):
    import errno

    def no_flock(fd, op):
        raise OSError(errno.ENOSYS, "Function not implemented")

    monkeypatch.setattr(lock_module.fcntl, "flock", no_flock)
    (tmp_path / ".axonseg.lock").write_text(json.dumps({"pid": _dead_pid(), "host": socket.gethostname()}))
    with pytest.raises(LockError, match="no flock"):
        FolderLock(tmp_path).acquire()
    assert (tmp_path / ".axonseg.lock").exists()
