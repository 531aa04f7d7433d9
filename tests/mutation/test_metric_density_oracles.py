"""Issue 18 item 34: tolerance k > 1, partial edge cells, the cell side; hand-known values only."""
from __future__ import annotations

import numpy as np
import pytest

from axonseg.analysis.density import DensitySettings, block_density, cell_shape_vox
from axonseg.analysis.metrics import score


@pytest.mark.parametrize("k, precision", [(0, 0.0), (1, 0.0), (2, 1.0), (3, 1.0)])
def test_tolerance_k_reaches_k_voxels(k, precision):
    """One true voxel and one predicted voxel 2 apart (Chebyshev): correct from k = 2 on."""
    truth = np.zeros((9, 9, 9), bool)
    pred = np.zeros((9, 9, 9), bool)
    truth[4, 4, 4] = True
    pred[4, 6, 3] = True                     # |dy| = 2, |dx| = 1: Chebyshev distance 2
    s = score(pred, truth, tolerance_vox=k)
    assert s.precision == precision and s.recall == precision
    assert s.pred_within_tolerance == int(precision) and s.truth_within_tolerance == int(precision)


def test_tolerance_three_is_not_two():
    truth = np.zeros((11, 11, 11), bool)
    pred = np.zeros((11, 11, 11), bool)
    truth[5, 5, 5] = True
    pred[5, 5, 8] = True                     # distance 3
    assert score(pred, truth, 2).precision == 0.0 and score(pred, truth, 3).precision == 1.0


def test_partial_edge_cells_are_divided_by_the_voxels_they_hold():
    """A (6, 4, 4) volume of 4-voxel cells: cell z 0 holds 64 voxels, cell z 1 (the edge) 32.
    Axons fill z 4..5 entirely: the edge cell is all axon (fraction 1.0, not 32 / 64)."""
    vol = np.zeros((6, 4, 4), np.float32)
    vol[4:] = 1.0
    s = DensitySettings(cell_size_um=4.0, threshold=0.5, halo_vox=0)
    bd = block_density(vol, (slice(0, 6), slice(0, 4), slice(0, 4)), (4, 4, 4), (1.0, 1.0, 1.0), s)
    np.testing.assert_allclose(bd.fraction.ravel(), [0.0, 1.0])
    vol[5, :2] = 0.0                         # edge cell: 24 of 32 voxels
    bd = block_density(vol, (slice(0, 6), slice(0, 4), slice(0, 4)), (4, 4, 4), (1.0, 1.0, 1.0), s)
    np.testing.assert_allclose(bd.fraction.ravel(), [0.0, 24 / 32])


@pytest.mark.parametrize("cell_um, voxel_um, want", [
    (10.0, (3.0, 6.0, 0.7), (3, 2, 14)),      # 3.33 -> 3, 1.67 -> 2 (floor: 1), 14.29 -> 14
    (50.0, (4.0, 1.8, 1.8), (12, 28, 28)),    # 12.5 -> 12 (half to even), 27.78 -> 28 (floor: 27)
    (1.0, (5.0, 5.0, 5.0), (1, 1, 1)),        # at least one voxel
])
def test_cell_side_is_rounded_to_the_nearest_voxel(cell_um, voxel_um, want):
    assert cell_shape_vox(cell_um, voxel_um) == want
