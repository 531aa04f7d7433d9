"""Read NIfTI volumes (``.nii``, ``.nii.gz``; nnU-Net's case and prediction files) as (z, y, x)."""
from __future__ import annotations

import logging
from pathlib import Path

import dask.array as da
import numpy as np

logger = logging.getLogger(__name__)

NIFTI_SUFFIXES = (".nii", ".nii.gz")

# NIfTI xyzt spatial units -> micrometres; other units ('unknown') give no voxel size
_UNIT_TO_UM = {"meter": 1e6, "mm": 1e3, "micron": 1.0}


def is_nifti(path: str | Path) -> bool:
    """Whether ``path`` has a NIfTI suffix (``.nii`` or ``.nii.gz``)."""
    name = Path(path).name.lower()
    return name.endswith(NIFTI_SUFFIXES)


def open_nifti(path: str | Path):
    """Open a 3-D NIfTI file as a dask array (z, y, x) and its :class:`VolumeInfo`.

    The array axes follow SimpleITK's ``GetArrayFromImage`` (which nnU-Net v1 uses): NIfTI
    index (i, j, k) is (x, y, z). The voxel size is read from the header's ``pixdim`` with
    its spatial unit; when the unit is not set ('unknown') the voxel size is ``None``.
    nnU-Net task files written by SimpleITK state 'mm' whatever the true unit was, so pass the
    voxel size explicitly where it matters.
    """
    import nibabel as nib

    from axonseg.io.volume import VolumeError, VolumeInfo

    path = Path(path)
    try:
        img = nib.load(str(path))
    except Exception as exc:  # nibabel raises several types for unreadable files
        raise VolumeError(f"{path}: not a readable NIfTI file ({exc})") from exc
    shape_xyz = tuple(int(s) for s in img.shape)
    if len(shape_xyz) == 4 and shape_xyz[3] == 1:
        shape_xyz = shape_xyz[:3]
    if len(shape_xyz) != 3:
        raise VolumeError(f"{path}: expected a 3-D volume, got shape {img.shape}")
    dtype = np.dtype(img.get_data_dtype())
    unit = img.header.get_xyzt_units()[0]
    voxel = None
    if unit in _UNIT_TO_UM:
        zooms = img.header.get_zooms()[:3]
        voxel = tuple(float(z) * _UNIT_TO_UM[unit] for z in reversed(zooms))

    def load() -> np.ndarray:
        data = np.asanyarray(img.dataobj).reshape(shape_xyz)
        return np.ascontiguousarray(data.transpose(2, 1, 0)).astype(dtype, copy=False)

    import dask

    arr = da.from_delayed(dask.delayed(load, pure=True)(), shape=shape_xyz[::-1], dtype=dtype)
    return arr, VolumeInfo(path, tuple(arr.shape), dtype, voxel, "nifti")
