"""Issue 18 item 40: per-patch z-scoring honours ``mask_zero`` (nnU-Net's use_mask_for_norm), with
hand-computed statistics."""
from __future__ import annotations

import numpy as np

from axonseg.inference.normalization import per_patch_zscore


def test_mask_zero_statistics_over_non_zero_voxels_and_zeros_stay_zero():
    patch = np.zeros((1, 1, 2, 2, 2), np.float32)
    patch[0, 0, 0, 0, :] = [2.0, 4.0]               # non-zero voxels 2, 4: mean 3, std 1
    out = per_patch_zscore(patch, mask_zero=True)
    assert abs(out[0, 0, 0, 0, 0] + 1) < 1e-5
    assert abs(out[0, 0, 0, 0, 1] - 1) < 1e-5
    assert np.count_nonzero(out) == 2                # the six zeros stay 0


def test_without_mask_zero_every_voxel_counts():
    patch = np.zeros((1, 1, 2, 2, 2), np.float32)
    patch[0, 0, 0, 0, :] = [2.0, 4.0]               # mean 6/8 = 0.75; var = (4+16)/8 - 0.5625 = 1.9375
    out = per_patch_zscore(patch)
    std = np.sqrt(1.9375)
    np.testing.assert_allclose(out[0, 0, 0, 0, :], [(2 - 0.75) / std, (4 - 0.75) / std], rtol=1e-5)
    np.testing.assert_allclose(out[0, 0, 1], -0.75 / std, rtol=1e-5)


def test_each_patch_alone_and_an_all_zero_patch_stays_zero():
    batch = np.zeros((2, 1, 1, 1, 4), np.float32)
    batch[0, 0, 0, 0] = [0, 10, 20, 30]              # non-zero 10, 20, 30: mean 20, std sqrt(200/3)
    out = per_patch_zscore(batch, mask_zero=True)
    s = np.sqrt(200 / 3)
    np.testing.assert_allclose(out[0, 0, 0, 0], [0, -10 / s, 0, 10 / s], rtol=1e-5, atol=1e-6)
    assert not out[1].any()
