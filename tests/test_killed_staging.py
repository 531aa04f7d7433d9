"""After kill -9 (issue 18.10 / 18.20): worker processes end with their parent, and the next run
removes the staging folders (and a stale lock) that a killed create-data, rough-labels or
crop-cubes left behind; an output a killed swap had moved aside is put back."""
from __future__ import annotations

import json
import multiprocessing
import os
import signal
import socket
import subprocess
import time
from concurrent.futures import Future

import numpy as np
import pytest
import tifffile

from axonseg.cli.main import main as axonseg_main
from axonseg.engine.parent_watch import exit_with_parent
from axonseg.io.atomic import staged_folder
from tests.test_create_data_cli import _args, _line_labels, make_tree


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def _stale_lock(path):
    path.write_text(json.dumps({"pid": _dead_pid(), "host": socket.gethostname()}))


def _orphan(pipe):
    exit_with_parent(os.getppid())
    time.sleep(60)


def _middle(pipe):
    child = multiprocessing.get_context("fork").Process(target=_orphan, args=(pipe,))
    child.start()
    pipe.send(child.pid)
    time.sleep(60)


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_a_worker_ends_when_its_parent_is_killed():
    ctx = multiprocessing.get_context("fork")
    ours, theirs = ctx.Pipe()
    middle = ctx.Process(target=_middle, args=(theirs,))
    middle.start()
    worker = ours.recv()
    os.kill(middle.pid, signal.SIGKILL)
    middle.join()
    deadline = time.monotonic() + 5
    while not _gone(worker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(worker), "the worker outlived its killed parent"


class _InlinePool:
    """Records how create-data builds its pool and runs the jobs inline (no process start-up)."""

    made: list[dict] = []

    def __init__(self, **kwargs):
        _InlinePool.made.append(kwargs)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def submit(self, fn, *args):
        future = Future()
        future.set_result(fn(*args))
        return future

    def shutdown(self, **kwargs):
        pass


def test_create_data_workers_watch_their_parent(tmp_path, monkeypatch):
    import importlib

    create_data = importlib.import_module("axonseg.cubes.create_data")  # the module, not the function
    monkeypatch.setattr(create_data, "ProcessPoolExecutor", _InlinePool)
    root = make_tree(tmp_path / "in", _line_labels(3, 16), n_artifacts=2)
    assert axonseg_main(_args(root, tmp_path / "raw", "--workers", "2", "--samples-per-cube", "1")) == 0
    assert _InlinePool.made[-1]["initializer"] is exit_with_parent
    assert _InlinePool.made[-1]["initargs"] == (os.getpid(),)


def test_create_data_removes_what_a_killed_run_left(tmp_path):
    root = make_tree(tmp_path / "in", _line_labels(3, 16), n_artifacts=2)
    raw = tmp_path / "raw" / "nnUNet_raw_data"
    (raw / ".Task611_Test.partial-k1ll3d" / "imagesTr").mkdir(parents=True)
    (raw / ".Task611_Test.partial-k1ll3d" / "imagesTr" / "Test_0000_0000.nii.gz").write_bytes(b"half")
    _stale_lock(raw / ".Task611_Test.lock")
    assert axonseg_main(_args(root, tmp_path / "raw", "--samples-per-cube", "1")) == 0
    assert sorted(p.name for p in raw.iterdir()) == ["Task611_Test"]


@pytest.mark.parametrize("command", ["rough-labels", "crop-cubes"])
def test_labels_and_cubes_remove_a_killed_run_s_staging_folder(tmp_path, command):
    cubes = tmp_path / "cubes"
    cubes.mkdir()
    volume = np.random.default_rng(0).integers(0, 500, (12, 16, 16)).astype(np.uint16)
    tifffile.imwrite(cubes / "volume-1.tiff", volume)
    out = tmp_path / "out"
    name = "labels" if command == "rough-labels" else "cubes"
    (out / f".{name}.partial-k1ll3d").mkdir(parents=True)  # what a run killed while writing leaves
    (out / f".{name}.partial-k1ll3d" / "x.tiff").write_bytes(b"half a tiff")
    if command == "rough-labels":
        argv = ["rough-labels", "--cubes", str(cubes), "--out", str(out), "--method", "mad"]
    else:
        (tmp_path / "p.csv").write_text("z,y,x\n6,8,8\n")
        argv = ["crop-cubes", "--volume", str(cubes / "volume-1.tiff"), "--points", str(tmp_path / "p.csv"),
                "--out", str(out), "--size", "4"]
    assert axonseg_main(argv) == 0
    assert not any(p.name.startswith(".") for p in out.iterdir())


def test_an_output_moved_aside_by_a_killed_swap_is_put_back(tmp_path):
    aside = tmp_path / ".out.old-k1ll3d" / "out"
    aside.mkdir(parents=True)
    (aside / "data.txt").write_text("the previous output")
    with pytest.raises(ValueError):
        with staged_folder(tmp_path / "out", overwrite=True):
            raise ValueError("the new build failed")
    assert (tmp_path / "out" / "data.txt").read_text() == "the previous output"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
