"""Intensity normalisation as nnU-Net v1 trained the model, applied to a whole brain.

nnU-Net v1's schemes (``plans['normalization_schemes']``):

- ``nonCT``: z-score with the image's own mean and std. A whole brain is one image, so
  by default the statistics are computed ONCE for the whole volume (exactly when the
  volume has at most ``max_sample_voxels`` voxels, else from regularly spaced cubes) and
  every block uses the same numbers: seam-free and deterministic. ``per_patch`` instead
  z-scores each network patch with its own statistics (closest to training on
  per-cube-normalised 150^3 cubes, but it stretches noise in empty patches).
- ``CT``: clip to the dataset's 0.5/99.5 percentiles, z-score with the dataset's mean
  and sd (from ``plans['dataset_properties']['intensityproperties']``).
- ``CT2``: clip to those percentiles, then z-score with the image's statistics.
- ``noNorm``: unchanged.

axonseg's own scheme (starter model v2):

- ``tissue_ratio``: every voxel divided by ONE number per volume, the tissue level ``m`` =
  the median of the tissue cells' means in the low-resolution view (cells of
  ``tissue_downsample_vox``³ voxels, background cells excluded by the tissue mask's
  automatic threshold). A voxel's input then depends on its own value and ``m`` only:
  the same for every patch or tile that contains it, and exactly invariant to a global
  intensity scale (x0.25, x4). Stored as ``mean = 0``, ``std = m``.
"""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from axonseg.errors import AxonsegError

logger = logging.getLogger(__name__)

TISSUE_CELL_VOX = 8  # the tissue level's cells (predict's default tissue_downsample_vox)
SCHEMES = ("nonCT", "CT", "CT2", "noNorm", "tissue_ratio")
EPS = 1e-8


@dataclass(frozen=True)
class NormalizationParams:
    """Everything needed to normalise raw intensities: scheme, statistics, clipping.

    ``mean``/``std`` are ``None`` until computed for image-statistics schemes.
    ``mask_zero``: nnU-Net's ``use_mask_for_norm``; statistics over non-zero voxels
    and zero voxels stay 0.
    """

    scheme: str
    mean: float | None = None
    std: float | None = None
    clip_low: float | None = None
    clip_high: float | None = None
    mask_zero: bool = False

    def __post_init__(self):
        if self.scheme not in SCHEMES:
            raise ValueError(f"unknown nnU-Net normalisation scheme {self.scheme!r}; known: {SCHEMES}")

    @property
    def needs_image_stats(self) -> bool:
        return self.scheme in ("nonCT", "CT2", "tissue_ratio")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def clip(self, x: np.ndarray) -> np.ndarray:
        if self.scheme in ("CT", "CT2"):
            return np.clip(x, self.clip_low, self.clip_high)
        return x

    def apply(self, x: np.ndarray) -> np.ndarray:
        """Normalise raw intensities (float32 out) with the stored statistics."""
        check_finite(x)
        x = np.asarray(x, dtype=np.float32)
        if self.scheme == "noNorm":
            return x
        if self.mean is None or self.std is None:
            raise ValueError(f"normalisation {self.scheme!r} has no statistics yet")
        y = self.clip(x)
        scale = self.std + EPS if self.scheme not in ("CT", "tissue_ratio") else self.std
        y = (y - np.float32(self.mean)) / np.float32(scale)
        if self.mask_zero:
            y = np.where(x != 0, y, np.float32(0))
        return y.astype(np.float32, copy=False)


class NonFiniteInputError(AxonsegError, ValueError):
    """The input volume holds NaN or Inf voxels (they would turn whole patches into NaN)."""


def check_finite(x: np.ndarray) -> None:
    """Raise :class:`NonFiniteInputError` if a float array holds NaN or Inf (integers always pass)."""
    x = np.asarray(x)
    if x.dtype.kind in "fc" and not np.isfinite(x).all():
        bad = int(x.size - np.count_nonzero(np.isfinite(x)))
        raise NonFiniteInputError(f"the input volume holds NaN or Inf voxels ({bad} in a region of shape "
                                  f"{tuple(x.shape)}); replace them (e.g. by 0) before predicting")


