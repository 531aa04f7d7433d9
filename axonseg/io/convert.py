"""Convert a TIFF slice folder, multipage TIFF or HDF5 file into a chunked OME-Zarr, lazily.

Never holds the whole volume: the output is written one row of chunks at a time
(``chunk_z`` slices x ``chunk_y`` rows x the full width; shards instead of chunks when
sharded). TIFF slices are read through
tifffile's zarr interface, so only the strips/tiles of the rows being written are
decoded. A progress bar counts written chunk rows. Each row of chunks is a block task of
the engine (serial or Dask), then the pyramid levels (:mod:`axonseg.io.pyramid`). The result
is built in ``.DST.partial`` beside the destination and renamed at the end; bad input found
on the way removes it, an interruption keeps it and the same command resumes
(:mod:`axonseg.io.resumable`).
"""
from __future__ import annotations

import functools
import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import tifffile
import zarr
from tqdm import tqdm

from axonseg.engine import BlockTask, Region, grid_blocks, run_dask, run_serial
from axonseg.io.atomic import check_replace_target
from axonseg.io.digest import input_files_digest
from axonseg.io.ome_zarr import (ZarrFormat, create_ome_zarr, num_pyramid_levels, omero_metadata, set_omero,
                                 write_unit)
from axonseg.io.pyramid import build_pyramid
from axonseg.io.resumable import PROGRESS, resumable_folder
from axonseg.io.volume import VolumeError, is_zarr_path, open_volume, slice_folder_header

logger = logging.getLogger(__name__)


class _SliceFolderReader:
    """Reads (z0:z1, y0:y1, :) from a folder of 2-D TIFFs without decoding whole slices."""

    def __init__(self, folder: Path):
        self.files, self.shape2d, self.dtype = slice_folder_header(folder)
        self.shape = (len(self.files),) + self.shape2d

    def read(self, z0: int, z1: int, y0: int, y1: int) -> np.ndarray:
        out = np.empty((z1 - z0, y1 - y0, self.shape2d[1]), dtype=self.dtype)
        for i, path in enumerate(self.files[z0:z1]):
            with tifffile.TiffFile(path) as tf:
                page = tf.pages[0]
                if tuple(page.shape) != self.shape2d or np.dtype(page.dtype) != self.dtype:
                    raise VolumeError(f"{path}: slice is {page.shape} {page.dtype}, expected "
                                      f"{self.shape2d} {self.dtype} like {self.files[0].name}")
                store = page.aszarr()
                try:
                    out[i] = zarr.open_array(store, mode="r")[y0:y1]
                finally:
                    store.close()
        return out


@dataclass(frozen=True)
class _Source:
    """The input to convert, opened once per process (picklable: Dask workers open it themselves)."""

    path: str
    dataset: str | None

    def open(self):
        key = (self.path, self.dataset)
        if key not in _OPEN:
            src = Path(self.path)
            if src.is_dir() and not is_zarr_path(src):
                r = _SliceFolderReader(src)
                _OPEN[key] = (r.shape, r.dtype, r.read, None)
            else:
                arr, info = open_volume(src, dataset=self.dataset)
                _OPEN[key] = (info.shape_zyx, np.dtype(info.dtype),
                              lambda z0, z1, y0, y1: np.asarray(arr[z0:z1, y0:y1, :]), info.voxel_size_um)
        return _OPEN[key]


_OPEN: dict[tuple, tuple] = {}


def _load(source: _Source, blocks, index: int) -> np.ndarray:
    (z, z1), (y, y1) = [(a, b) for a, b in zip(blocks[index].write.start, blocks[index].write.stop)][:2]
    try:
        return source.open()[2](z, z1, y, y1)
    except (ValueError, OSError) as exc:
        if isinstance(exc, VolumeError):
            raise
        raise VolumeError(f"{source.path}: cannot read slices {z}..{z1 - 1}, rows {y}..{y1 - 1}: {exc}") from exc


def _compute(index: int, loaded: np.ndarray, progress) -> np.ndarray:
    return loaded


def _store(level0: str, staging, blocks, index: int, data: np.ndarray) -> int:
    zarr.open_array(level0, mode="r+")[blocks[index].write_slices] = data
    staging.mark_done(f"rows-{index:07d}")
    return index


def _is_done(staging, index: int) -> bool:
    return staging.is_done(f"rows-{index:07d}")


def is_converted_zarr(path: Path) -> bool:
    """``path`` is an OME-Zarr folder written by axonseg (its root attributes name axonseg)."""
    for meta in (path / "zarr.json", path / ".zattrs"):
        if meta.is_file():
            try:
                attrs = json.loads(meta.read_text())
            except (OSError, ValueError):
                return False
            attrs = attrs.get("attributes", attrs) if meta.name == "zarr.json" else attrs
            return isinstance(attrs, dict) and "axonseg" in attrs
    return False


def input_omero(path: Path, levels: int, label: str) -> dict:
    """``omero`` of a converted input: grey, displayed from its 0.1th to its 99.9th percentile (read
    on the coarsest level, a 2**(levels-1) reduction), value range the dtype's (integers) or the data's."""
    coarse = zarr.open_array(str(path / str(levels - 1)), mode="r")[:]
    start, end = (float(v) for v in np.percentile(coarse, (0.1, 99.9))) if coarse.size else (0.0, 1.0)
    dtype = zarr.open_array(str(path / "0"), mode="r").dtype
    if np.issubdtype(dtype, np.integer):
        lo, hi = float(np.iinfo(dtype).min), float(np.iinfo(dtype).max)
    else:
        lo, hi = (float(coarse.min()), float(coarse.max())) if coarse.size else (0.0, 1.0)
    if end <= start:
        end = start + 1.0
    return omero_metadata(label, "FFFFFF", (min(lo, start), max(hi, end), start, end))


