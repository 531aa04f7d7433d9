"""NIfTI volumes (``.nii``, ``.nii.gz``; nnU-Net's case and prediction files), read and written
with SimpleITK, the library nnU-Net v1 itself uses, so axes and spacing agree with nnU-Net.

Arrays are (z, y, x) as ``sitk.GetArrayFromImage`` gives them; spacing is written as (x, y, z)
in the header. The gzip stream SimpleITK writes carries no timestamp: the same array gives the
same bytes.
"""
from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Sequence

import dask.array as da
import numpy as np

from axonseg.io.atomic import honour_umask
from axonseg.io.info import VolumeError, VolumeInfo

logger = logging.getLogger(__name__)

NIFTI_SUFFIXES = (".nii", ".nii.gz")

# NIfTI xyzt_units (spatial part, the low 3 bits) -> micrometres; 0 ('unknown') gives no voxel size
_UNIT_TO_UM = {1: 1e6, 2: 1e3, 3: 1.0}


def is_nifti(path: str | Path) -> bool:
    """Whether ``path`` has a NIfTI suffix (``.nii`` or ``.nii.gz``)."""
    return Path(path).name.lower().endswith(NIFTI_SUFFIXES)


def _header(path: Path):
    import SimpleITK as sitk

    reader = sitk.ImageFileReader()
    reader.SetFileName(str(path))
    reader.SetImageIO("NiftiImageIO")
    try:
        reader.ReadImageInformation()
    except RuntimeError as exc:  # SimpleITK raises RuntimeError for unreadable files
        raise VolumeError(f"{path}: not a readable NIfTI file ({str(exc).strip().splitlines()[-1]})") from exc
    return reader


def open_nifti(path: str | Path) -> tuple[da.Array, VolumeInfo]:
    """Open a 3-D NIfTI file lazily as a dask array (z, y, x) and its :class:`VolumeInfo`.

    The voxel size comes from the header's ``pixdim`` with its spatial unit; when the unit
    is not set ('unknown') the voxel size is ``None``. nnU-Net task files state 'mm' whatever
    the true unit was, so pass the voxel size explicitly where it matters.
    """
    import SimpleITK as sitk

    path = Path(path)
    reader = _header(path)
    size_xyz = tuple(int(s) for s in reader.GetSize())
    if len(size_xyz) == 4 and size_xyz[3] == 1:
        size_xyz = size_xyz[:3]
    if len(size_xyz) != 3 or reader.GetNumberOfComponents() != 1:
        raise VolumeError(f"{path}: expected a 3-D single-channel volume, got size {reader.GetSize()} (x, y, z)")
    dtype = np.dtype(sitk.GetArrayViewFromImage(sitk.Image([1] * 3, reader.GetPixelID())).dtype)
    unit = int(reader.GetMetaData("xyzt_units")) & 7 if reader.HasMetaDataKey("xyzt_units") else 0
    voxel = None
    if unit in _UNIT_TO_UM:
        pixdim_xyz = [float(reader.GetMetaData(f"pixdim[{i}]")) for i in (1, 2, 3)]
        voxel = tuple(d * _UNIT_TO_UM[unit] for d in reversed(pixdim_xyz))

    def load() -> np.ndarray:
        arr = sitk.GetArrayFromImage(sitk.ReadImage(str(path), imageIO="NiftiImageIO"))
        return np.ascontiguousarray(arr.reshape(size_xyz[::-1])).astype(dtype, copy=False)

    import dask

    arr = da.from_delayed(dask.delayed(load, pure=True)(), shape=size_xyz[::-1], dtype=dtype)
    return arr, VolumeInfo(path, tuple(arr.shape), dtype, voxel, "nifti")


def read_nifti(path: str | Path) -> np.ndarray:
    """A whole NIfTI file as a numpy array (z, y, x)."""
    arr, _ = open_nifti(path)
    return np.asarray(arr)


def write_nifti(path: str | Path, array_zyx: np.ndarray, spacing_zyx: Sequence[float]) -> Path:
    """Write a 3-D array as NIfTI with the given (z, y, x) spacing, atomically (temp file + rename)."""
    import SimpleITK as sitk

    path = Path(path)
    array_zyx = np.ascontiguousarray(array_zyx)
    if array_zyx.ndim != 3:
        raise ValueError(f"{path}: expected a 3-D array, got shape {array_zyx.shape}")
    image = sitk.GetImageFromArray(array_zyx)
    image.SetSpacing(tuple(float(s) for s in reversed(tuple(spacing_zyx))))
    suffix = ".nii.gz" if path.name.lower().endswith(".gz") else ".nii"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(fd)
    honour_umask(tmp)  # mkstemp makes it 0600
    try:
        sitk.WriteImage(image, tmp, True)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