def check_finite_volume(volume_zyx, path) -> None:
    """For a float volume (a dask or numpy array): raise :class:`NonFiniteInputError` naming ``path``
    if any voxel is NaN or Inf. One extra read of float inputs; integer inputs cost nothing."""
    if np.dtype(volume_zyx.dtype).kind not in "fc":
        return
    import dask.array as da

    bad = int((~da.isfinite(da.asarray(volume_zyx))).sum().compute())
    if bad:
        raise NonFiniteInputError(f"{path}: {bad} NaN or Inf voxel(s) in the input volume; replace them "
                                  "(e.g. by 0) before predicting")


def per_patch_zscore(batch: np.ndarray, mask_zero: bool = False) -> np.ndarray:
    """z-score every patch of ``batch`` (N, 1, z, y, x) with its own mean and std.

    ``mask_zero`` (nnU-Net's ``use_mask_for_norm``, as :meth:`NormalizationParams.apply`): each
    patch's statistics over its non-zero voxels only, and zero voxels stay 0; a patch with no
    non-zero voxel is all 0.
    """
    check_finite(batch)
    b = np.asarray(batch, dtype=np.float32)
    axes = tuple(range(1, b.ndim))
    if not mask_zero:
        mean = b.mean(axis=axes, keepdims=True, dtype=np.float64)
        std = b.std(axis=axes, keepdims=True, dtype=np.float64)
        return ((b - mean) / (std + EPS)).astype(np.float32)
    inside = b != 0
    n = np.maximum(inside.sum(axis=axes, keepdims=True), 1)
    mean = np.where(inside, b, 0).sum(axis=axes, keepdims=True, dtype=np.float64) / n
    var = np.where(inside, (b - mean) ** 2, 0).sum(axis=axes, keepdims=True, dtype=np.float64) / n
    return np.where(inside, (b - mean) / (np.sqrt(var) + EPS), 0).astype(np.float32)


