"""Small TIFF files (cubes, labels, slices, density grids): read whole, write atomically, calibrated.

Every TIFF axonseg writes is an ImageJ hyperstack: axes ``ZYX`` (a 3-D array) or ``YX``
(a slice), so Fiji opens a cube as a z-stack, not as a series of pages. With a voxel
size the file carries it the way ImageJ and plain TIFF readers both read it: ``unit=um`` and
``spacing`` (z step) in the ImageJ description, X/Y resolution in pixels per centimetre with
the ResolutionUnit tag CENTIMETER (ImageJ converts cm to its ``um`` unit; files written before
say NONE with pixels per µm, and read back the same). A non-zero origin (the centre of voxel 0
in µm) goes into ImageJ's calibration origin (``xorigin``/``yorigin``/``zorigin``, in pixels:
origin_um = -xorigin * pixel width). :func:`tiff_voxel_size_um` and :func:`tiff_origin_um` read
them back (``axonseg.io.open_volume`` uses the voxel size for TIFF stacks). ImageJ records no z
extent of 1: a one-slice stack reads back as a (y, x) slice.

ImageJ stores only uint8, uint16 and float32. Other dtypes are converted when no value
changes (bool -> uint8, integers within 0..65535 -> uint16, integers within +-2**24 or
float64 values exact in float32 -> float32); anything else is an error naming the file.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Sequence

import numpy as np
import tifffile

logger = logging.getLogger(__name__)

IMAGEJ_DTYPES = (np.dtype(np.uint8), np.dtype(np.uint16), np.dtype(np.float32))


def read_tiff(path: str | Path) -> np.ndarray:
    """Read a whole TIFF file (a slice or a small stack) into memory."""
    return tifffile.imread(str(path))


def imagej_array(array: np.ndarray, path: str | Path = "<array>") -> np.ndarray:
    """``array`` in a dtype ImageJ stores (uint8, uint16, float32), converted only if no value changes."""
    array = np.asarray(array)
    if array.dtype in IMAGEJ_DTYPES:
        return array
    if array.dtype == bool:
        return array.astype(np.uint8)
    if np.issubdtype(array.dtype, np.integer):
        lo, hi = (int(array.min()), int(array.max())) if array.size else (0, 0)
        if 0 <= lo and hi <= 65535:
            return array.astype(np.uint16)
        if -2 ** 24 <= lo and hi <= 2 ** 24:
            return array.astype(np.float32)
    elif np.issubdtype(array.dtype, np.floating):
        f32 = array.astype(np.float32)
        if np.array_equal(f32.astype(array.dtype), array, equal_nan=True):
            return f32
    raise ValueError(f"{path}: cannot store {array.dtype} in an ImageJ TIFF without changing values "
                     f"(ImageJ has uint8, uint16, float32); cast the array first")


#: The Software tag of every TIFF axonseg writes.
TIFF_SOFTWARE = "axonseg"


def write_tiff(path: str | Path, array: np.ndarray, voxel_size_um: Sequence[float] | None = None,
               compression: str | None = None, origin_um: Sequence[float] | None = None) -> None:
    """Write ``array`` (z, y, x) or (y, x) as an ImageJ hyperstack, via a temporary file.

    Parameters
    ----------
    voxel_size_um
        (z, y, x) voxel size in µm, written as ImageJ calibration (unit ``um``, ``spacing``
        = z, resolution = 1e4 / y, 1e4 / x pixels per cm). ``None``: uncalibrated (pixels).
    origin_um
        (z, y, x) centre of voxel 0 in µm (needs ``voxel_size_um``); written as ImageJ's
        calibration origin. ``None`` or zeros: none written.
    compression
        tifffile compression name (e.g. ``"zlib"``), or ``None``.
    """
    path = Path(path)
    array = np.ascontiguousarray(imagej_array(array, path))
    if array.ndim not in (2, 3):
        raise ValueError(f"{path}: expected a (z, y, x) stack or a (y, x) slice, got shape {array.shape}")
    metadata: dict = {"axes": "ZYX" if array.ndim == 3 else "YX"}
    kwargs: dict = {}
    if voxel_size_um is not None:
        z, y, x = (float(v) for v in voxel_size_um)
        if min(z, y, x) <= 0:
            raise ValueError(f"{path}: voxel size {tuple(voxel_size_um)} µm must be > 0")
        metadata.update({"spacing": z, "unit": "um"})
        kwargs["resolution"] = (1e4 / x, 1e4 / y)
        kwargs["resolutionunit"] = "CENTIMETER"
        if origin_um is not None and any(float(o) != 0 for o in origin_um):
            for key, o, v in zip(("zorigin", "yorigin", "xorigin"), origin_um, (z, y, x)):
                metadata[key] = -float(o) / v
    elif origin_um is not None and any(float(o) != 0 for o in origin_um):
        raise ValueError(f"{path}: an origin needs a voxel size (ImageJ stores it in pixels)")
    tmp = path.with_name(f".{path.name}.tmp")
    tifffile.imwrite(str(tmp), array, imagej=True, metadata=metadata, compression=compression,
                     software=TIFF_SOFTWARE, **kwargs)
    os.replace(tmp, path)


def is_axonseg_tiff(path: str | Path) -> bool:
    """``path`` is a TIFF that axonseg wrote (its Software tag is :data:`TIFF_SOFTWARE`): the only
    TIFFs ``--overwrite`` replaces."""
    try:
        with tifffile.TiffFile(str(path)) as tif:
            return tif.pages[0].software == TIFF_SOFTWARE
    except (OSError, ValueError, IndexError, tifffile.TiffFileError):
        return False


def tiff_voxel_size_um(path: str | Path) -> tuple[float, float, float] | None:
    """(z, y, x) voxel size in µm from a TIFF's ImageJ calibration; ``None`` if it has none."""
    with tifffile.TiffFile(str(path)) as tf:
        ij = tf.imagej_metadata or {}
        if ij.get("unit") not in ("um", "micron", "µm", "\\u00B5m"):
            return None
        page = tf.pages.first
        xres, yres = page.tags.get("XResolution"), page.tags.get("YResolution")
        if xres is None or yres is None:
            return None
        # pixels per cm (what axonseg writes now), per inch, or per µm (NONE: axonseg's older files)
        unit_tag = page.tags.get("ResolutionUnit")
        per_um = {3: 1e-4, 2: 1 / 25400.0}.get(int(unit_tag.value) if unit_tag is not None else 1, 1.0)
        x = xres.value[1] / (xres.value[0] * per_um)
        y = yres.value[1] / (yres.value[0] * per_um)
        z = float(ij.get("spacing", 1.0))
        return (z, float(y), float(x))


def tiff_origin_um(path: str | Path) -> tuple[float, float, float]:
    """(z, y, x) centre of voxel 0 in µm from a TIFF's ImageJ calibration origin; zeros if none."""
    voxel = tiff_voxel_size_um(path)
    with tifffile.TiffFile(str(path)) as tf:
        ij = tf.imagej_metadata or {}
    if voxel is None:
        return (0.0, 0.0, 0.0)
    return tuple(-float(ij.get(k, 0.0)) * v for k, v in zip(("zorigin", "yorigin", "xorigin"), voxel))
