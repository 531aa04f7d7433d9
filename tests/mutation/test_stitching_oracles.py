"""Stitching checked against oracles that do not come from the code under test.

The older stitching tests build their expected value from the lattice's own starts and its
own Gaussian, so a wrong lattice or a wrong Gaussian passes them. Here the expected values
are hand-written starts (nnU-Net v1's step rule worked out on paper), the closed-form
Gaussian, predictors with a known exact output (constant, identity), and nnU-Net v1's own
``predict_3D`` at a step other than 0.5.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
import zarr

from axonseg.inference import (PredictSettings, block_grid, build_lattice, gaussian_importance_map, predict_block,
                               predict_whole_brain, read_padded_region, read_plan)
from tests.inference.helpers import net_predictor, tiny_config, tiny_network, write_model

# nnU-Net v1's rule, by hand: n = ceil((size - patch) / (patch * step)) + 1 starts spaced
# (size - patch) / (n - 1) apart, rounded. E.g. 100, 32, 0.75: ceil(68 / 24) + 1 = 4 starts
# 68 / 3 = 22.67 apart -> 0, 23, 45, 68.
HAND_STARTS = [
    ((100, 40, 32), (32, 32, 32), 0.75, ((0, 23, 45, 68), (0, 8), (0,))),
    ((100, 40, 32), (32, 32, 32), 0.6, ((0, 17, 34, 51, 68), (0, 8), (0,))),
    ((100, 40, 32), (32, 32, 32), 0.5, ((0, 14, 27, 41, 54, 68), (0, 8), (0,))),
    ((100, 40, 32), (32, 32, 32), 1.0, ((0, 23, 45, 68), (0, 8), (0,))),
    ((20, 70, 9), (16, 32, 32), 0.75, ((0, 4), (0, 19, 38), (0,))),      # x padded 9 -> 32
    ((57, 57, 57), (16, 16, 16), 0.25, ((0, 4, 7, 11, 15, 19, 22, 26, 30, 34, 37, 41),) * 3),
]


@pytest.mark.parametrize("shape, patch, step, starts", HAND_STARTS)
def test_lattice_starts_match_hand_written_starts(shape, patch, step, starts):
    """Kills: the lattice ignoring ``step_fraction`` (always nnU-Net's 0.5)."""
    lattice = build_lattice(shape, patch, step)
    assert tuple(tuple(int(s) for s in axis) for axis in lattice.starts_zyx) == starts
    assert lattice.num_patches == int(np.prod([len(s) for s in starts]))
    assert lattice.pad_zyx == tuple(((max(p - s, 0)) // 2, max(p - s, 0) - max(p - s, 0) // 2)
                                    for s, p in zip(shape, patch))


def test_lattice_equals_nnunet_v1s_step_rule_on_random_shapes():
    """Kills: any drift of our step rule from nnU-Net v1's (``_compute_steps_for_sliding_window``,
    called here only as the reference) over 300 random volume/patch/step combinations."""
    from nnunet.network_architecture.neural_network import SegmentationNetwork

    rng = np.random.default_rng(11)
    for _ in range(300):
        patch = tuple(int(p) for p in rng.integers(4, 64, 3))
        shape = tuple(int(s) for s in rng.integers(1, 300, 3))
        step = float(rng.choice([0.25, 0.33, 0.5, 0.6, 0.75, 0.9, 1.0]))
        lattice = build_lattice(shape, patch, step)
        padded = tuple(max(s, p) for s, p in zip(shape, patch))
        theirs = SegmentationNetwork._compute_steps_for_sliding_window(patch, padded, step)
        assert [list(a) for a in lattice.starts_zyx] == [[int(t) for t in a] for a in theirs], (shape, patch, step)


@pytest.mark.parametrize("patch, sigma_scale", [((32, 32, 32), 1 / 8), ((16, 48, 24), 1 / 8), ((20, 20, 20), 1 / 4)])
def test_gaussian_is_the_closed_form_and_nnunet_v1s(patch, sigma_scale):
    """Kills: a wrong Gaussian (sigma, centre, normalisation, zero floor). nnU-Net v1 filters a delta at
    ``patch // 2`` with sigma ``patch * sigma_scale`` (truncate 4 sigma, which covers the patch here) and
    scales to max 1: that is exp(-d^2 / (2 sigma^2)) per axis."""
    axes = [np.exp(-(np.arange(p) - p // 2) ** 2 / (2 * (p * sigma_scale) ** 2)) for p in patch]
    closed = axes[0][:, None, None] * axes[1][None, :, None] * axes[2][None, None, :]
    g = gaussian_importance_map(patch, sigma_scale)
    assert g.shape == tuple(patch) and g.dtype == np.float32
    assert np.unravel_index(np.argmax(g), g.shape) == tuple(p // 2 for p in patch) and g.max() == 1.0
    np.testing.assert_allclose(g, closed, rtol=1e-5, atol=1e-7)
    assert g.min() > 0
    # nnU-Net v1's own function, as the reference the predictor promises to match
    from nnunet.network_architecture.neural_network import SegmentationNetwork
    theirs = SegmentationNetwork._get_gaussian(np.array(patch), sigma_scale)
    np.testing.assert_allclose(g, theirs, rtol=1e-6, atol=0)


def _blockwise(volume, predict, patch, step, block, chunk, batch_size=3):
    lattice = build_lattice(volume.shape, patch, step)
    out = None
    written = np.zeros(volume.shape, np.int32)
    for b in block_grid(volume.shape, block, chunk):
        plan = read_plan(b, lattice)
        res = predict_block(read_padded_region(volume, lattice, plan), b, plan, lattice, predict, batch_size)
        if out is None:
            out = np.full((res.shape[0],) + volume.shape, np.nan, np.float32)
        out[(slice(None),) + b.write_slices] = res
        written[b.write_slices] += 1
    assert (written == 1).all(), "blocks must tile the volume exactly once"
    return out


@pytest.mark.parametrize("step", [0.5, 0.75, 1.0])
def test_constant_predictor_gives_exactly_that_constant(step):
    """Kills: weights and their sum out of step, voxels no patch covers (NaN/0), a lost class channel."""
    vol = np.random.default_rng(0).normal(size=(37, 45, 29)).astype(np.float32)
    probs = np.array([0.125, 0.625, 0.25], np.float32)

    def constant(batch):
        return np.broadcast_to(probs[None, :, None, None, None], (len(batch), 3) + batch.shape[2:]).copy()

    out = _blockwise(vol, constant, (16, 24, 16), step, (8, 12, 16), (4, 12, 8))
    for c, p in enumerate(probs):
        assert np.abs(out[c] - p).max() <= 1e-6


@pytest.mark.parametrize("shape, patch, step", [((37, 45, 29), (16, 24, 16), 0.75), ((20, 70, 9), (16, 32, 32), 0.6)])
def test_identity_predictor_gives_back_the_input(shape, patch, step):
    """Kills: a patch's output written where another patch was read (off-by-one starts in a block,
    wrong halo, wrong padding offset): every patch of an identity 'network' returns its own input,
    so any weighted mix of the right patches is the input itself."""
    vol = np.random.default_rng(1).uniform(1, 2, size=shape).astype(np.float32)
    out = _blockwise(vol, lambda x: x.copy(), patch, step, (4, 10, 9), (4, 5, 9))
    np.testing.assert_allclose(out[0], vol, rtol=2e-6, atol=0)


@pytest.fixture(scope="module")
def model16(tmp_path_factory):
    return write_model(tmp_path_factory.mktemp("model") / "m16.pth", patch=(16, 16, 16), pools=2, seed=5)


def _nnunet_u8(net, vol_norm: np.ndarray, step: float) -> np.ndarray:
    with torch.no_grad():
        _, prob = net.predict_3D(vol_norm[None], do_mirroring=False, use_sliding_window=True, step_size=step,
                                 patch_size=(16, 16, 16), use_gaussian=True, verbose=False)
    return np.round(np.clip(prob[1], 0, 1) * 255).astype(np.int16)


def test_whole_brain_prediction_at_step_075_equals_nnunet_predict_3d(tmp_path, model16):
    """Kills: the predictor building its lattice without the settings' ``step_fraction``.

    Reference: nnU-Net v1's own ``predict_3D`` at ``step_size=0.75`` on the hand z-scored volume."""
    rng = np.random.default_rng(3)
    vol = rng.gamma(2.0, 600.0, size=(36, 45, 37)).astype(np.float32).round().astype(np.uint16)
    src = zarr.create_array(str(tmp_path / "in.zarr"), shape=vol.shape, chunks=(16, 32, 32), dtype=np.uint16,
                            attributes={"voxel_size_um": [2.0, 1.0, 1.0]})
    src[:] = vol
    settings = PredictSettings(step_fraction=0.75, chunk_shape_vox=(16, 16, 16), block_shape_vox=(16, 32, 32),
                               num_threads=1, preview=False)
    predict_whole_brain(tmp_path / "in.zarr", model16, tmp_path / "out", settings, progress=False)
    ours = zarr.open_array(str(tmp_path / "out" / "probability.ome.zarr" / "0"), mode="r")[:].astype(np.int16)

    net = tiny_network(tiny_config(patch=(16, 16, 16), pools=2), seed=5).eval()
    net.do_ds = False
    v = vol.astype(np.float64)
    vol_norm = ((v - v.mean()) / (v.std() + 1e-8)).astype(np.float32)  # nnU-Net v1 nonCT z-score
    ref = _nnunet_u8(net, vol_norm, 0.75)
    assert np.abs(ours - ref).max() <= 1
    # the test can tell the steps apart: nnU-Net's own 0.5 gives a different answer
    assert np.abs(_nnunet_u8(net, vol_norm, 0.5) - ref).max() >= 3
    # and the independent stitching of the same network agrees (no uint8 rounding in between)
    stitched = _blockwise(vol_norm, net_predictor(net), (16, 16, 16), 0.75, (12, 15, 37), (6, 15, 37))
    assert np.abs(np.round(stitched[1] * 255) - ref).max() <= 1


def test_whole_brain_prediction_of_a_constant_network_is_that_constant_everywhere(tmp_path):
    """Kills, end to end: blocks or patches left unwritten or written twice with different weights,
    a wrong output class, a wrong uint8 scaling. The network's weights are zero except a constant
    last feature map, so it outputs softmax(0, ln 3) = (0.25, 0.75) at every voxel of every patch:
    the probability must be round(0.75 * 255) = 191 everywhere, whatever the input."""
    import math

    from axonseg.inference.export import export_model

    cfg = tiny_config(patch=(16, 16, 16), pools=2)
    sd = {k: torch.zeros_like(v) for k, v in tiny_network(cfg).state_dict().items()}
    last = f"conv_blocks_localization.{len(cfg.pool_op_kernel_sizes) - 1}.1.blocks.0.instnorm.bias"
    seg = f"seg_outputs.{len(cfg.pool_op_kernel_sizes) - 1}.weight"
    sd[last] = torch.ones_like(sd[last])
    sd[seg][1] = math.log(3.0) / sd[seg].shape[1]
    torch.save(sd, tmp_path / "constant.legacy.pth")
    model = export_model(tmp_path / "constant.legacy.pth", tmp_path / "constant.pth", patch_size_zyx=(16, 16, 16))
    vol = np.random.default_rng(4).integers(0, 4000, size=(37, 45, 29), dtype=np.uint16)
    src = zarr.create_array(str(tmp_path / "in.zarr"), shape=vol.shape, chunks=(16, 16, 16), dtype=np.uint16)
    src[:] = vol
    settings = PredictSettings(step_fraction=0.75, chunk_shape_vox=(8, 16, 8), block_shape_vox=(16, 32, 24),
                               num_threads=1, preview=False)
    predict_whole_brain(tmp_path / "in.zarr", model, tmp_path / "out", settings, progress=False)
    prob = zarr.open_array(str(tmp_path / "out" / "probability.ome.zarr" / "0"), mode="r")[:]
    assert prob.shape == vol.shape and (prob == 191).all(), np.unique(prob)
