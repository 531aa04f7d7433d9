"""Issue 18 item 31: the tissue margin is rounded *up* to whole cells.

Expected masks are written out by hand (Chebyshev distance from the one bright cell), not with
the dilation the code uses.
"""
from __future__ import annotations

import numpy as np
import pytest

from axonseg.inference.tissue import tissue_mask


def _one_bright_cell(n: int = 9) -> np.ndarray:
    view = np.zeros((n, n, n), np.float32)
    view[n // 2, n // 2, n // 2] = 100.0
    return view


def _cube_around_centre(n: int, radius_cells: int) -> np.ndarray:
    z, y, x = np.indices((n, n, n))
    c = n // 2
    return np.maximum(np.maximum(abs(z - c), abs(y - c)), abs(x - c)) <= radius_cells


@pytest.mark.parametrize("margin_vox, factor, radius_cells", [
    (0, 4, 0),   # no margin: the bright cell alone
    (1, 4, 1),   # 1 voxel needs a whole cell
    (4, 4, 1),   # exactly one cell
    (5, 4, 2),   # 5 voxels of 4-voxel cells: 2 cells, not 1
    (7, 2, 4),   # 3.5 cells -> 4
])
def test_margin_rounds_up_to_whole_cells(margin_vox, factor, radius_cells):
    got = tissue_mask(_one_bright_cell(), factor, threshold=50.0, margin_vox=margin_vox).mask
    want = _cube_around_centre(9, radius_cells)
    assert got.sum() == want.sum() == (2 * radius_cells + 1) ** 3
    np.testing.assert_array_equal(got, want)
