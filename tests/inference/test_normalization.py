"""Whole-volume normalisation statistics, as nnU-Net v1 normalises one image."""
from __future__ import annotations

import numpy as np
import pytest

from axonseg.inference.normalization import (NormalizationParams, image_statistics, per_patch_zscore,
                                             with_image_statistics)


def test_global_zscore_is_exact_and_matches_nnunet_formula():
    vol = np.random.default_rng(0).gamma(2.0, 500.0, size=(37, 41, 29)).astype(np.float32)
    params = with_image_statistics(vol, NormalizationParams("nonCT"), max_sample_voxels=10 ** 6)
    assert params.mean == pytest.approx(float(vol.mean(dtype=np.float64)), rel=1e-9)
    assert params.std == pytest.approx(float(vol.std(dtype=np.float64)), rel=1e-9)
    expected = (vol - vol.mean()) / (vol.std() + 1e-8)  # nnU-Net v1 GenericPreprocessor, nonCT
    assert np.abs(params.apply(vol[3:9]) - expected[3:9]).max() < 1e-5


def test_sampled_statistics_are_deterministic_and_close():
    vol = np.random.default_rng(1).normal(1000, 100, size=(96, 96, 96)).astype(np.float32)
    a = image_statistics(vol, NormalizationParams("nonCT"), max_sample_voxels=5 * 16 ** 3, cube_vox=16)
    b = image_statistics(vol, NormalizationParams("nonCT"), max_sample_voxels=5 * 16 ** 3, cube_vox=16)
    assert a == b and a[2] < vol.size
    assert a[0] == pytest.approx(1000, abs=5) and a[1] == pytest.approx(100, abs=5)


def test_ct_uses_dataset_statistics_and_clips():
    p = NormalizationParams("CT", mean=100.0, std=10.0, clip_low=50.0, clip_high=200.0)
    out = p.apply(np.array([0.0, 100.0, 500.0], np.float32))
    assert out.tolist() == pytest.approx([-5.0, 0.0, 10.0])
    with pytest.raises(ValueError, match="no statistics"):
        NormalizationParams("nonCT").apply(np.zeros(3))


def test_per_patch_zscore_normalises_each_patch_alone():
    batch = np.stack([np.full((1, 4, 4, 4), 7.0), np.arange(64.0).reshape(1, 4, 4, 4)]).astype(np.float32)
    out = per_patch_zscore(batch)
    assert np.abs(out[0]).max() == 0
    assert abs(out[1].mean()) < 1e-6 and out[1].std() == pytest.approx(1.0, rel=1e-5)


@pytest.mark.parametrize("max_sample", [10 ** 9, 4 * 16 ** 3])  # every voxel / sampled 16^3 cubes
@pytest.mark.parametrize("mask_zero", [False, True])
def test_statistics_on_the_engine_serial_equals_dask_equals_the_formula(tmp_path, max_sample, mask_zero):
    import zarr

    from axonseg.inference.normalization import _sample_regions

    rng = np.random.default_rng(3)
    vol = rng.gamma(2.0, 300.0, (40, 50, 60)).astype(np.uint16)
    vol[:, :10] = 0
    zarr.create_array(str(tmp_path / "v.zarr"), data=vol, chunks=(16, 32, 32))
    params = NormalizationParams("CT2", clip_low=50.0, clip_high=1500.0, mask_zero=mask_zero)
    serial = image_statistics(vol, params, max_sample, cube_vox=16)
    dask = image_statistics((str(tmp_path / "v.zarr"), None), params, max_sample, cube_vox=16, runner="dask",
                            workers=2)
    assert serial == dask  # bit-identical: sums added in piece order
    pieces = [vol[sl].astype(np.float64) for sl in _sample_regions(vol.shape, max_sample, 16)]
    x = np.concatenate([np.clip(p[p != 0] if mask_zero else p, 50, 1500).ravel() for p in pieces])
    assert serial[2] == x.size
    assert serial[0] == pytest.approx(x.mean(), rel=1e-12) and serial[1] == pytest.approx(x.std(), rel=1e-9)
