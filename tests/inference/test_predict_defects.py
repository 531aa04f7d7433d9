"""Issue 11 defects 2, 4, 7 in predict: a stale input is noticed, one run per folder, and early failures
leave no output (so that the corrected command is not refused as "different settings")."""
from __future__ import annotations

import os

import numpy as np
import pytest
import tifffile
import torch
import zarr

from axonseg.cli.main import main
from axonseg.engine import FolderLock
from axonseg.inference import OutputError, PredictSettings, predict_whole_brain
from tests.inference.helpers import write_model
from tests.inference.test_pipeline import make_input

FAST = dict(chunk_shape_vox=(16, 16, 16), block_shape_vox=(16, 32, 32), num_threads=1, preview=False)
FLAGS = ["--chunk", "16", "16", "16", "--block", "16", "32", "32", "--threads", "1", "--no-preview", "--quiet"]


@pytest.fixture(scope="module")
def model16(tmp_path_factory):
    return write_model(tmp_path_factory.mktemp("m") / "m16.pth", patch=(16, 16, 16), pools=2)


def test_input_overwritten_in_place_is_not_resumed(tmp_path, model16):
    src = make_input(tmp_path / "in.zarr", (32, 40, 37), seed=1)
    out = tmp_path / "out"
    predict_whole_brain(src, model16, out, PredictSettings(**FAST), progress=False)
    predict_whole_brain(src, model16, out, PredictSettings(**FAST), progress=False)  # same input: resumes
    chunk = next(p for p in sorted(src.rglob("*")) if p.is_file() and p.parent.name == "0" and "c" in p.parts)
    st = os.stat(chunk)
    arr = zarr.open_array(str(src), mode="r+")
    arr[:] = np.random.default_rng(9).integers(500, 3000, size=arr.shape, dtype=np.uint16)
    for p in src.rglob("*"):  # even with every file's mtime put back, the sampled content differs
        if p.is_file():
            os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
    with pytest.raises(OutputError, match="different"):
        predict_whole_brain(src, model16, out, PredictSettings(**FAST), progress=False)


def test_a_second_run_on_a_locked_folder_fails_clearly(tmp_path, model16, capsys):
    src = make_input(tmp_path / "in.zarr", (16, 32, 32))
    out = tmp_path / "out"
    out.mkdir()
    with FolderLock(out):
        assert main(["predict", str(src), str(model16), str(out), *FLAGS]) == 1
        err = capsys.readouterr().err
        assert f"{out}: in use by process {os.getpid()}" in err and len(err.strip().splitlines()) == 1
        assert [p.name for p in out.iterdir()] == [".axonseg.lock"], "the refused run wrote nothing"
    assert main(["predict", str(src), str(model16), str(out), *FLAGS]) == 0
    assert not (out / ".axonseg.lock").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a CUDA GPU")
def test_cuda_without_gpu_leaves_nothing_and_cpu_then_runs(tmp_path, model16, capsys):
    src = make_input(tmp_path / "in.zarr", (16, 32, 32))
    out = tmp_path / "out"
    assert main(["predict", str(src), str(model16), str(out), "--device", "cuda", *FLAGS]) == 1
    assert "cuda" in capsys.readouterr().err.lower()
    assert not out.exists()
    assert main(["predict", str(src), str(model16), str(out), "--device", "cpu", *FLAGS]) == 0


def test_output_class_out_of_range_leaves_nothing(tmp_path, model16, capsys):
    src = make_input(tmp_path / "in.zarr", (16, 32, 32))
    out = tmp_path / "out"
    assert main(["predict", str(src), str(model16), str(out), "--output-class", "5", *FLAGS]) == 1
    assert "--output-class 5: the model has 2 classes" in capsys.readouterr().err
    assert not out.exists()
    assert main(["predict", str(src), str(model16), str(out), "--output-class", "1", *FLAGS]) == 0


def test_truncated_tiff_leaves_nothing(tmp_path, model16, capsys):
    stack = tmp_path / "stack.tiff"
    tifffile.imwrite(stack, np.random.default_rng(0).integers(0, 3000, (20, 32, 32), dtype=np.uint16))
    data = stack.read_bytes()
    stack.write_bytes(data[: len(data) // 2])
    out = tmp_path / "out"
    assert main(["predict", str(stack), str(model16), str(out), *FLAGS]) == 1
    assert "stack.tiff" in capsys.readouterr().err
    assert not out.exists()


def test_slices_of_different_shapes_leave_nothing(tmp_path, model16, capsys):
    folder = tmp_path / "slices"
    folder.mkdir()
    for i in range(20):
        tifffile.imwrite(folder / f"{i:04d}.tiff", np.ones((32, 33 if i == 13 else 32), np.uint16))
    out = tmp_path / "out"
    assert main(["predict", str(folder), str(model16), str(out), *FLAGS]) == 1
    assert "0013.tiff" in capsys.readouterr().err
    assert not out.exists()


def _with_weights(src, dst, value: float):
    obj = torch.load(src, weights_only=True)
    next(iter(obj["state_dict"].values())).fill_(value)
    torch.save(obj, dst)
    return dst


def test_non_finite_network_output_fails_the_block_naming_the_model(tmp_path, model16, capsys):
    """Issue 18 item 6: finite but huge weights overflow to NaN in the network; the old code wrote
    probability 0 everywhere and said "complete"."""
    src = make_input(tmp_path / "in.zarr", (16, 32, 32))
    model = _with_weights(model16, tmp_path / "huge.pth", 3e37)
    out = tmp_path / "out"
    assert main(["predict", str(src), str(model), str(out), "--runtime", "eager", *FLAGS]) == 1
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("axonseg predict:")]
    assert len(lines) == 1 and "huge.pth" in lines[0] and "NaN" in lines[0], lines
    assert not any((out / "blocks").iterdir()) and not (out / "blocks.log").exists()
    import json

    assert json.loads((out / "run.json").read_text())["status"] != "complete"


def test_unwritable_default_runtime_cache_is_named_before_any_output(tmp_path, model16, capsys, monkeypatch):
    """Issue 18 item 15: ~/.cache unusable (here a file, as root cannot be denied a chmod-ed folder): the
    exporting runtime's cache is checked before set-up, with the two ways out; nothing is left behind."""
    home = tmp_path / "home"
    home.mkdir()
    (home / ".cache").write_text("not a folder")
    monkeypatch.setenv("HOME", str(home))
    src = make_input(tmp_path / "in.zarr", (16, 32, 32))
    out = tmp_path / "out"
    assert main(["predict", str(src), str(model16), str(out), "--runtime", "onnxruntime", *FLAGS]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and ".cache" in err[0] and "--runtime-cache" in err[0] and "--runtime eager" in err[0], err
    assert not out.exists()
    cache = tmp_path / "cache"
    assert main(["predict", str(src), str(model16), str(out), "--runtime", "eager", "--runtime-cache", str(cache),
                 *FLAGS]) == 0
