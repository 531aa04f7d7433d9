"""predict with halo tiling: the probability written equals one forward pass of the whole (normalised) volume
through the same BatchNorm network (the oracle, independent of axonseg's tiling) on odd shapes, blocks and
chunks off the pooling grid, tiles at the volume border and tiles skipped outside the tissue; --tiling auto
picks halo tiling only where the model declares it; run.json records the choice and its cost."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import zarr

from axonseg.inference import PredictSettings, predict_whole_brain
from axonseg.inference.normalization import NormalizationParams
from tests.inference.halo_helpers import bn_unet, whole_volume_oracle, write_bn_model
from tests.inference.test_pipeline import make_input

HALO = 20  # >= the receptive-field radius of a 2-pooling test U-Net: tiled == whole exactly


@pytest.fixture()
def bn_model(tmp_path, monkeypatch):
    return write_bn_model(tmp_path / "bn.pth", monkeypatch, pools=2, halo_vox=HALO, position_independent=True)


def _settings(**kw) -> PredictSettings:
    base = dict(num_threads=1, preview=False, runtime="eager", tissue_mask=False, normalization="global")
    return PredictSettings(**dict(base, **kw))


def _oracle(src, out) -> np.ndarray:
    raw = zarr.open_array(str(src))[:].astype(np.float32)
    norm = NormalizationParams(**json.loads((out / "run.json").read_text())["normalization"])
    torch.set_num_threads(1)
    return whole_volume_oracle(norm.apply(raw), bn_unet(pools=2), 4)[1]


def _prob(out) -> np.ndarray:
    return zarr.open_group(str(out / "probability.ome.zarr"))["0"][:].astype(np.float32) / 255


@pytest.mark.parametrize("shape,chunk,block", [
    ((29, 40, 37), (8, 8, 8), (16, 16, 16)),     # odd shape: border tiles clipped and padded
    ((23, 30, 41), (6, 10, 7), (12, 20, 14)),    # chunks and blocks off the pooling grid (4)
    ((12, 33, 40), (8, 16, 16), (8, 32, 16)),    # thinner than one tile on z
])
def test_halo_tiled_prediction_equals_the_whole_volume_pass(tmp_path, bn_model, shape, chunk, block):
    src = make_input(tmp_path / "in.zarr", shape, seed=3)
    out = tmp_path / "out"
    summary = predict_whole_brain(src, bn_model, out, _settings(chunk_shape_vox=chunk, block_shape_vox=block),
                                  progress=False)
    want = _oracle(src, out)
    got = _prob(out)
    assert np.abs(got - want).max() <= 0.5 / 255 + 1e-6  # uint8 rounding only
    meta = json.loads((out / "run.json").read_text())
    t = meta["tiling"]
    assert t["mode"] == "halo" and t["halo_vox"] == HALO and t["core_vox"] == list(block)
    n = int(np.prod([-(-s // b) for s, b in zip(shape, block)]))
    assert t["tiles"] == n == summary.blocks_total and t["run"]["run"] == n and summary.patches_run == n
    assert t["tile_voxels_per_output_voxel"] > 1 and "patches" not in meta


def test_tiles_outside_the_tissue_are_zero_and_not_run(tmp_path, bn_model):
    shape = (32, 40, 40)
    src = make_input(tmp_path / "in.zarr", shape, seed=4, cube_at=(0, 0, 0))  # tissue in [0, 24)^3, 0 elsewhere
    out = tmp_path / "out"
    s = _settings(chunk_shape_vox=(8, 8, 8), block_shape_vox=(16, 16, 16), tissue_mask=True,
                  tissue_threshold=100.0, tissue_downsample_vox=4, tissue_margin_vox=0)
    predict_whole_brain(src, bn_model, out, s, progress=False)
    got, want = _prob(out), _oracle(src, out)
    run = json.loads((out / "run.json").read_text())["tiling"]["run"]
    computed = np.zeros(shape, bool)
    computed[:, :32, :32] = True  # cores starting below 24 on y and x touch the tissue
    assert run["run"] == 2 * 2 * 2 and run["skipped"] == 2 * 3 * 3 - 8
    assert (got[~computed] == 0).all() and want[~computed].max() > 0.01  # the network would not give 0
    assert np.abs(got[computed] - want[computed]).max() <= 0.5 / 255 + 1e-6


def test_auto_keeps_the_lattice_without_a_measured_halo_and_halo_given_tiles(tmp_path, monkeypatch):
    model = write_bn_model(tmp_path / "bn.pth", monkeypatch, pools=2)  # BatchNorm, but no halo_vox declared
    src = make_input(tmp_path / "in.zarr", (16, 20, 20), seed=5)
    predict_whole_brain(src, model, tmp_path / "out", _settings(chunk_shape_vox=(8, 8, 8)), progress=False)
    t = json.loads((tmp_path / "out" / "run.json").read_text())["tiling"]
    assert t["mode"] == "lattice" and "halo_vox" in t["reason"]
    assert t["patch_voxels_per_output_voxel"] > 1
    predict_whole_brain(src, model, tmp_path / "out2", _settings(chunk_shape_vox=(8, 8, 8), halo_vox=HALO),
                        progress=False)
    t = json.loads((tmp_path / "out2" / "run.json").read_text())["tiling"]
    assert t["mode"] == "halo" and t["halo_vox"] == HALO and "--halo" in t["reason"]
    assert np.abs(_prob(tmp_path / "out2") - _oracle(src, tmp_path / "out2")).max() <= 0.5 / 255 + 1e-6


def test_tiling_halo_with_an_instance_norm_model_fails_before_any_output(tmp_path):
    from tests.inference.helpers import write_model

    model = write_model(tmp_path / "inst.pth", patch=(16, 16, 16), pools=2)
    src = make_input(tmp_path / "in.zarr", (16, 20, 20), seed=5)
    with pytest.raises(ValueError, match="inst.pth: --tiling halo is not possible"):
        predict_whole_brain(src, model, tmp_path / "out", _settings(tiling="halo"), progress=False)
    assert not (tmp_path / "out").exists()


def test_a_resume_with_another_halo_is_refused(tmp_path, monkeypatch):
    first = write_bn_model(tmp_path / "a.pth", monkeypatch, pools=2, halo_vox=HALO, position_independent=True)
    other = write_bn_model(tmp_path / "b.pth", monkeypatch, pools=2, halo_vox=8, position_independent=True)
    src = make_input(tmp_path / "in.zarr", (16, 20, 20), seed=5)
    s = _settings(chunk_shape_vox=(8, 8, 8))
    predict_whole_brain(src, first, tmp_path / "out", s, progress=False)  # same weights: same fingerprint
    with pytest.raises(ValueError, match=r"out: was started with halo tiling \(halo 20\).*\(halo 8\)"):
        predict_whole_brain(src, other, tmp_path / "out", s, progress=False)
    predict_whole_brain(src, first, tmp_path / "out", s, progress=False)  # the same model resumes


def test_dask_equals_serial(tmp_path, bn_model):
    from tests.inference.test_pipeline import tree_digest

    src = make_input(tmp_path / "in.zarr", (29, 40, 37), seed=6)
    s = _settings(chunk_shape_vox=(8, 8, 8), block_shape_vox=(16, 16, 16), dask_workers=2)
    predict_whole_brain(src, bn_model, tmp_path / "serial", s, progress=False)
    predict_whole_brain(src, bn_model, tmp_path / "dask", s.replace(runner="dask"), progress=False)
    assert tree_digest(tmp_path / "dask" / "probability.ome.zarr") == \
        tree_digest(tmp_path / "serial" / "probability.ome.zarr")
