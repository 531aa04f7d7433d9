"""Issue 18 item 37: hysteresis seeds at the high threshold; duplicate points are the same voxel.

The hysteresis test hands tubular_mask a known noise-unit map and ridge map (the two measuring
steps replaced), so the expected mask is written out by hand.
"""
from __future__ import annotations

import numpy as np
import pytest

from axonseg.annotate import tubular
from axonseg.annotate.points import PointsError, parse_points


def test_hysteresis_keeps_only_components_that_reach_the_high_threshold(monkeypatch):
    z = np.zeros((12, 12, 12), np.float32)
    z[3, 3, 1:11] = 3.0          # between k_low and k_high ...
    z[3, 3, 6] = 6.0             # ... with one voxel above k_high: kept whole
    z[8, 8, 1:11] = 4.9          # never above k_high: dropped
    z[8, 3, 1:11] = 1.0          # below k_low: never in the mask
    monkeypatch.setattr(tubular, "local_noise_units", lambda cube, sigma: z)
    monkeypatch.setattr(tubular, "ridge_strength", lambda zz, scales, ratio: np.ones(zz.shape, np.float32))
    s = tubular.TubularSettings(k_high=5.0, k_low=1.5, ridge_min=0.5, saturation=None,
                                min_component_voxels=1, min_length_vox=1)
    got = tubular.tubular_mask(np.zeros((12, 12, 12), np.uint16), s)
    want = np.zeros((12, 12, 12), bool)
    want[3, 3, 1:11] = True
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("text, voxel", [
    ("z,y,x\n1.2,2.7,3.0\n1.9,2.1,3.5\n", "(1, 2, 3)"),          # different numbers, one voxel
    ("X,Y,Slice\n3.9,2.0,2\n3.1,2.5,2.7\n", "(1, 2, 3)"),         # ImageJ: Slice 2 and 2.7 -> z 1
])
def test_points_in_one_voxel_are_duplicates(text, voxel):
    with pytest.raises(PointsError, match=r"lines 2 and 3: duplicate point \(z, y, x\) " + voxel.replace("(", r"\(")
                       .replace(")", r"\)")):
        parse_points(text, "pts.csv")


def test_points_in_neighbouring_voxels_are_not_duplicates():
    np.testing.assert_array_equal(parse_points("z,y,x\n1.9,2,3\n2.0,2,3\n", "pts.csv"), [[1, 2, 3], [2, 2, 3]])
