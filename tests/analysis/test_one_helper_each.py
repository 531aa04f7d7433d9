"""Issue 18 item 40: one implementation of each helper that had two."""
from __future__ import annotations

import numpy as np
import pytest

import axonseg.analysis.density as density
import axonseg.analysis.skeleton as skeleton
import axonseg.annotate.rough as rough
import axonseg.inference.state as state
import axonseg.io.atomic as atomic
import axonseg.io.files as files


def test_one_remove_small_components_with_hand_known_components():
    assert rough.remove_small_components is skeleton.remove_small_components
    mask = np.zeros((5, 5, 5), bool)
    mask[0, 0, 0:3] = True            # 3 voxels touching the volume's edge
    mask[4, 0, 4] = True              # 1 voxel in a far corner
    mask[2, 2, 2] = mask[3, 3, 3] = True   # 2 voxels, 26-connected diagonally
    out = rough.remove_small_components(mask, 2)
    want = mask.copy()
    want[4, 0, 4] = False
    np.testing.assert_array_equal(out, want)
    assert out is not mask and rough.remove_small_components(mask, 1) is not mask
    with pytest.raises(ValueError, match="3-D"):
        rough.remove_small_components(np.ones((4, 4), bool), 2)


def test_one_json_writer_and_one_grid():
    assert files.write_json is atomic.write_json_atomic
    assert not hasattr(state, "write_json_atomic") and not hasattr(density, "iter_blocks")


def test_state_records_are_sorted_json_with_a_newline(tmp_path):
    state.write_record(tmp_path / "r.json", {"b": 1, "a": 2})
    assert (tmp_path / "r.json").read_text() == '{\n  "a": 2,\n  "b": 1\n}\n'
