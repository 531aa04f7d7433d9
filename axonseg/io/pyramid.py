"""Pyramid levels of an OME-Zarr on the block engine: one task per write unit (shard or chunk) of a level.

Level ``L`` is filled from level ``L - 1`` (2x2x2 mean, rounded for integers, or max), level after
level; each task reads its 2x region of the level below and writes whole write units of its own
level (one writer each), so the serial and the Dask runner write the same bytes. With a
:class:`~axonseg.io.resumable.Staging`, each finished task is recorded and a resumed build skips it.
"""
from __future__ import annotations

import functools
import warnings
from pathlib import Path

import numpy as np
import zarr

from axonseg.io.ome_zarr import write_unit


def downsample_2x(block: np.ndarray, how: str) -> np.ndarray:
    """2x2x2 ``mean`` (rounded for integers) or ``max``; odd trailing voxels dropped."""
    z, y, x = (s // 2 * 2 for s in block.shape)
    b = block[:z, :y, :x].reshape(z // 2, 2, y // 2, 2, x // 2, 2)
    if how == "max":
        return b.max(axis=(1, 3, 5))
    out = b.mean(axis=(1, 3, 5), dtype=np.float32)
    return np.round(out).astype(block.dtype) if np.issubdtype(block.dtype, np.integer) else out.astype(block.dtype)


def _key(level: int, index: int) -> str:
    return f"pyramid-{level}-{index:07d}"


def _is_done(staging, level: int, index: int) -> bool:
    return staging is not None and staging.is_done(_key(level, index))


def _compute(path: str, level: int, how: str, blocks, index: int, loaded, progress) -> np.ndarray:
    src = zarr.open_array(str(Path(path) / str(level - 1)), mode="r")
    r = blocks[index].write
    return downsample_2x(src[tuple(slice(2 * a, 2 * b) for a, b in zip(r.start, r.stop))], how)


def _store(path: str, level: int, staging, blocks, index: int, data: np.ndarray) -> int:
    dst = zarr.open_array(str(Path(path) / str(level)), mode="r+")
    dst[blocks[index].write_slices] = data
    if staging is not None:
        staging.mark_done(_key(level, index))
    return index


def build_pyramid(path: str | Path, how: str = "mean", runner: str = "serial",
                  scheduler_address: str | None = None, workers: int = 2, staging=None) -> int:
    """Fill levels 1.. of the OME-Zarr group at ``path`` from level 0; returns the number of levels.

    Deterministic (same bytes every time, serial or Dask); memory bounded by one write unit of the
    level below. ``staging``: record finished tasks there (resume).
    """
    from axonseg.engine import BlockTask, Region, grid_blocks, run_dask, run_serial

    group = zarr.open_group(str(path), mode="r+")
    with warnings.catch_warnings():  # a resumable staging folder's progress records are not zarr nodes
        warnings.filterwarnings("ignore", message=".*not recognized as a component of a Zarr hierarchy")
        levels = sorted(int(k) for k in group.array_keys())
    for level in levels[1:]:
        dst = group[str(level)]
        unit = write_unit(dst)
        blocks = grid_blocks(dst.shape, unit)
        task = BlockTask(f"pyramid-{level}", blocks,
                         compute=functools.partial(_compute, str(path), level, how, blocks),
                         store=functools.partial(_store, str(path), level, staging, blocks),
                         is_done=functools.partial(_is_done, staging, level),
                         chunk_shape=unit, bounds=Region.from_shape(dst.shape))
        pending = task.pending()
        if runner == "dask":
            run_dask(task, pending, lambda i: None, scheduler_address, workers)
        else:
            run_serial(task, pending, lambda i: None)
    return len(levels)
