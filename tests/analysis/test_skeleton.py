"""Skeleton length with anisotropic voxels: exact for straight and diagonal lines."""
from __future__ import annotations

import numpy as np
import pytest

from axonseg.analysis.skeleton import (length_by_label, length_per_block, postprocess,
                                       remove_small_components, skeleton_length_um, to_swc,
                                       voxel_lengths_um)

VOXEL = (4.0, 1.5, 0.75)  # z, y, x µm


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_straight_line_along_each_axis(axis):
    skel = np.zeros((12, 13, 14), bool)
    idx = [5, 6, 7]
    idx[axis] = slice(1, 11)  # 10 voxels -> 9 steps
    skel[tuple(idx)] = True
    assert skeleton_length_um(skel, VOXEL) == pytest.approx(9 * VOXEL[axis], rel=1e-12)


def test_diagonal_lines_anisotropic():
    skel = np.zeros((12, 12, 12), bool)
    i = np.arange(1, 11)
    skel[i, i, i] = True  # 3-D diagonal, 9 steps
    assert skeleton_length_um(skel, VOXEL) == pytest.approx(9 * np.sqrt(16 + 2.25 + 0.5625))
    skel = np.zeros((12, 12, 12), bool)
    skel[3, i, i[::-1]] = True  # y-x anti-diagonal
    assert skeleton_length_um(skel, VOXEL) == pytest.approx(9 * np.sqrt(2.25 + 0.5625))


def test_corner_triangle_counted_once():
    """An L corner whose ends are also diagonal neighbours: two axial steps, not three edges."""
    skel = np.zeros((3, 5, 5), bool)
    skel[1, 2, 1] = skel[1, 2, 2] = skel[1, 3, 2] = True
    assert skeleton_length_um(skel, (1, 1, 1)) == pytest.approx(2.0)


def test_voxel_lengths_and_regions_add_up():
    skel = np.zeros((10, 10, 10), bool)
    skel[2, 2, 0:10] = True
    skel[5, 0:10, 7] = True
    total = skeleton_length_um(skel, VOXEL)
    assert total == pytest.approx(9 * 0.75 + 9 * 1.5)
    assert voxel_lengths_um(skel, VOXEL).sum() == pytest.approx(total)
    labels = np.zeros(skel.shape, np.int32)
    labels[:, :, 5:] = 7  # the x-line's last 5 voxels and all of the y-line
    by = length_by_label(skel, labels, VOXEL)
    # x-line: voxels 0..4 in label 0 -> 4 steps + half of the step 4-5 = 4.5 steps
    assert by[0] == pytest.approx(4.5 * 0.75)
    assert by[7] == pytest.approx(4.5 * 0.75 + 9 * 1.5)
    blocks = length_per_block(skel, (10, 10, 4), VOXEL)   # partial last block kept
    assert blocks.shape == (1, 1, 3) and blocks.sum() == pytest.approx(total)


def test_postprocess_threshold_and_small_components():
    prob = np.zeros((20, 20, 20), np.uint8)
    prob[10, 10, 2:18] = 200     # a 16-voxel line, p = 0.78
    prob[2, 2, 2:4] = 255        # a 2-voxel speck
    prob[15, 3, 2:18] = 100      # below 0.5
    mask, skel = postprocess(prob, threshold=0.5, min_component_vox=5)
    assert mask.sum() == 16 and skel.sum() == 16
    assert remove_small_components(prob > 0, 3).sum() == 32


def test_swc_tree():
    skel = np.zeros((5, 5, 6), bool)
    skel[2, 2, 0:6] = True
    text = to_swc(skel, (2.0, 1.0, 0.5))
    rows = [line.split() for line in text.splitlines() if not line.startswith("#")]
    assert len(rows) == 6
    assert sum(r[6] == "-1" for r in rows) == 1      # one root
    xs = sorted(float(r[2]) for r in rows)
    assert xs == pytest.approx([0, 0.5, 1.0, 1.5, 2.0, 2.5]) and float(rows[0][4]) == 4.0
