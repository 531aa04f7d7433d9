"""Each lattice patch computed once: the block-wise prediction (patches owned by blocks, weighted sums
handed on) equals one whole-volume sliding window written out plainly (nnU-Net's steps and Gaussian,
taken from nnU-Net itself), for blocks larger and smaller than the patch, odd shapes, a volume
thinner than the patch, serial and Dask; and the patch count is exactly the lattice's."""
from __future__ import annotations

import contextlib
import io
import itertools
import json

import numpy as np
import pytest
import torch
import zarr

from axonseg.inference import PredictSettings, build_lattice, predict_whole_brain
from axonseg.inference.normalization import NormalizationParams
from axonseg.inference.ownership import PatchOwnership
from axonseg.inference.weights import build_loaded_network, load_model
from tests.inference.helpers import naive_sliding_window, net_predictor, write_model
from tests.inference.test_pipeline import make_input, tree_digest


@pytest.fixture(scope="module")
def model16(tmp_path_factory):
    return write_model(tmp_path_factory.mktemp("m") / "m16.pth", patch=(16, 16, 16), pools=2)


def _nnunet_steps_and_gaussian(shape, patch, step):
    with contextlib.redirect_stdout(io.StringIO()):
        from nnunet.network_architecture.neural_network import SegmentationNetwork
    padded = [max(s, p) for s, p in zip(shape, patch)]
    steps = SegmentationNetwork._compute_steps_for_sliding_window(patch, padded, step)
    return steps, SegmentationNetwork._get_gaussian(np.array(patch), 1.0 / 8).astype(np.float32)


def _oracle(src, model_path, out, step):
    raw = zarr.open_array(str(src))[:].astype(np.float32)
    norm = NormalizationParams(**json.loads((out / "run.json").read_text())["normalization"])
    x = norm.apply(raw)
    model = load_model(model_path)
    torch.set_num_threads(1)
    net = build_loaded_network(model)
    steps, g = _nnunet_steps_and_gaussian(x.shape, model.patch_size_zyx, step)
    g[g == 0] = g[g != 0].min()
    return naive_sliding_window(x, net_predictor(net), model.patch_size_zyx, steps, g)[1]


@pytest.mark.parametrize("shape,chunk,block,step", [
    ((29, 40, 37), (8, 8, 8), (16, 16, 16), 0.5),   # block = patch
    ((29, 40, 37), (8, 8, 8), (8, 8, 8), 0.5),      # blocks smaller than the patch: spills skip blocks
    ((29, 40, 37), (8, 16, 16), (24, 32, 32), 0.75),  # larger blocks, another step
    ((12, 33, 40), (8, 8, 8), (8, 16, 16), 0.5),    # thinner than the patch on z (padded lattice)
])
def test_blockwise_equals_whole_volume_sliding_window(tmp_path, model16, shape, chunk, block, step):
    src = make_input(tmp_path / "in.zarr", shape, seed=3)
    s = PredictSettings(chunk_shape_vox=chunk, block_shape_vox=block, step_fraction=step, num_threads=1,
                        preview=False, tissue_mask=False)
    out = tmp_path / "out"
    summary = predict_whole_brain(src, model16, out, s, progress=False)
    lattice = build_lattice(shape, (16, 16, 16), step)
    assert summary.patches_run == lattice.num_patches, "each lattice patch must be computed exactly once"
    meta = json.loads((out / "run.json").read_text())
    assert meta["patches"]["run_per_lattice_patch"] == 1.0 and meta["runs"][-1]["patches_per_s"] > 0
    got = zarr.open_array(str(out / "probability.ome.zarr" / "0"))[:].astype(int)
    ref = np.round(np.clip(_oracle(src, model16, out, step), 0, 1) * 255).astype(int)
    diff = np.abs(got - ref)
    assert diff.max() <= 1 and (diff > 0).mean() < 1e-3, (diff.max(), (diff > 0).mean())
    assert not (out / "spill").exists(), "spills are removed at the end"


def test_dask_equals_serial_with_spills(tmp_path, model16):
    src = make_input(tmp_path / "in.zarr", (29, 40, 37), seed=5)
    s = PredictSettings(chunk_shape_vox=(8, 8, 8), block_shape_vox=(8, 16, 16), num_threads=1, preview=False,
                        tissue_mask=False)
    predict_whole_brain(src, model16, tmp_path / "serial", s, progress=False)
    predict_whole_brain(src, model16, tmp_path / "dask", s.replace(runner="dask"), progress=False)
    assert tree_digest(tmp_path / "dask" / "probability.ome.zarr") == \
        tree_digest(tmp_path / "serial" / "probability.ome.zarr")


@pytest.mark.parametrize("block", [(8, 8, 8), (16, 24, 8), (40, 40, 40)])
def test_every_patch_has_one_owner_and_spills_go_to_later_blocks(block):
    lattice = build_lattice((29, 40, 37), (16, 16, 16), 0.5)
    own = PatchOwnership(lattice, block)
    n = int(np.prod(own.grid_zyx))
    owned = [pos for i in range(n) for pos in itertools.product(*own.owned(i))]
    assert sorted(owned) == sorted(itertools.product(*lattice.starts_zyx))
    for i in range(n):
        assert all(t > i for t in own.targets(i)) and all(s < i for s in own.sources(i))
        assert all(i in own.targets(s) for s in own.sources(i))
        assert own.accumulator(i).contains(own.write_region(i))
