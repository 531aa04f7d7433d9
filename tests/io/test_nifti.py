"""NIfTI with one library (SimpleITK, as nnU-Net v1): round trip, axes, spacing, bytes, errors."""
from __future__ import annotations

import numpy as np
import pytest

from axonseg.io import VolumeError, open_volume
from axonseg.io.nifti import read_nifti, write_nifti


def test_round_trip_keeps_axes_values_and_spacing_and_bytes(tmp_path):
    arr = np.arange(3 * 4 * 5, dtype=np.uint16).reshape(3, 4, 5)
    a = write_nifti(tmp_path / "a.nii.gz", arr, (4.0, 2.0, 1.0))
    b = write_nifti(tmp_path / "b.nii.gz", arr, (4.0, 2.0, 1.0))
    assert a.read_bytes() == b.read_bytes()  # no timestamp in the gzip stream
    np.testing.assert_array_equal(read_nifti(a), arr)
    vol, info = open_volume(a)
    assert info.shape_zyx == (3, 4, 5) and info.dtype == np.uint16 and info.format == "nifti"
    # SimpleITK states 'mm': the spacing numbers come back as mm, i.e. x1000 in µm, in (z, y, x) order
    assert info.voxel_size_um == pytest.approx((4000.0, 2000.0, 1000.0))
    np.testing.assert_array_equal(np.asarray(vol), arr)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.nii.gz", "b.nii.gz"]  # no temporary left


def test_unreadable_nifti_is_named(tmp_path):
    (tmp_path / "bad.nii.gz").write_bytes(b"not a nifti at all")
    with pytest.raises(VolumeError, match="bad.nii.gz"):
        open_volume(tmp_path / "bad.nii.gz")


def test_write_refuses_non_3d(tmp_path):
    with pytest.raises(ValueError, match="3-D"):
        write_nifti(tmp_path / "x.nii.gz", np.zeros((2, 2)), (1, 1, 1))