def _sample_regions(shape_zyx: tuple[int, ...], max_sample_voxels: int, cube_vox: int):
    total = int(np.prod(shape_zyx))
    if total <= max_sample_voxels:
        # every voxel, in pieces of at most 2**20 voxels (bounded memory whatever the shape)
        piece = list(shape_zyx)
        while int(np.prod(piece)) > 2 ** 20:
            ax = int(np.argmax(piece))
            piece[ax] = (piece[ax] + 1) // 2
        for z in range(0, shape_zyx[0], piece[0]):
            for y in range(0, shape_zyx[1], piece[1]):
                for x in range(0, shape_zyx[2], piece[2]):
                    yield (slice(z, z + piece[0]), slice(y, y + piece[1]), slice(x, x + piece[2]))
        return
    side = [min(cube_vox, s) for s in shape_zyx]
    n_cubes = max(1, max_sample_voxels // int(np.prod(side)))
    per_axis = max(1, int(round(n_cubes ** (1 / 3))))
    grids = [np.unique(np.linspace(0, s - c, per_axis).round().astype(int)) for s, c in zip(shape_zyx, side)]
    for z in grids[0]:
        for y in grids[1]:
            for x in grids[2]:
                yield (slice(z, z + side[0]), slice(y, y + side[1]), slice(x, x + side[2]))


def _stats_reader(source):
    """The volume to read: ``source`` itself, or a ``(path, dataset)`` pair opened once per process."""
    if not isinstance(source, tuple):
        return source
    from axonseg.io import cached_region_reader

    return cached_region_reader(*source)


def _stats_load(source, regions, index: int) -> np.ndarray:
    raw = np.asarray(_stats_reader(source)[regions[index]])
    check_finite(raw)
    return raw


def _stats_compute(params: NormalizationParams, index: int, raw: np.ndarray, progress) -> tuple[int, int, float, float]:
    x = params.clip(raw.astype(np.float64))
    if params.mask_zero:
        x = x[raw != 0]
    return index, int(x.size), float(x.sum()), float(np.square(x).sum())


def _stats_store(index: int, computed):
    return computed


def _stats_not_done(index: int) -> bool:
    return False


def image_statistics(volume_zyx, params: NormalizationParams, max_sample_voxels: int = 2 ** 27,
                     cube_vox: int = 64, runner: str = "serial", scheduler_address: str | None = None,
                     workers: int = 2) -> tuple[float, float, int]:
    """Mean and std of a whole volume for ``params``' scheme, reading bounded pieces on the block engine.

    Exact over every voxel when the volume has at most ``max_sample_voxels`` voxels;
    otherwise over cubes of ``cube_vox``^3 on a regular grid (deterministic). The pieces'
    sums are added in piece order, so the serial and the Dask runner (``runner="dask"``;
    ``volume_zyx`` must then be a ``(path, dataset)`` pair that workers open) give the same
    numbers to the last bit.

    Returns
    -------
    (mean, std, number of voxels used)
    """
    import functools

    from axonseg.engine import Block, BlockTask, Region, run_dask, run_serial

    shape = tuple(_stats_reader(volume_zyx).shape)
    regions = list(_sample_regions(shape, max_sample_voxels, cube_vox))
    blocks = tuple(Block(i, Region([s.start for s in sl], [min(s.stop, n) for s, n in zip(sl, shape)]))
                   for i, sl in enumerate(regions))
    task = BlockTask("statistics", blocks, compute=functools.partial(_stats_compute, params),
                     store=_stats_store, is_done=_stats_not_done,
                     load=functools.partial(_stats_load, volume_zyx, regions))
    sums: dict[int, tuple[int, float, float]] = {}

    def done(result) -> None:
        sums[result[0]] = result[1:]

    if runner == "dask":
        if not isinstance(volume_zyx, tuple):
            raise ValueError("statistics on Dask need the input as (path, dataset), not an open volume")
        run_dask(task, range(len(blocks)), done, scheduler_address, workers)
    else:
        run_serial(task, range(len(blocks)), done)
    n, s1, s2 = 0, 0.0, 0.0
    for i in range(len(blocks)):
        n += sums[i][0]
        s1 += sums[i][1]
        s2 += sums[i][2]
    if n == 0:
        raise ValueError("no voxels to compute normalisation statistics from (all zero?)")
    mean = s1 / n
    var = max(s2 / n - mean * mean, 0.0)
    return mean, float(np.sqrt(var)), n


def with_image_statistics(volume_zyx, params: NormalizationParams, max_sample_voxels: int = 2 ** 27,
                          runner: str = "serial", scheduler_address: str | None = None,
                          workers: int = 2) -> NormalizationParams:
    """``params`` with mean/std filled in from the volume when its scheme needs them (see
    :func:`image_statistics` for ``runner``)."""
    if not params.needs_image_stats:
        return params
    if params.scheme == "tissue_ratio":
        from axonseg.inference.tissue import automatic_threshold, low_resolution_view

        view = low_resolution_view(_stats_reader(volume_zyx), TISSUE_CELL_VOX)
        return tissue_ratio_params(view, automatic_threshold(view))
    mean, std, n = image_statistics(volume_zyx, params, max_sample_voxels, runner=runner,
                                    scheduler_address=scheduler_address, workers=workers)
    logger.info("whole-volume z-score statistics from %d voxels: mean %.4g, std %.4g", n, mean, std)
    return NormalizationParams(params.scheme, mean, std, params.clip_low, params.clip_high, params.mask_zero)


def tissue_level(view: np.ndarray, threshold: float | None) -> float:
    """The tissue level ``m`` of ``tissue_ratio``: the median of the low-resolution ``view``'s cells
    above ``threshold`` (all cells when ``None``).

    An all-zero volume has level 1 (it stays all zero). A level <= 0 with non-zero voxels
    (background-subtracted or signed data) is refused: ratios to it mean nothing.
    """
    cells = np.asarray(view, dtype=np.float64).ravel()
    if cells.size == 0 or not np.any(cells):
        return 1.0
    tissue = cells[cells > threshold] if threshold is not None else cells
    if tissue.size == 0:  # a user threshold above every cell: no tissue will be computed anyway
        tissue = cells
    m = float(np.median(tissue))
    if not np.isfinite(m) or m <= 0:
        raise ValueError(f"the input's tissue level (median cell mean {m:.4g}) is not positive: the model's "
                         "'tissue_ratio' normalisation needs raw, non-negative intensities (not "
                         "background-subtracted or signed data)")
    return m


def tissue_ratio_params(view: np.ndarray, threshold: float | None) -> NormalizationParams:
    """``tissue_ratio`` parameters of a volume from its low-resolution view (see :func:`tissue_level`)."""
    return NormalizationParams("tissue_ratio", 0.0, tissue_level(view, threshold))
