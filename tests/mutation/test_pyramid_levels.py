"""Issue 18 item 32: pyramid levels. Integer means are rounded (not truncated); a prediction's
mask pyramid is the 2x2x2 max, its probability pyramid the 2x2x2 mean.

Expected values are written out by hand or computed here with plain numpy from level 0.
"""
from __future__ import annotations

import numpy as np
import pytest
import zarr

from axonseg.io.pyramid import downsample_2x
from tests.inference.helpers import write_model


def test_integer_mean_is_rounded_not_truncated():
    block = np.zeros((2, 2, 4), np.uint8)
    block[..., :2] = [[[1, 1], [1, 1]], [[1, 1], [0, 0]]]      # mean 0.75 -> 1 (truncation gives 0)
    block[..., 2:] = [[[3, 3], [3, 3]], [[2, 2], [2, 2]]]      # mean 2.5 -> 2 (round half to even)
    np.testing.assert_array_equal(downsample_2x(block, "mean"), np.array([[[1, 2]]], np.uint8))
    ints = np.array([10, 11, 11, 11, 11, 11, 11, 11], np.uint16).reshape(2, 2, 2)   # 10.875 -> 11
    assert downsample_2x(ints, "mean").item() == 11
    assert downsample_2x(ints, "max").item() == 11 and downsample_2x(ints[::-1] * 0 + 7, "max").item() == 7


def _mean2(a: np.ndarray) -> np.ndarray:
    z, y, x = (s // 2 * 2 for s in a.shape)
    a = a[:z, :y, :x].astype(np.float64)
    return (a[0::2, 0::2, 0::2] + a[0::2, 0::2, 1::2] + a[0::2, 1::2, 0::2] + a[0::2, 1::2, 1::2]
            + a[1::2, 0::2, 0::2] + a[1::2, 0::2, 1::2] + a[1::2, 1::2, 0::2] + a[1::2, 1::2, 1::2]) / 8


def _max2(a: np.ndarray) -> np.ndarray:
    z, y, x = (s // 2 * 2 for s in a.shape)
    a = a[:z, :y, :x]
    return np.maximum.reduce([a[i::2, j::2, k::2] for i in (0, 1) for j in (0, 1) for k in (0, 1)])


@pytest.fixture(scope="module")
def prediction(tmp_path_factory):
    from axonseg.inference import PredictSettings, predict_whole_brain

    root = tmp_path_factory.mktemp("pyr")
    model = write_model(root / "m.pth", patch=(16, 16, 16), pools=2)
    src = zarr.create_array(str(root / "in.zarr"), shape=(64, 64, 64), chunks=(32, 32, 32), dtype=np.uint16,
                            attributes={"voxel_size_um": [2.0, 2.0, 2.0]})
    src[:] = np.random.default_rng(3).integers(0, 4000, size=src.shape, dtype=np.uint16)
    out = root / "out"
    predict_whole_brain(root / "in.zarr", model, out, PredictSettings(
        chunk_shape_vox=(16, 16, 16), block_shape_vox=(32, 32, 32), num_threads=1, preview=False,
        step_fraction=1.0, pyramid_max_levels=2,
        runtime="eager", tissue_mask=False, mask_threshold=0.36), progress=False)  # 0.36: about the median of this seed
    return out


def test_mask_pyramid_is_the_max(prediction):
    l0 = zarr.open_array(str(prediction / "probability.ome.zarr" / "labels" / "mask" / "0"), mode="r")[:]
    l1 = zarr.open_array(str(prediction / "probability.ome.zarr" / "labels" / "mask" / "1"), mode="r")[:]
    want = _max2(l0)
    assert 0 < np.count_nonzero(want) and np.count_nonzero(want != _mean2(l0)) > 0  # mean would differ
    np.testing.assert_array_equal(l1, want)


def test_probability_pyramid_is_the_mean(prediction):
    l0 = zarr.open_array(str(prediction / "probability.ome.zarr" / "0"), mode="r")[:]
    l1 = zarr.open_array(str(prediction / "probability.ome.zarr" / "1"), mode="r")[:]
    want = _mean2(l0)
    assert np.count_nonzero(_max2(l0) != want) > 0                                    # max would differ
    if np.issubdtype(l0.dtype, np.integer):
        np.testing.assert_array_equal(l1, np.round(want).astype(l0.dtype))
    else:
        np.testing.assert_allclose(l1, want, rtol=1e-6, atol=1e-7)
