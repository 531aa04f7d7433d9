"""Axon density maps: axon voxel fraction and skeleton length per output cell, block by block.

The volume (a whole-brain probability zarr, typically) is cut into blocks whose sides are whole
multiples of the cell size in voxels, so every cell lies in exactly one block and each block
writes whole output chunks (one writer per chunk). A block reads its region plus a halo of
``halo_vox`` voxels, thresholds it, removes small components, skeletonizes it, and attributes
skeleton length to voxels (each spanning-forest edge split equally between its two end voxels,
see ``axonseg.analysis.skeleton``); it then keeps only its own voxels. The halo makes the
skeleton and the edges that cross block borders the same as in the whole volume as long as
the halo is wider than the structures (tests: chunked == in-memory on tubes). Small-component
removal also sees only block + halo: a component cut by the halo's edge may be judged by its
visible part. Cells at the far edges of the
volume may be partial; their fraction is over the voxels they hold.

Optionally a registered atlas annotation volume (region ids on the same voxel grid) gives a
per-region table (voxels, axon voxels, skeleton length, length density).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from axonseg.analysis.skeleton import postprocess, sum_per_cell, voxel_lengths_um
from axonseg.settings import SettingsBase, check_finite, check_sizes_um

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DensitySettings(SettingsBase):
    """Density-map settings; ``voxel_size_um`` None means: from the input's metadata."""

    cell_size_um: float = 50.0
    threshold: float = 0.5
    min_component_vox: int = 0
    halo_vox: int = 8
    block_target_vox: int = 256
    voxel_size_um: tuple[float, float, float] | None = None
    runner: str = "serial"
    dask_scheduler_address: str | None = None
    dask_workers: int = 2

    settings_kind = "density settings"

    def __post_init__(self):
        if self.runner not in ("serial", "dask"):
            raise ValueError(f"runner must be 'serial' or 'dask', got {self.runner!r}")
        if self.dask_workers < 1:
            raise ValueError(f"dask_workers must be >= 1, got {self.dask_workers}")
        if self.halo_vox < 0:
            raise ValueError(f"halo_vox must be >= 0 voxels (the context read around each block), got {self.halo_vox}")
        if self.min_component_vox < 0:
            raise ValueError(f"min_component_vox (--min-component-vox) must be >= 0, got {self.min_component_vox}")
        if self.block_target_vox < 1:
            raise ValueError(f"block_target_vox must be >= 1 voxel, got {self.block_target_vox}")
        check_finite(self.threshold, "threshold (--threshold)")
        if not 0 <= self.threshold <= 1:
            raise ValueError(f"threshold (--threshold) is a probability in [0, 1], got {self.threshold}")
        check_sizes_um([self.cell_size_um], "cell_size_um (--cell-size-um)")
        if self.voxel_size_um is not None:
            check_sizes_um(self.voxel_size_um, "voxel_size_um (--voxel-size-um)")


def cell_shape_vox(cell_size_um: float, voxel_size_um: Sequence[float]) -> tuple[int, int, int]:
    """Cell side in voxels per axis: ``round(cell_size_um / voxel)``, at least 1."""
    if cell_size_um <= 0:
        raise ValueError(f"cell size {cell_size_um} µm must be > 0")
    if any(v <= 0 for v in voxel_size_um):
        raise ValueError(f"voxel size {tuple(voxel_size_um)} µm must be > 0")
    cell = tuple(max(1, int(round(cell_size_um / v))) for v in voxel_size_um)
    actual = [c * v for c, v in zip(cell, voxel_size_um)]
    if any(abs(a - cell_size_um) > 0.05 * cell_size_um for a in actual):
        logger.warning("cells are %s voxels = %s µm (asked %g µm)", cell,
                       [round(a, 3) for a in actual], cell_size_um)
    return cell


def block_shape_vox(cell_vox: Sequence[int], target_vox: int) -> tuple[int, int, int]:
    """Block side per axis: the multiple of the cell side nearest ``target_vox`` (>= 1 cell)."""
    return tuple(c * max(1, int(round(target_vox / c))) for c in cell_vox)


@dataclass
class BlockDensity:
    cells: tuple[slice, ...]       # where this block's cells go in the output grid
    fraction: np.ndarray           # axon voxel fraction per cell
    length_um: np.ndarray          # skeleton length per cell (µm)
    region_stats: dict[int, np.ndarray] | None  # id -> [voxels, axon voxels, length µm]


