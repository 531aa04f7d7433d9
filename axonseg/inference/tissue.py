"""Where the tissue is: a low-resolution view of the input, a threshold, and which patches to run.

The view is the mean over ``factor``³-voxel cells (partial cells at the far border are
averaged over the voxels they have), computed block by block on the engine. A cell is
tissue when its mean is above the threshold; the mask is then dilated by
``margin_vox`` voxels (rounded up to whole cells) so that patches touching the edge of
the brain are still computed. A lattice patch is skipped when no tissue cell overlaps it;
skipped patches count as predicting probability 0 (they keep their weight in the
stitching), so voxels covered only by skipped patches get probability 0.

Automatic threshold (``threshold=None``), made to skip only what is clearly not tissue: the
background level ``b`` is the mean of the cells at most ``BACKGROUND_SPREAD`` (1.5) x the
1st-percentile cell mean (the camera floor when at least 1 % of the box lies outside the
brain); the tissue level ``t`` is the median of all brighter cells. Background exists only
when ``t >= MIN_CLASS_RATIO`` (3) x ``b`` and there is a gap above it (fewer cells between 1.5x
and 3x the floor than within 1.5x of it); the threshold is then ``BACKGROUND_FACTOR`` (2) x
``b`` (and never above sqrt(b t)). Otherwise (a crop that is all tissue, dim tissue next
to a dark corner, as in the D-LMBmap excerpt) every cell counts as tissue: when in doubt,
compute. Signed input (a cell mean below 0, e.g. background-subtracted data) has no camera floor
to measure ratios from: every cell counts as tissue, with a warning. Light-sheet background outside a cleared brain sits near the camera offset, several
times darker than autofluorescent tissue; give ``--tissue-threshold`` when your data differ.
"""
from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

import numpy as np

from axonseg.engine import BlockTask, grid_blocks, run_serial

logger = logging.getLogger(__name__)

MIN_CLASS_RATIO = 3.0
BACKGROUND_SPREAD = 1.5
BACKGROUND_FACTOR = 2.0


@dataclass(frozen=True)
class TissueMask:
    """A boolean mask over ``factor``³ cells of the volume, and how it was made."""

    mask: np.ndarray
    factor: int
    threshold: float | None
    margin_vox: int

    @property
    def fraction(self) -> float:
        return float(self.mask.mean()) if self.mask.size else 1.0

    def to_dict(self) -> dict:
        return {"factor_vox": self.factor, "threshold": self.threshold, "margin_vox": self.margin_vox,
                "tissue_fraction": round(self.fraction, 6), "cells_zyx": list(self.mask.shape),
                "rule": {"min_class_ratio": MIN_CLASS_RATIO, "background_spread": BACKGROUND_SPREAD,
                         "background_factor": BACKGROUND_FACTOR}}


