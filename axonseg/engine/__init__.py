"""The block engine: regions, chunk-aligned block tasks, serial and Dask runners, folder locks.

Every block job of axonseg (prediction, ...) is a :class:`BlockTask` run by
:func:`run_serial` or :func:`run_dask`.
"""
from axonseg.io.lock import FolderLock, LockError  # locks are files: they live in axonseg.io
from axonseg.engine.region import Region
from axonseg.engine.runners import run_dask, run_serial
from axonseg.engine.task import Block, BlockTask, check_block_shape, grid_blocks, run_block

__all__ = ["Block", "BlockTask", "FolderLock", "LockError", "Region", "check_block_shape", "grid_blocks",
           "run_block", "run_dask", "run_serial"]
