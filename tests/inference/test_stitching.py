"""Block-wise prediction equals one whole-volume sliding window (nnU-Net v1's), on odd shapes."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from axonseg.inference import block_grid, build_lattice, gaussian_importance_map, predict_block, read_plan
from axonseg.inference.blocks import check_block_shape
from axonseg.inference.stitch import read_padded_region
from tests.inference.helpers import (naive_sliding_window, net_predictor, position_dependent, tiny_config,
                                     tiny_network)

ODD_SHAPE = (45, 50, 37)


def blockwise(volume, predict, patch, block, chunk, batch_size=3):
    lat = build_lattice(volume.shape, patch, 0.5)
    out = None
    written = np.zeros(volume.shape, np.int32)
    for b in block_grid(volume.shape, block, chunk):
        plan = read_plan(b, lat)
        res = predict_block(read_padded_region(volume, lat, plan), b, plan, lat, predict, batch_size)
        if out is None:
            out = np.zeros((res.shape[0],) + volume.shape, np.float32)
        out[(slice(None),) + b.write_slices] = res
        written[b.write_slices] += 1
    assert (written == 1).all(), "blocks must tile the volume exactly once"
    return out, lat


def test_block_grid_is_whole_chunks_and_halo_bounded_by_patch():
    lat = build_lattice(ODD_SHAPE, (32, 32, 32))
    blocks = block_grid(ODD_SHAPE, (16, 24, 18), (8, 12, 9))
    for b in blocks:
        for a, z, c, s in zip(b.write_start_zyx, b.write_stop_zyx, (8, 12, 9), ODD_SHAPE):
            assert a % c == 0 and (z % c == 0 or z == s)
        for before, after in read_plan(b, lat).halo_zyx(b, lat):
            assert 0 <= before <= 31 and 0 <= after <= 31
    with pytest.raises(ValueError, match="whole multiple"):
        check_block_shape((16, 20, 18), (8, 12, 9))


@pytest.mark.parametrize("shape, patch", [(ODD_SHAPE, (32, 32, 32)), ((20, 70, 9), (16, 32, 32))])
def test_blockwise_equals_monolithic_known_function(shape, patch):
    rng = np.random.default_rng(1)
    vol = rng.normal(size=shape).astype(np.float32)
    out, lat = blockwise(vol, position_dependent, patch, (8, 24, 9), (4, 12, 9), batch_size=4)
    ref = naive_sliding_window(vol, position_dependent, patch, lat.starts_zyx, gaussian_importance_map(patch))
    assert np.abs(out - ref).max() <= 1e-5
    # a lattice shifted by one voxel gives a different answer: the test can see a wrong lattice
    assert len(lat.starts_zyx[1]) >= 3
    shifted = list(lat.starts_zyx)
    shifted[1] = (shifted[1][0], shifted[1][1] - 1) + shifted[1][2:]
    assert np.abs(naive_sliding_window(vol, position_dependent, patch, shifted,
                                       gaussian_importance_map(patch)) - ref).max() > 1e-3


def test_blockwise_equals_nnunet_predict_3d_generic_unet():
    """Against nnU-Net v1's own Generic_UNet.predict_3D (step 0.5, Gaussian, no mirroring)."""

    cfg = tiny_config("generic_unet")
    net = tiny_network(cfg).eval()
    net.do_ds = False
    vol = np.random.default_rng(2).normal(size=(40, 45, 37)).astype(np.float32)
    with torch.no_grad():
        _, ref = net.predict_3D(vol[None], do_mirroring=False, use_sliding_window=True, step_size=0.5,
                                patch_size=(32, 32, 32), use_gaussian=True, verbose=False)
    out, _ = blockwise(vol, net_predictor(net), (32, 32, 32), (40, 24, 37), (8, 12, 37))
    assert np.abs(out - ref).max() <= 1e-5
    small = vol[:20, :30, :11]  # smaller than the patch: padded as nnU-Net pads
    with torch.no_grad():
        _, ref_small = net.predict_3D(small[None], do_mirroring=False, use_sliding_window=True, step_size=0.5,
                                      patch_size=(32, 32, 32), use_gaussian=True, verbose=False)
    out_small, _ = blockwise(small, net_predictor(net), (32, 32, 32), (10, 15, 11), (5, 15, 11))
    assert np.abs(out_small - ref_small).max() <= 1e-5


def test_blockwise_equals_monolithic_axial_unet():
    cfg = tiny_config("axial_unet")
    predict = net_predictor(tiny_network(cfg, seed=3))
    vol = np.random.default_rng(3).normal(size=(40, 37, 45)).astype(np.float32)
    out, lat = blockwise(vol, predict, cfg.patch_size_zyx, (40, 18, 45), (10, 9, 15), batch_size=2)
    ref = naive_sliding_window(vol, predict, cfg.patch_size_zyx, lat.starts_zyx,
                               gaussian_importance_map(cfg.patch_size_zyx))
    assert np.abs(out - ref).max() <= 1e-5


def test_predict_patches_shape_is_checked():
    vol = np.zeros((32, 32, 32), np.float32)
    lat = build_lattice(vol.shape, (32, 32, 32))
    b = block_grid(vol.shape, (32, 32, 32), (32, 32, 32))[0]
    plan = read_plan(b, lat)
    with pytest.raises(ValueError, match="returned shape"):
        predict_block(vol, b, plan, lat, lambda x: x[:, :, :16])


def test_per_patch_normalisation_is_also_seam_free():
    """With per-patch z-scoring every patch sees the same input whichever block computes it."""
    from axonseg.inference.normalization import per_patch_zscore

    rng = np.random.default_rng(7)
    vol = (rng.gamma(2.0, 500.0, size=(30, 41, 26)) * np.linspace(1, 3, 26)).astype(np.float32)
    patch = (16, 16, 16)
    lat = build_lattice(vol.shape, patch)
    out = np.zeros((2,) + vol.shape, np.float32)
    for b in block_grid(vol.shape, (10, 16, 13), (5, 8, 13)):
        plan = read_plan(b, lat)
        out[(slice(None),) + b.write_slices] = predict_block(read_padded_region(vol, lat, plan), b, plan, lat,
                                                             position_dependent, 3, patch_transform=per_patch_zscore)
    ref = naive_sliding_window(vol, lambda x: position_dependent(per_patch_zscore(x)), patch, lat.starts_zyx,
                               gaussian_importance_map(patch))
    assert np.abs(out - ref).max() <= 1e-5
