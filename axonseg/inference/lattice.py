"""The global patch lattice: nnU-Net v1's padding, step rule and Gaussian importance map.

One lattice covers the whole (padded) volume. Every block of the output is computed
from exactly the lattice patches that overlap it, so block-wise prediction equals one
sliding window over the whole volume. The step rule (:func:`sliding_window_starts`) and
the Gaussian (:func:`gaussian_importance_map`) are our own code, written to nnU-Net v1's
rules (``SegmentationNetwork._compute_steps_for_sliding_window`` and ``_get_gaussian``);
the tests compare them with nnU-Net's on random shapes instead of calling its private methods.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.ndimage import gaussian_filter


def sliding_window_starts(patch: int, size: int, step_fraction: float) -> tuple[int, ...]:
    """Patch starts along one axis of length ``size`` (>= ``patch``): nnU-Net v1's rule.

    The target step is ``patch * step_fraction``; the number of patches is the fewest at that
    step that cover the axis, ``ceil((size - patch) / step) + 1``; they are then spread evenly
    from 0 to ``size - patch`` and rounded half to even (numpy's ``round``).
    """
    if size < patch:
        raise ValueError(f"axis of {size} voxels is shorter than the patch ({patch}); pad it first")
    n = int(math.ceil((size - patch) / (patch * step_fraction))) + 1
    if n == 1:
        return (0,)
    step = (size - patch) / (n - 1)
    return tuple(int(np.round(step * i)) for i in range(n))


@lru_cache(maxsize=8)
def _gaussian_cached(patch_size_zyx: tuple[int, ...], sigma_scale: float) -> np.ndarray:
    delta = np.zeros(patch_size_zyx)
    delta[tuple(p // 2 for p in patch_size_zyx)] = 1
    g = gaussian_filter(delta, [p * sigma_scale for p in patch_size_zyx], 0, mode="constant", cval=0)
    g = (g / np.max(g)).astype(np.float32)
    g[g == 0] = np.min(g[g != 0])  # no zero weights: the weight sum divides
    g = np.ascontiguousarray(g)
    g.setflags(write=False)
    return g


def gaussian_importance_map(patch_size_zyx: tuple[int, ...], sigma_scale: float = 1.0 / 8) -> np.ndarray:
    """nnU-Net v1's Gaussian importance map for a patch: a unit impulse at ``patch // 2`` blurred
    with sigma = ``patch * sigma_scale`` (zero boundary), scaled to max 1, float32, zeros raised
    to the smallest non-zero weight; read-only."""
    return _gaussian_cached(tuple(int(p) for p in patch_size_zyx), float(sigma_scale))


def pad_amounts(shape_zyx: tuple[int, ...], patch_size_zyx: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
    """(below, above) zero padding per axis so the volume is at least one patch, centred as nnU-Net's
    ``pad_nd_image`` does (``below = d // 2``, ``above = d - d // 2``)."""
    out = []
    for s, p in zip(shape_zyx, patch_size_zyx):
        d = max(int(p) - int(s), 0)
        out.append((d // 2, d // 2 + d % 2))
    return tuple(out)


@dataclass(frozen=True)
class PatchLattice:
    """Patch positions over the whole padded volume.

    Attributes
    ----------
    shape_zyx
        Shape of the (unpadded) volume.
    patch_size_zyx
        Network patch size.
    pad_zyx
        (below, above) zero padding per axis, applied after normalisation, as nnU-Net does.
    starts_zyx
        Patch start coordinates per axis, in padded coordinates.
    """

    shape_zyx: tuple[int, int, int]
    patch_size_zyx: tuple[int, int, int]
    pad_zyx: tuple[tuple[int, int], ...]
    starts_zyx: tuple[tuple[int, ...], ...]

    @property
    def padded_shape_zyx(self) -> tuple[int, ...]:
        return tuple(s + b + a for s, (b, a) in zip(self.shape_zyx, self.pad_zyx))

    @property
    def num_patches(self) -> int:
        return int(np.prod([len(s) for s in self.starts_zyx]))

    def starts_overlapping(self, axis: int, lo: int, hi: int) -> tuple[int, ...]:
        """Patch starts on ``axis`` whose patch overlaps padded range ``[lo, hi)``."""
        p = self.patch_size_zyx[axis]
        return tuple(s for s in self.starts_zyx[axis] if s < hi and s + p > lo)


def build_lattice(shape_zyx: tuple[int, ...], patch_size_zyx: tuple[int, ...],
                  step_fraction: float = 0.5) -> PatchLattice:
    """The global lattice of nnU-Net v1's sliding window for a volume of ``shape_zyx``.

    Parameters
    ----------
    shape_zyx
        Volume shape (z, y, x).
    patch_size_zyx
        Network patch size (z, y, x).
    step_fraction
        Step between patches as a fraction of the patch size (nnU-Net's ``step_size``,
        0 < step <= 1; nnU-Net's default 0.5).
    """
    if not 0 < step_fraction <= 1:
        raise ValueError(f"step_fraction must be in (0, 1], got {step_fraction}")
    shape = tuple(int(s) for s in shape_zyx)
    patch = tuple(int(p) for p in patch_size_zyx)
    if len(shape) != 3 or len(patch) != 3 or min(shape) < 1 or min(patch) < 1:
        raise ValueError(f"need 3-D shapes, got volume {shape} and patch {patch}")
    pad = pad_amounts(shape, patch)
    padded = tuple(s + b + a for s, (b, a) in zip(shape, pad))
    steps = tuple(sliding_window_starts(p, n, step_fraction) for p, n in zip(patch, padded))
    return PatchLattice(shape, patch, pad, steps)
