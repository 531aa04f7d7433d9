"""Open a whole-brain volume lazily, whatever its on-disk format."""
from __future__ import annotations

import logging
import re
from pathlib import Path

import dask.array as da
import numpy as np

from axonseg.io.info import VolumeError, VolumeInfo
from axonseg.io.nifti import is_nifti, open_nifti

logger = logging.getLogger(__name__)

TIFF_SUFFIXES = (".tif", ".tiff")


def _last_number(name: str) -> int:
    numbers = re.findall(r"\d+", Path(name).stem)
    if not numbers:
        raise VolumeError(f"{name}: slice file name contains no number to order it by")
    return int(numbers[-1])


def sorted_slice_files(folder: Path) -> list[Path]:
    """TIFF slices of ``folder`` ordered by the last number in each file name."""
    files = [p for p in folder.iterdir() if p.suffix.lower() in TIFF_SUFFIXES and p.is_file()]
    if not files:
        raise VolumeError(f"{folder}: no .tif/.tiff slices in this folder")
    files.sort(key=lambda p: _last_number(p.name))
    numbers = [_last_number(p.name) for p in files]
    if len(set(numbers)) != len(numbers):
        raise VolumeError(f"{folder}: two slices share the same number; cannot order them")
    missing = sorted(set(range(numbers[0], numbers[-1] + 1)) - set(numbers))
    if missing:
        shown = ", ".join(str(n) for n in missing[:10]) + (" ..." if len(missing) > 10 else "")
        raise VolumeError(f"{folder}: slice number(s) {shown} missing between {numbers[0]} and {numbers[-1]} "
                          f"({len(missing)} gap(s)); a volume needs every slice")
    return files


def tiff_header(path: Path) -> tuple[tuple[int, ...], np.dtype, int]:
    """(page shape, dtype, number of pages) of a TIFF, from its header only.

    Checks what can be checked without decoding: that it is a TIFF, that every page has
    the first page's shape and dtype, and that no page's data lies beyond the end of the
    file (a truncated copy). Raises :class:`VolumeError` naming the file.
    """
    import tifffile

    size = path.stat().st_size
    try:
        with tifffile.TiffFile(path) as tf:
            pages = list(tf.pages)
            if not pages:
                raise VolumeError(f"{path}: TIFF file without images")
            shape, dtype = tuple(pages[0].shape), np.dtype(pages[0].dtype)
            series_shape = tuple(tf.series[0].shape) if tf.series else shape
            expected = int(np.prod(series_shape[:len(series_shape) - len(shape)], dtype=np.int64))
            if len(pages) < expected:
                raise VolumeError(f"{path}: truncated: its metadata describes {expected} images of {shape}, "
                                  f"only {len(pages)} can be read")
            for i, page in enumerate(pages):
                if tuple(page.shape) != shape or np.dtype(page.dtype) != dtype:
                    raise VolumeError(f"{path}: page {i} is {page.shape} {page.dtype}, page 0 is {shape} {dtype}")
                ends = [o + n for o, n in zip(page.dataoffsets, page.databytecounts)]
                if ends and max(ends) > size:
                    raise VolumeError(f"{path}: truncated: page {i}'s data ends at byte {max(ends)}, "
                                      f"the file has {size} bytes")
    except VolumeError:
        raise
    except (tifffile.TiffFileError, ValueError, OSError, IndexError, KeyError) as exc:
        raise VolumeError(f"{path}: not a readable TIFF file ({exc})") from exc
    return shape, dtype, len(pages)


def slice_folder_header(folder: Path) -> tuple[list[Path], tuple[int, int], np.dtype]:
    """Ordered slice files of ``folder`` with their common 2-D shape and dtype (headers only)."""
    files = sorted_slice_files(folder)
    shape, dtype = None, None
    for path in files:
        page_shape, page_dtype, _ = tiff_header(path)
        if len(page_shape) != 2:
            raise VolumeError(f"{path}: expected a 2-D slice, got shape {page_shape}")
        if shape is None:
            shape, dtype = page_shape, page_dtype
        elif (page_shape, page_dtype) != (shape, dtype):
            raise VolumeError(f"{path}: slice is {page_shape} {page_dtype}, expected {shape} {dtype} "
                              f"like {files[0].name}")
    return files, shape, dtype


def is_zarr_path(path: Path) -> bool:
    """``path`` is a zarr array or group (v2 or v3), e.g. ``x.ome.zarr`` or ``x.ome.zarr/labels/mask``."""
    return path.suffix.lower() == ".zarr" or any((path / f).exists() for f in ("zarr.json", ".zgroup", ".zarray"))


def _open_slice_folder(folder: Path) -> tuple[da.Array, VolumeInfo]:
    from axonseg.io.tiff import read_tiff

    files, shape, dtype = slice_folder_header(folder)

    def load(path: Path) -> np.ndarray:
        arr = read_tiff(path)
        if arr.shape != shape or arr.dtype != dtype:
            raise VolumeError(f"{path}: slice has shape {arr.shape} {arr.dtype}, "
                              f"expected {shape} {dtype} like {files[0].name}")
        return arr

    slices = [da.from_delayed(_delayed(load)(p), shape=shape, dtype=dtype) for p in files]
    arr = da.stack(slices, axis=0)
    info = VolumeInfo(folder, tuple(arr.shape), dtype, None, "tiff-slices")
    return arr, info


