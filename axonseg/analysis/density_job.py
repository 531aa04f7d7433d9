"""Density maps as a block task on the engine: resumable, serial or on Dask.

One block of the density grid (whole cells, see :mod:`axonseg.analysis.density`) per task;
its store writes the block's cells of both maps (whole output chunks: one writer each),
saves the block's per-region sums in the staging folder's work space, then marks the block
done (:class:`~axonseg.io.resumable.Staging`). Region totals are added in block order, so
the serial and the Dask runner give the same numbers, and a resumed run the same as an
uninterrupted one.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from axonseg.analysis.density import BlockDensity, DensitySettings, block_density
from axonseg.engine import BlockTask, Region, grid_blocks, run_dask, run_serial
from axonseg.io.files import load_npz, save_npz
from axonseg.io.resumable import Staging

MAPS = ("axon_fraction", "axon_length_um")
def _reader(path: str | None):
    if path is None:
        return None
    from axonseg.io import cached_region_reader

    return cached_region_reader(path)


@dataclass(frozen=True)
class DensityJob:
    """Everything a worker needs to compute any density block (picklable)."""

    input_path: str
    atlas_path: str | None
    staging: Staging
    shape_zyx: tuple[int, int, int]
    voxel_size_um: tuple[float, float, float]
    cell_vox: tuple[int, int, int]
    block_vox: tuple[int, int, int]
    settings: DensitySettings

    @cached_property
    def blocks(self):
        return grid_blocks(self.shape_zyx, self.block_vox)

    def task(self) -> BlockTask:
        return BlockTask("density", self.blocks, compute=functools.partial(compute, self),
                         store=functools.partial(store, self), is_done=functools.partial(is_done, self),
                         chunk_shape=self.block_vox, bounds=Region.from_shape(self.shape_zyx))


def is_done(job: DensityJob, index: int) -> bool:
    return job.staging.is_done(f"block-{index:07d}")


def compute(job: DensityJob, index: int, loaded, progress) -> BlockDensity:
    return block_density(_reader(job.input_path), job.blocks[index].write_slices, job.cell_vox,
                         job.voxel_size_um, job.settings, _reader(job.atlas_path))


def _regions_file(job: DensityJob, index: int) -> Path:
    return job.staging.work_dir / f"regions-{index:07d}.npz"


def store(job: DensityJob, index: int, bd: BlockDensity) -> int:
    from axonseg.io.ome_zarr import write_region

    write_region(job.staging.path / "axon_fraction.ome.zarr", bd.cells, bd.fraction)
    write_region(job.staging.path / "axon_length_um.ome.zarr", bd.cells, bd.length_um)
    stats = bd.region_stats or {}
    ids = np.array(sorted(stats), np.int64)
    values = np.array([stats[i] for i in ids], np.float64).reshape(-1, 3)
    save_npz(_regions_file(job, index), ids=ids, values=values)
    job.staging.mark_done(f"block-{index:07d}")
    return index


def run(job: DensityJob, runner: str = "serial", scheduler_address: str | None = None,
        workers: int = 2, progress: bool = False) -> dict[int, np.ndarray]:
    """Compute the blocks not done yet (``progress``: a progress bar, one step per block); the
    per-region totals ``{id: [voxels, axon voxels, length µm]}``."""
    from tqdm import tqdm

    task = job.task()
    pending = task.pending()
    with tqdm(total=len(job.blocks), initial=len(job.blocks) - len(pending), desc="density blocks", unit="block",
              disable=not progress) as bar:
        if runner == "dask":
            run_dask(task, pending, lambda _: bar.update(1), scheduler_address, workers)
        else:
            run_serial(task, pending, lambda _: bar.update(1))
    missing = task.pending()
    if missing:
        raise RuntimeError(f"density blocks {missing[:10]} were not completed")
    regions: dict[int, np.ndarray] = {}
    for b in job.blocks:  # block order: the same sums however the blocks ran
        d = load_npz(_regions_file(job, b.index))
        for rid, v in zip(d["ids"], d["values"]):
            regions[int(rid)] = regions.get(int(rid), 0) + v
    return regions
