"""Issue 18 item 18: a full disk mid-write names the file and says the disk is full (numpy said only
"524288 requested and 250848 written", zarr "[Errno 28] No space left on device"); a damaged .npy
(a spill) is named."""
from __future__ import annotations

import errno

import numpy as np
import pytest
import zarr

from axonseg.cli.main import main
from axonseg.cli.runner import error_message
from axonseg.io.files import load_npy, save_npy
from axonseg.io.info import FileFormatError
from axonseg.io.ome_zarr import create_ome_zarr, write_region
from tests.inference.helpers import write_model
from tests.inference.test_pipeline import make_input


def _short_write(*args, **kwargs):
    raise OSError("524288 requested and 250848 written")


def test_numpy_short_write_names_the_file_and_the_full_disk(tmp_path, monkeypatch):
    monkeypatch.setattr(np, "save", _short_write)
    target = tmp_path / "spill" / "0000000-0000001.npy"
    target.parent.mkdir()
    with pytest.raises(OSError) as info:
        save_npy(target, np.ones((4, 4), np.float32))
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(target)
    line = error_message(info.value)
    assert str(target) in line and "disk is full" in line and "250848 written" in line
    assert list(target.parent.iterdir()) == []  # the partial file is gone


def test_zarr_chunk_write_on_a_full_disk_names_the_array(tmp_path, monkeypatch):
    create_ome_zarr(tmp_path / "p.ome.zarr", (8, 8, 8), (8, 8, 8), np.uint8, (1.0, 1.0, 1.0), 1, "p")

    def full(self, key, value):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(zarr.Array, "__setitem__", full)
    with pytest.raises(OSError) as info:
        write_region(tmp_path / "p.ome.zarr", (slice(0, 8),) * 3, np.ones((8, 8, 8), np.uint8))
    line = error_message(info.value)
    assert str(tmp_path / "p.ome.zarr" / "0") in line and "disk is full" in line


def test_a_damaged_npy_is_named(tmp_path):
    path = tmp_path / "0000000-0000001.npy"
    save_npy(path, np.ones((4, 4), np.float32))
    path.write_bytes(path.read_bytes()[:60])
    with pytest.raises(FileFormatError, match="0000000-0000001.npy"):
        load_npy(path)


def test_predict_on_a_full_disk_says_which_file_in_one_line(tmp_path, monkeypatch, capsys):
    model = write_model(tmp_path / "m16.pth", patch=(16, 16, 16), pools=2)
    src = make_input(tmp_path / "in.zarr", (16, 32, 64))
    monkeypatch.setattr(np, "save", _short_write)  # the spills block 0 hands on to block 1
    argv = ["predict", str(src), str(model), str(tmp_path / "out"), "--chunk", "16", "16", "16", "--block", "16",
            "32", "32", "--threads", "1", "--no-preview", "--quiet", "--runtime", "eager"]
    assert main(argv) == 1
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("axonseg predict:")]
    assert len(err) == 1 and "spill" in err[0] and ".npy" in err[0] and "disk is full" in err[0], err
