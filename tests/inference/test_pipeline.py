"""The whole-brain predictor end to end: outputs, resume after SIGKILL, Dask == serial, memory."""
from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import zarr

from axonseg.inference import OutputError, PredictSettings, predict_whole_brain
from tests.inference.helpers import write_model

REPO = Path(__file__).resolve().parents[2]
FAST = dict(chunk_shape_vox=(16, 16, 16), block_shape_vox=(16, 32, 32), num_threads=1, preview=False)


@pytest.fixture(scope="module")
def model16(tmp_path_factory) -> Path:
    """A tiny random Generic_UNet with 16^3 patches (fast), as an axonseg .pth."""
    return write_model(tmp_path_factory.mktemp("model") / "m16.pth", patch=(16, 16, 16), pools=2)


def make_input(path: Path, shape, seed=0, cube_at=None) -> Path:
    rng = np.random.default_rng(seed)
    z = zarr.create_array(str(path), shape=shape, chunks=(16, 32, 32), dtype=np.uint16, fill_value=0,
                          attributes={"voxel_size_um": [4.0, 2.0, 2.0]})
    if cube_at is None:
        z[:] = rng.integers(500, 3000, size=shape, dtype=np.uint16)
    else:
        z[tuple(slice(c, c + 24) for c in cube_at)] = rng.integers(500, 3000, size=(24, 24, 24), dtype=np.uint16)
    return path