def block_density(volume, block: tuple[slice, ...], cell_vox: Sequence[int],
                  voxel_size_um: Sequence[float], s: DensitySettings,
                  labels=None) -> BlockDensity:
    """Density of one block of ``volume`` (anything sliceable to numpy: zarr, RegionReader, array)."""
    shape = volume.shape
    read = tuple(slice(max(b.start - s.halo_vox, 0), min(b.stop + s.halo_vox, n))
                 for b, n in zip(block, shape))
    data = np.asarray(volume[read])
    mask, skel = postprocess(data, s.threshold, s.min_component_vox)
    lengths = voxel_lengths_um(skel, voxel_size_um)
    inner = tuple(slice(b.start - r.start, b.stop - r.start) for b, r in zip(block, read))
    mask, lengths = mask[inner], lengths[inner]
    counts = sum_per_cell(np.ones(mask.shape, np.float32), cell_vox)
    fraction = sum_per_cell(mask, cell_vox) / counts
    length = sum_per_cell(lengths, cell_vox)
    cells = tuple(slice(b.start // c, b.start // c + n) for b, c, n in zip(block, cell_vox, fraction.shape))
    stats = None
    if labels is not None:
        lab = np.asarray(labels[block])
        ids, inv = np.unique(lab, return_inverse=True)
        inv = inv.ravel()
        vox = np.bincount(inv, minlength=len(ids))
        axon = np.bincount(inv, mask.ravel().astype(np.float64), len(ids))
        lum = np.bincount(inv, lengths.ravel(), len(ids))
        stats = {int(i): np.array([v, a, l]) for i, v, a, l in zip(ids, vox, axon, lum)}
    return BlockDensity(cells, fraction.astype(np.float32), length.astype(np.float32), stats)


def compute_density(volume, voxel_size_um: Sequence[float], s: DensitySettings,
                    labels=None, sink: Callable[[BlockDensity], None] | None = None,
                    block_vox: Sequence[int] | None = None):
    """Density maps of ``volume`` block by block.

    Parameters
    ----------
    volume
        (z, y, x) probability map or mask, sliceable to numpy (a zarr array, a
        ``RegionReader``, a numpy array).
    voxel_size_um
        Voxel size (z, y, x) in µm.
    labels
        Optional atlas annotation of the same shape (region ids).
    sink
        Called with each :class:`BlockDensity` (e.g. to write it to zarr). Without a sink
        the maps are collected in memory and returned.
    block_vox
        Block shape in voxels (multiples of the cell shape); default from
        ``s.block_target_vox``. Pass ``volume.shape`` rounded up to cells for one block.

    Returns
    -------
    fraction, length_um, regions
        The grids (``None`` with a sink) and ``{id: [voxels, axon voxels, length µm]}``.
    """
    cell = cell_shape_vox(s.cell_size_um, voxel_size_um)
    block = tuple(block_vox) if block_vox is not None else block_shape_vox(cell, s.block_target_vox)
    if any(b % c for b, c in zip(block, cell)):
        raise ValueError(f"block {block} is not a whole number of cells {cell}")
    if labels is not None and tuple(labels.shape) != tuple(volume.shape):
        raise ValueError(f"atlas annotation shape {tuple(labels.shape)} differs from the volume's "
                         f"{tuple(volume.shape)}")
    grid = tuple(-(-n // c) for n, c in zip(volume.shape, cell))
    fraction = length = None
    if sink is None:
        fraction, length = np.zeros(grid, np.float32), np.zeros(grid, np.float32)
    regions: dict[int, np.ndarray] = {}
    from axonseg.engine import grid_blocks

    blocks = [b.write_slices for b in grid_blocks(volume.shape, block)]  # the density job's grid
    for k, b in enumerate(blocks):
        bd = block_density(volume, b, cell, voxel_size_um, s, labels)
        if sink is None:
            fraction[bd.cells] = bd.fraction
            length[bd.cells] = bd.length_um
        else:
            sink(bd)
        for rid, v in (bd.region_stats or {}).items():
            regions[rid] = regions.get(rid, 0) + v
        if (k + 1) % 50 == 0 or k + 1 == len(blocks):
            logger.info("density: %d / %d blocks", k + 1, len(blocks))
    return fraction, length, regions


def region_table(regions: dict[int, np.ndarray], voxel_size_um: Sequence[float],
                 names: dict[int, str] | None = None) -> list[dict]:
    """``regions.csv`` rows per region id, names from ``names`` (a ``--region-names`` CSV): the schema
    :data:`axonseg.analysis.atlas.COLUMNS` that atlas-named tables have too (acronym empty)."""
    from axonseg.analysis.atlas import region_numbers

    voxel_mm3 = float(np.prod(voxel_size_um)) * 1e-9
    return [{"id": rid, "acronym": "", "name": (names or {}).get(rid, ""),
             **region_numbers(*(float(v) for v in regions[rid]), voxel_mm3)} for rid in sorted(regions)]