def _delayed(fn):
    import dask

    return dask.delayed(fn, pure=True)


def _open_tiff_stack(path: Path) -> tuple[da.Array, VolumeInfo]:
    import tifffile
    import zarr

    page_shape, _, n_pages = tiff_header(path)
    if n_pages == 1 and len(page_shape) == 2:
        raise VolumeError(f"{path}: a 2-D image {page_shape}, not a 3-D stack (z, y, x); "
                          "put single slices in a folder of numbered slices")
    store = tifffile.imread(path, aszarr=True)
    z = zarr.open(store, mode="r")
    if isinstance(z, zarr.Group):
        z = z["0"]
    arr = da.from_zarr(z)
    if arr.ndim != 3:
        raise VolumeError(f"{path}: expected a 3-D stack (z, y, x), got shape {arr.shape}")
    from axonseg.io.tiff import tiff_voxel_size_um

    info = VolumeInfo(path, tuple(arr.shape), arr.dtype, tiff_voxel_size_um(path), "tiff-stack")
    return arr, info


def _open_zarr(path: Path) -> tuple[da.Array, VolumeInfo]:
    import zarr

    node = zarr.open(str(path), mode="r")
    voxel = None
    fmt = "zarr"
    if isinstance(node, zarr.Group):
        attrs = dict(node.attrs)
        multiscales = attrs.get("multiscales") or attrs.get("ome", {}).get("multiscales")
        if not multiscales:
            raise VolumeError(f"{path}: zarr group without OME-Zarr 'multiscales' metadata")
        level0 = multiscales[0]["datasets"][0]
        node = node[level0["path"]]
        for t in level0.get("coordinateTransformations", []):
            if t.get("type") == "scale":
                voxel = tuple(float(s) for s in t["scale"][-3:])
        fmt = "ome-zarr"
    elif "voxel_size_um" in node.attrs:
        voxel = tuple(float(v) for v in node.attrs["voxel_size_um"])
    if node.ndim != 3:
        raise VolumeError(f"{path}: expected a 3-D array (z, y, x), got shape {node.shape}")
    from axonseg.io.chunks import CheckedArray

    # a damaged chunk raises one error naming it and the array (not a codec traceback)
    arr = da.from_array(CheckedArray(node), chunks=node.chunks, name=f"zarr-{_token(path, node)}", asarray=False)
    return arr, VolumeInfo(path, tuple(arr.shape), arr.dtype, voxel, fmt)


def _token(path: Path, node) -> str:
    from dask.base import tokenize

    return tokenize(str(Path(path).resolve()), node.path, node.shape, str(node.dtype), node.chunks)


def _open_hdf5(path: Path, dataset: str | None) -> tuple[da.Array, VolumeInfo]:
    import h5py

    f = h5py.File(path, "r")
    names: list[str] = []
    f.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
    if dataset is None:
        three_d = [n for n in names if f[n].ndim == 3]
        if len(three_d) != 1:
            raise VolumeError(
                f"{path}: cannot choose a dataset; 3-D datasets are {three_d}: name one"
            )
        dataset = three_d[0]
    if dataset not in f:
        raise VolumeError(f"{path}: no dataset {dataset!r}; datasets are {names}")
    dset = f[dataset]
    if dset.ndim != 3:
        raise VolumeError(f"{path}:{dataset}: expected 3-D (z, y, x), got shape {dset.shape}")
    chunks = dset.chunks or (min(64, dset.shape[0]),) + dset.shape[1:]
    arr = da.from_array(dset, chunks=chunks)
    return arr, VolumeInfo(path, tuple(arr.shape), arr.dtype, None, "hdf5")


def open_volume(path: str | Path, dataset: str | None = None) -> tuple[da.Array, VolumeInfo]:
    """Open a volume lazily as a 3-D dask array (z, y, x).

    Parameters
    ----------
    path
        A folder of 2-D TIFF slices (ordered by the last number in each name), a
        multipage TIFF, a zarr array, an OME-Zarr group, or an HDF5 file.
    dataset
        For HDF5 only: the dataset to read (needed when there are several 3-D ones).

    Raises
    ------
    VolumeError
        If the path does not exist or is not a readable 3-D volume.
    """
    path = Path(path)
    if not path.exists():
        raise VolumeError(f"{path}: no such file or folder")
    suffix = path.suffix.lower()
    if path.is_dir() and not is_zarr_path(path):
        return _open_slice_folder(path)
    if is_zarr_path(path):
        return _open_zarr(path)
    if suffix in TIFF_SUFFIXES:
        return _open_tiff_stack(path)
    if suffix in (".h5", ".hdf5", ".hdf"):
        return _open_hdf5(path, dataset)
    if is_nifti(path):
        return open_nifti(path)
    raise VolumeError(f"{path}: unknown volume format (expected TIFF, zarr, OME-Zarr, HDF5 or NIfTI)")
