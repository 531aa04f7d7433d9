"""The scout pass: a covering subset of the lattice first; the main pass runs only patches where the scout
found something, reuses the scout's own outputs, and gives the same mask."""
from __future__ import annotations

import json

import numpy as np
import pytest
import zarr

from axonseg.inference import PredictSettings, predict_whole_brain
from axonseg.inference import blockjob, scout
from axonseg.inference.scout import cover_indices
from tests.inference.helpers import write_model


def test_cover_indices_take_the_fewest_lattice_starts_that_cover():
    assert cover_indices(tuple(range(0, 449, 32)), 64) == tuple(range(0, 15, 2))  # step 0.5: every other
    assert cover_indices((0, 32, 64, 96), 64) == (0, 2, 3)  # the last patch closes the gap
    assert cover_indices((0, 64, 128), 64) == (0, 1, 2)  # step 1: all of them
    assert cover_indices((0,), 64) == (0,)
    with pytest.raises(ValueError, match="gaps"):
        cover_indices((0, 80), 64)


def sparse_volume(shape=(48, 96, 96)) -> np.ndarray:
    """Dim noisy tissue with a few bright 'axons' in one corner only."""
    rng = np.random.default_rng(1)
    vol = rng.normal(1000, 30, shape)
    vol[10:14, 8:40, 10:13] = 5000
    vol[30:33, 20:23, 5:45] = 5000
    return np.clip(vol, 0, 65535).astype(np.uint16)


def bright(batch: np.ndarray) -> np.ndarray:
    """A pointwise 'network' on the z-scored input: foreground where the voxel is bright."""
    fg = 1 / (1 + np.exp(-(batch[:, 0] - 3.0) * 4))
    return np.stack([1 - fg, fg], axis=1).astype(np.float32)


@pytest.fixture()
def pointwise(monkeypatch, tmp_path):
    monkeypatch.setattr(blockjob, "_predictor", lambda job: bright)
    blockjob._CACHE.clear()
    yield write_model(tmp_path / "m16.pth", patch=(16, 16, 16), pools=2)
    blockjob._CACHE.clear()


BASE = dict(chunk_shape_vox=(16, 16, 16), block_shape_vox=(16, 32, 32), num_threads=1, preview=False,
            tissue_mask=False, normalization="global")


def _prob(out) -> np.ndarray:
    return zarr.open_array(str(out / "probability.ome.zarr" / "0"))[:]


def test_scout_runs_fewer_patches_each_once_and_keeps_the_mask(tmp_path, pointwise):
    src = tmp_path / "v.zarr"
    zarr.create_array(str(src), data=sparse_volume(), chunks=(16, 32, 32))
    full = predict_whole_brain(src, pointwise, tmp_path / "full", PredictSettings(**BASE), progress=False)
    sc = predict_whole_brain(src, pointwise, tmp_path / "scout", PredictSettings(**BASE, scout_threshold=0.1),
                             progress=False)
    a, b = _prob(tmp_path / "full"), _prob(tmp_path / "scout")
    assert ((a >= 128) == (b >= 128)).all() and (a >= 128).sum() > 200
    assert np.abs(a.astype(int) - b.astype(int)).max() <= 0.1 * 255 + 1  # only where p < the threshold
    meta = json.loads((tmp_path / "scout" / "run.json").read_text())
    p = meta["patches"]
    assert p["run"] == sc.patches_run < full.patches_run == p["lattice"]
    assert p["run_per_lattice_patch"] <= 1.0 and p["reused_from_scout"] > 0
    assert p["scout"] == meta["scout"]["patches_run"] == meta["scout"]["lattice_patches"]
    assert not (tmp_path / "scout" / "scout").exists()  # per-block scout files removed at the end
    found = zarr.open_array(str(tmp_path / "scout" / "scout.ome.zarr" / "0"))[:]
    assert found.shape == (3, 6, 6) and found.max() == 255 and (found < 26).mean() > 0.5


def test_an_interrupted_scout_pass_resumes_to_the_same_output(tmp_path, pointwise, monkeypatch):
    src = tmp_path / "v.zarr"
    zarr.create_array(str(src), data=sparse_volume(), chunks=(16, 32, 32))
    settings = PredictSettings(**BASE, scout_threshold=0.1)
    predict_whole_brain(src, pointwise, tmp_path / "once", settings, progress=False)
    store = scout.store

    def failing(job, index, computed):
        if index == 5:
            raise KeyboardInterrupt
        return store(job, index, computed)

    monkeypatch.setattr(scout, "store", failing)
    with pytest.raises(KeyboardInterrupt):
        predict_whole_brain(src, pointwise, tmp_path / "twice", settings, progress=False)
    assert len(list((tmp_path / "twice" / "scout").glob("*.done"))) == 5
    monkeypatch.setattr(scout, "store", store)
    ran, compute = [], scout.compute
    monkeypatch.setattr(scout, "compute", lambda job, i, *a: ran.append(i) or compute(job, i, *a))
    predict_whole_brain(src, pointwise, tmp_path / "twice", settings, progress=False)
    assert ran and min(ran) == 5  # blocks 0-4 were not scouted again
    assert (_prob(tmp_path / "once") == _prob(tmp_path / "twice")).all()


def test_scout_threshold_is_a_probability():
    with pytest.raises(ValueError, match="scout_threshold"):
        PredictSettings(scout_threshold=1.5)