def tree_digest(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root`` (zarr chunks and metadata)."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _cli(*args) -> list[str]:
    return [sys.executable, "-m", "axonseg.cli.main", "predict", *map(str, args)]


FAST_FLAGS = ["--chunk", "16", "16", "16", "--block", "16", "32", "32", "--threads", "1", "--no-preview", "--quiet"]


def test_outputs_metadata_mask_and_no_silent_overwrite(tmp_path, model16):
    src = make_input(tmp_path / "in.zarr", (40, 50, 37))
    before = tree_digest(src)
    s = PredictSettings(**FAST, mask_threshold=0.5, write_tiff_slices=True)
    out = tmp_path / "out"
    summary = predict_whole_brain(src, model16, out, s, progress=False)
    assert summary.blocks_run == summary.blocks_total == 3 * 2 * 2
    group = zarr.open_group(str(out / "probability.ome.zarr"), mode="r")
    ms = group.attrs["ome"]["multiscales"][0]
    assert group.attrs["ome"]["version"] == "0.5" and [a["name"] for a in ms["axes"]] == ["z", "y", "x"]
    assert ms["datasets"][0]["coordinateTransformations"][0]["scale"] == [4.0, 2.0, 2.0]
    prob = group["0"][:]
    mask = zarr.open_array(str(out / "probability.ome.zarr" / "labels" / "mask" / "0"), mode="r")[:]
    assert prob.dtype == np.uint8 and prob.shape == (40, 50, 37) and 0 < prob.std()
    assert set(np.unique(mask)) <= {0, 255} and ((prob >= 128) == (mask == 255)).mean() > 0.99
    tiffs = sorted(p.name for p in (out / "tiff").iterdir())
    assert tiffs[0] == "0000.tiff" and len(tiffs) == 40
    meta = json.loads((out / "run.json").read_text())
    assert meta["status"] == "complete" and meta["versions"]["torch"] and meta["normalization"]["mean"] > 0
    with pytest.raises(OutputError, match="different"):
        predict_whole_brain(src, model16, out, s.replace(step_fraction=0.75), progress=False)
    predict_whole_brain(src, model16, out, s.replace(step_fraction=0.75), overwrite=True, progress=False)
    assert tree_digest(src) == before, "the input must never be modified"


def test_empty_blocks_are_skipped_and_counted(tmp_path, model16):
    src = make_input(tmp_path / "in.zarr", (64, 96, 96), cube_at=(2, 3, 4))
    s = PredictSettings(**FAST, skip_empty_below=1)
    summary = predict_whole_brain(src, model16, tmp_path / "out", s, progress=False)
    assert 0 < summary.blocks_skipped_empty < summary.blocks_total
    prob = zarr.open_array(str(tmp_path / "out" / "probability.ome.zarr" / "0"))[:]
    assert prob[48:, 64:, 64:].max() == 0


def test_sigkill_then_rerun_is_byte_identical_and_writes_each_block_once(tmp_path, model16):
    src = make_input(tmp_path / "in.zarr", (48, 64, 64), seed=4)
    ref = tmp_path / "ref"
    assert subprocess.run(_cli(src, model16, ref, *FAST_FLAGS), capture_output=True).returncode == 0
    out = tmp_path / "out"
    proc = subprocess.Popen(_cli(src, model16, out, *FAST_FLAGS), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and len(list((out / "blocks").glob("*.done"))) < 4 and proc.poll() is None:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_at_kill = {int(p.name.split(".")[0]) for p in (out / "blocks").glob("*.done")}
    total = 3 * 2 * 2
    assert 4 <= len(done_at_kill) < total, "the kill must land mid-run"
    first_pid = {int(line.split()[1]) for line in (out / "blocks.log").read_text().split("\n") if line}
    assert subprocess.run(_cli(src, model16, out, *FAST_FLAGS), capture_output=True).returncode == 0
    lines = [line.split() for line in (out / "blocks.log").read_text().split("\n") if line]
    rerun = [int(i) for i, pid in lines if int(pid) not in first_pid]
    assert len(rerun) == len(set(rerun)), "a block was written twice in the rerun"
    assert not set(rerun) & done_at_kill, "the rerun redid finished blocks"
    assert set(rerun) | done_at_kill == set(range(total))
    assert len(lines) - len(rerun) - len(done_at_kill) <= 1  # at most the block in flight at the kill
    for name in ("probability.ome.zarr",):
        assert tree_digest(out / name) == tree_digest(ref / name)


def test_dask_runner_equals_serial_runner(tmp_path, model16):
    src = make_input(tmp_path / "in.zarr", (32, 40, 37), seed=5)
    s = PredictSettings(**FAST)
    predict_whole_brain(src, model16, tmp_path / "serial", s, progress=False)
    summary = predict_whole_brain(src, model16, tmp_path / "dask", s.replace(runner="dask", dask_workers=2),
                                  progress=False)
    assert summary.blocks_run == summary.blocks_total
    pids = {json.loads(p.read_text())["pid"] for p in (tmp_path / "dask" / "blocks").glob("*.done")}
    assert os.getpid() not in pids, "dask blocks must run in worker processes"
    assert tree_digest(tmp_path / "dask" / "probability.ome.zarr") == \
        tree_digest(tmp_path / "serial" / "probability.ome.zarr")


_MEASURE = ("import resource, sys; from axonseg.cli.main import main; rc = main(sys.argv[1:]); "
            "print('PEAK_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss); sys.exit(rc)")


def _peak_mb(tmp_path: Path, model: Path, shape) -> float:
    src = make_input(tmp_path / f"in{shape[1]}.zarr", shape, seed=6, cube_at=(8, 8, 8))
    args = [src, model, tmp_path / f"out{shape[1]}", "--chunk", "32", "64", "64", "--block", "32", "64", "64",
            "--threads", "1", "--batch-size", "16", "--skip-empty-below", "1", "--quiet"]
    res = subprocess.run([sys.executable, "-c", _MEASURE, "predict", *map(str, args)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr[-2000:]
    return int(res.stdout.split("PEAK_KB")[1].split()[0]) / 1024


def test_peak_memory_does_not_grow_with_volume_size(tmp_path, model16):
    small = _peak_mb(tmp_path, model16, (64, 128, 128))
    big = _peak_mb(tmp_path, model16, (192, 512, 512))  # 48x the voxels: 96 MB uint16, 192 MB float32
    assert big - small < 64, f"peak RSS {small:.0f} MB -> {big:.0f} MB"


def test_bad_input_or_model_is_one_clear_error_and_no_output(tmp_path, model16, capsys):
    from axonseg.cli.main import main as axonseg_main

    src = make_input(tmp_path / "in.zarr", (20, 20, 20))
    out = tmp_path / "out"
    assert axonseg_main(["predict", str(tmp_path / "missing.zarr"), str(model16), str(out), "--quiet"]) == 1
    assert "missing.zarr: no such file" in capsys.readouterr().err
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    assert axonseg_main(["predict", str(src), str(tmp_path / "junk.pth"), str(out), "--quiet"]) == 1
    assert "junk.pth: not a torch checkpoint" in capsys.readouterr().err
    assert axonseg_main(["predict", str(src), str(model16), str(src / "pred"), "--quiet"]) == 1
    assert "must not be the input" in capsys.readouterr().err
    assert not out.exists() and not (src / "pred").exists()