def _cell_sums(reader, factor: int, index: int, blocks) -> tuple[int, np.ndarray, np.ndarray]:
    """Sums and voxel counts of the ``factor``³ cells of one block (float32; cells start at the block start)."""
    region = blocks[index].write
    data = np.asarray(reader[region.to_slices()], dtype=np.float32)
    cells = tuple(-(-s // factor) for s in data.shape)
    if any(c * factor != s for c, s in zip(cells, data.shape)):
        data = np.pad(data, [(0, c * factor - s) for c, s in zip(cells, data.shape)])
    sums = data.reshape(cells[0], factor, cells[1], factor, cells[2], factor).sum(axis=(1, 3, 5))
    per_axis = [np.minimum(factor, s - np.arange(c) * factor) for c, s in zip(cells, region.shape)]
    counts = per_axis[0][:, None, None] * per_axis[1][None, :, None] * per_axis[2][None, None, :]
    return index, sums, counts.astype(np.float32)


def low_resolution_view(reader, factor: int, chunked: bool = True) -> np.ndarray:
    """Mean of ``reader`` (any ``[z0:z1, y0:y1, x0:x1]``-sliceable volume) over ``factor``³ cells, float32.

    ``chunked``: read blocks of about 32x256x256 voxels (zarr-like inputs); otherwise slabs of
    ``factor`` whole slices (TIFF slice folders, where every region read decodes whole slices).
    """
    if factor < 1:
        raise ValueError(f"tissue downsample factor must be >= 1, got {factor}")
    shape = tuple(int(s) for s in reader.shape)
    cells = tuple(-(-s // factor) for s in shape)
    step = [max(1, 32 // factor) * factor, max(1, 256 // factor) * factor, max(1, 256 // factor) * factor]
    if not chunked:
        step = [factor, cells[1] * factor, cells[2] * factor]
    blocks = grid_blocks(shape, step)
    out = np.zeros(cells, np.float32)

    def done(result) -> None:
        i, sums, counts = result
        start = tuple(a // factor for a in blocks[i].write.start)
        sl = tuple(slice(a, a + s) for a, s in zip(start, sums.shape))
        out[sl] = (sums / np.maximum(counts, 1)).astype(np.float32)

    task = BlockTask("tissue-view", blocks, compute=lambda i, loaded, progress: loaded,
                     store=lambda i, computed: computed, is_done=lambda i: False,
                     load=functools.partial(_cell_sums, reader, factor, blocks=blocks))
    run_serial(task, range(len(blocks)), done)
    return out


def automatic_threshold(view: np.ndarray) -> float | None:
    """``BACKGROUND_FACTOR`` x the background level, or ``None`` when no background is clearly darker
    than the tissue (see the module docstring)."""
    cells = view.astype(np.float64).ravel()
    if cells.size < 2 or cells.min() == cells.max():
        return None
    if cells.min() < 0:  # signed input (background-subtracted...): ratios to the floor mean nothing
        logger.warning("tissue mask: the input has negative values (min cell mean %.4g), so the automatic "
                       "threshold does not apply; every patch is computed (give --tissue-threshold to skip "
                       "background)", cells.min())
        return None
    floor = float(np.percentile(cells, 1))
    dark = cells <= BACKGROUND_SPREAD * floor
    if dark.all() or not dark.any():
        return None
    between = (cells > BACKGROUND_SPREAD * floor) & (cells <= 2 * BACKGROUND_SPREAD * floor)
    if between.sum() >= dark.sum():  # no gap above the floor: a continuum of dim tissue, not background
        return None
    background = float(cells[dark].mean())
    tissue = float(np.median(cells[~dark]))
    if tissue < MIN_CLASS_RATIO * max(background, 1e-6):
        return None
    return float(min(BACKGROUND_FACTOR * background, np.sqrt(background * tissue)))


def tissue_mask(view: np.ndarray, factor: int, threshold: float | None = None, margin_vox: int = 8,
                automatic: bool = True) -> TissueMask:
    """Threshold the low-resolution ``view`` (automatic when ``threshold`` is None and ``automatic``)."""
    from scipy.ndimage import binary_dilation

    if margin_vox < 0:
        raise ValueError(f"tissue margin must be >= 0 voxels, got {margin_vox}")
    if threshold is None and automatic:
        threshold = automatic_threshold(view)
    if threshold is None:
        logger.info("tissue mask: no background found; every patch is computed")
        return TissueMask(np.ones(view.shape, bool), factor, None, margin_vox)
    mask = view > threshold
    r = -(-margin_vox // factor)
    if r and mask.any():
        mask = binary_dilation(mask, structure=np.ones((2 * r + 1,) * 3, bool))
    return TissueMask(mask, factor, float(threshold), margin_vox)


def patches_in_tissue(tissue: TissueMask | None, ownership) -> np.ndarray:
    """Boolean table over the lattice (one entry per patch, axes z, y, x): does the patch touch tissue?

    Vectorised with a summed-area table of the mask, so a whole brain's millions of patches take
    a fraction of a second.
    """
    lattice = ownership.lattice
    counts = [len(s) for s in lattice.starts_zyx]
    if tissue is None:
        return np.ones(counts, bool)
    f = tissue.factor
    sat = np.zeros(tuple(s + 1 for s in tissue.mask.shape), np.int64)
    sat[1:, 1:, 1:] = tissue.mask.astype(np.int64).cumsum(0).cumsum(1).cumsum(2)
    lo, hi = [], []
    for ax in range(3):
        ext = np.array([ownership.patch_extent(ax, s) for s in lattice.starts_zyx[ax]])
        lo.append(ext[:, 0] // f)
        hi.append(np.minimum(-(-ext[:, 1] // f), tissue.mask.shape[ax]))
    z0, y0, x0 = np.ix_(*lo)
    z1, y1, x1 = np.ix_(*hi)
    total = (sat[z1, y1, x1] - sat[z0, y1, x1] - sat[z1, y0, x1] - sat[z1, y1, x0]
             + sat[z0, y0, x1] + sat[z0, y1, x0] + sat[z1, y0, x0] - sat[z0, y0, x0])
    return total > 0
