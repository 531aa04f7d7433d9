"""Check that every file of a volume can be read, from the file headers, before a long job starts.

:func:`open_volume` is lazy: a truncated TIFF stack or one slice of another shape is only
noticed when that slice is read, maybe hours into a run. :func:`check_volume_files` reads
the headers (not the pixels) of every file and raises :class:`VolumeError` naming the file.
"""
from __future__ import annotations

import os
from pathlib import Path

from axonseg.io.volume import VolumeError, VolumeInfo, sorted_slice_files


def _check_tiff(path: Path, expect_shape=None, expect_dtype=None, expect_pages: int | None = None) -> None:
    import tifffile

    size = os.path.getsize(path)
    try:
        with tifffile.TiffFile(path) as tf:
            pages = list(tf.pages)
            for page in pages:
                ends = [o + n for o, n in zip(page.dataoffsets, page.databytecounts)]
                if ends and max(ends) > size:
                    raise VolumeError(f"{path}: truncated TIFF (image data ends at byte {max(ends)}, "
                                      f"the file has {size} bytes)")
            shape, dtype = pages[0].shape, pages[0].dtype
            if expect_pages is not None and len(pages[0].shape) == 2 and len(pages) < expect_pages:
                raise VolumeError(f"{path}: truncated TIFF (only {len(pages)} of {expect_pages} pages readable)")
    except VolumeError:
        raise
    except (tifffile.TiffFileError, ValueError, IndexError, OSError) as e:
        raise VolumeError(f"{path}: not a readable TIFF ({e})") from e
    if expect_shape is not None and (tuple(shape) != tuple(expect_shape) or dtype != expect_dtype):
        raise VolumeError(f"{path}: slice has shape {tuple(shape)} {dtype}, expected {tuple(expect_shape)} "
                          f"{expect_dtype} like the first slice")


def check_volume_files(info: VolumeInfo) -> None:
    """Raise :class:`VolumeError` if a file of the volume is truncated or does not match the others."""
    if info.format == "tiff-slices":
        files = sorted_slice_files(Path(info.path))
        for p in files:
            _check_tiff(p, info.shape_zyx[1:], info.dtype)
    elif info.format == "tiff-stack":
        _check_tiff(Path(info.path), expect_pages=info.shape_zyx[0])
