"""The global patch lattice: nnU-Net v1's padding, step rule and Gaussian importance map.

One lattice covers the whole (padded) volume. Every block of the output is computed
from exactly the lattice patches that overlap it, so block-wise prediction equals one
sliding window over the whole volume. The step rule and the Gaussian are nnU-Net v1's
own functions (``SegmentationNetwork._compute_steps_for_sliding_window`` and
``_get_gaussian``), called, not copied.
"""
from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from functools import lru_cache

import numpy as np


def _segmentation_network():
    # nnU-Net prints a citation banner on first import; keep it off our stdout.
    with contextlib.redirect_stdout(io.StringIO()):
        from nnunet.network_architecture.neural_network import SegmentationNetwork
    return SegmentationNetwork


@lru_cache(maxsize=8)
def _gaussian_cached(patch_size_zyx: tuple[int, ...], sigma_scale: float) -> np.ndarray:
    g = _segmentation_network()._get_gaussian(np.array(patch_size_zyx), sigma_scale=sigma_scale)
    g = np.ascontiguousarray(g, dtype=np.float32)
    g.setflags(write=False)
    return g


def gaussian_importance_map(patch_size_zyx: tuple[int, ...], sigma_scale: float = 1.0 / 8) -> np.ndarray:
    """nnU-Net v1's Gaussian importance map for a patch (float32, max 1, no zeros; read-only)."""
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
    steps = _segmentation_network()._compute_steps_for_sliding_window(patch, padded, step_fraction)
    return PatchLattice(shape, patch, pad, tuple(tuple(int(s) for s in st) for st in steps))