def convert_to_ome_zarr(src: str | Path, dst: str | Path, voxel_size_um: Sequence[float] | None = None,
                        chunk_shape_zyx: Sequence[int] = (64, 128, 128), max_levels: int = 5,
                        dataset: str | None = None, overwrite: bool = False, progress: bool = True,
                        fmt: ZarrFormat = ZarrFormat(), runner: str = "serial",
                        scheduler_address: str | None = None, workers: int = 2) -> Path:
    """Convert ``src`` (TIFF slices / TIFF stack / HDF5 / zarr) to an OME-Zarr at ``dst``.

    Parameters
    ----------
    src
        Input volume (anything :func:`axonseg.io.open_volume` opens).
    dst
        Output ``.ome.zarr`` folder; must not exist unless ``overwrite``.
    voxel_size_um
        (z, y, x) voxel size in micrometres; ``None``: the input's, else 1 µm with a warning
        (:func:`axonseg.io.voxel_size.voxel_size_or_default`, the rule predict follows too).
    chunk_shape_zyx
        Output chunk shape.
    max_levels
        Pyramid levels at most (level 0 included).
    dataset
        HDF5 dataset name when the file has several 3-D datasets.
    overwrite
        Replace an existing ``dst`` (the input is never touched).
    fmt
        NGFF version (0.5 on zarr v3, 0.4 on zarr v2) and optional zarr v3 shard shape.
    runner, scheduler_address, workers
        ``serial`` or ``dask`` (a local cluster of ``workers``, or the scheduler at the address).

    Resumable: an interrupted conversion leaves ``.DST.partial``; the same call converts only the
    rows of chunks not yet written (see :mod:`axonseg.io.resumable`).
    """
    src, dst = Path(src), Path(dst)
    if not src.exists():
        raise VolumeError(f"{src}: no such file or folder")
    if len(chunk_shape_zyx) != 3 or min(chunk_shape_zyx) < 1:
        raise ValueError(f"chunk shape (--chunk) must be 3 positive whole numbers (z y x), got {list(chunk_shape_zyx)}")
    if max_levels < 1:
        raise ValueError(f"pyramid levels (--levels) must be >= 1, got {max_levels}")
    if runner not in ("serial", "dask"):
        raise ValueError(f"runner (--runner) must be 'serial' or 'dask', got {runner!r}")
    if runner == "dask" and scheduler_address is None and workers < 1:  # a cluster of 0 workers waits forever
        raise ValueError(f"local Dask workers (--workers) must be >= 1, got {workers}")
    check_replace_target(dst, [src], overwrite, is_ours=is_converted_zarr)
    source = _Source(str(src.resolve()), dataset)
    shape, dtype, _, recorded = source.open()
    from axonseg.io.voxel_size import voxel_size_or_default

    voxel = voxel_size_or_default(voxel_size_um, recorded, src)  # the same rule as predict's
    if len(voxel) != 3:
        raise VolumeError(f"{src}: the voxel size (--voxel-size-um) must be 3 numbers (z y x), got {list(voxel)}")
    if min(voxel) <= 0 or not all(np.isfinite(voxel)):
        raise VolumeError(f"{src}: voxel size {list(voxel)} µm: each must be a positive number")
    from axonseg.settings import check_sizes_um

    check_sizes_um(voxel, f"{src}: the voxel size (--voxel-size-um, or the file's metadata)")
    levels = num_pyramid_levels(shape, max_levels)
    fingerprint = {"source": source.path, "dataset": dataset, "files": input_files_digest(src),
                   "voxel_size_um": list(voxel), "chunks": [int(c) for c in chunk_shape_zyx], "levels": levels,
                   "ngff": fmt.ngff_version, "shard": fmt.shard_shape_vox}
    with resumable_folder(dst, fingerprint, overwrite, inputs=[src], is_ours=is_converted_zarr) as staging:
        tmp = staging.path
        if not staging.is_done("arrays"):
            for p in tmp.iterdir():  # a group left by a run killed while creating it
                if p.name != PROGRESS:
                    shutil.rmtree(p) if p.is_dir() else p.unlink()
            create_ome_zarr(tmp, shape, chunk_shape_zyx, dtype, voxel, levels, name=src.name, fmt=fmt,
                            attributes={"axonseg": {"converted_from": str(src), "voxel_size_um": list(voxel)}},
                            in_existing_folder=True)
            staging.mark_done("arrays")
        level0 = zarr.open_array(str(tmp / "0"), mode="r")
        cz, cy = write_unit(level0)[:2]  # rows of whole shards (or chunks): one writer each
        blocks = grid_blocks(shape, (cz, cy, shape[2]))
        task = BlockTask("convert", blocks, compute=_compute,
                         store=functools.partial(_store, str(tmp / "0"), staging, blocks),
                         is_done=functools.partial(_is_done, staging),
                         load=functools.partial(_load, source, blocks),
                         chunk_shape=write_unit(level0), bounds=Region.from_shape(shape))
        pending = task.pending()
        bar = tqdm(total=len(blocks), initial=len(blocks) - len(pending), desc=f"convert {src.name}",
                   unit="chunk-row", disable=not progress)
        try:
            if runner == "dask":
                run_dask(task, pending, lambda i: bar.update(1), scheduler_address, workers)
            else:
                run_serial(task, pending, lambda i: bar.update(1))
        finally:
            bar.close()
        build_pyramid(tmp, runner=runner, scheduler_address=scheduler_address, workers=workers, staging=staging)
        set_omero(tmp, input_omero(tmp, levels, src.name))
    logger.info("converted %s %s %s -> %s (%d levels, voxel %s um)", src, shape, dtype, dst, levels, voxel)
    return dst
