"""The block predictor: Gaussian-weighted stitching of lattice patches into one output block.

``predict_patches(batch) -> probabilities`` is any callable (the network, or
``lambda x: ...`` in tests): batch ``(N, 1, z, y, x)`` float32 in, softmax
probabilities ``(N, C, z, y, x)`` out. Patches are added in nnU-Net's order (z, then
y, then x), so a block gives the voxels of one whole-volume sliding window.
"""
from __future__ import annotations

import itertools
import logging
from typing import Callable, Sequence

import numpy as np

from axonseg.inference.blocks import Block, ReadPlan
from axonseg.inference.lattice import PatchLattice, gaussian_importance_map

logger = logging.getLogger(__name__)

PredictPatches = Callable[[np.ndarray], np.ndarray]


def read_padded_region(volume_zyx, lattice: PatchLattice, plan: ReadPlan,
                       transform: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
    """Read ``plan``'s region from ``volume_zyx`` as float32, zero-padded outside the volume.

    ``volume_zyx`` is anything sliceable (numpy, zarr, dask). ``transform`` (e.g. the
    global z-score) is applied to the voxels inside the volume before the zero padding,
    as nnU-Net pads the normalised image with zeros.
    """
    shape = tuple(b - a for a, b in zip(plan.read_start_zyx, plan.read_stop_zyx))
    src, dst = [], []
    for ax in range(3):
        pb = lattice.pad_zyx[ax][0]
        lo, hi = plan.read_start_zyx[ax] - pb, plan.read_stop_zyx[ax] - pb
        a, b = max(lo, 0), min(hi, lattice.shape_zyx[ax])
        src.append(slice(a, b))
        dst.append(slice(a - lo, b - lo))
    data = np.asarray(volume_zyx[tuple(src)], dtype=np.float32)
    if transform is not None:
        data = np.asarray(transform(data), dtype=np.float32)
    if data.shape == shape:
        return np.ascontiguousarray(data)
    out = np.zeros(shape, dtype=np.float32)
    out[tuple(dst)] = data
    return out


def predict_block(region: np.ndarray, block: Block, plan: ReadPlan, lattice: PatchLattice,
                  predict_patches: PredictPatches, batch_size: int = 2,
                  classes: Sequence[int] | None = None,
                  patch_transform: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
    """Probabilities of ``block``'s write region from the lattice patches overlapping it.

    Parameters
    ----------
    region
        Input of the read region (``read_padded_region``), float32, shape of the plan.
    block, plan, lattice
        The block, its :func:`~axonseg.inference.blocks.read_plan`, the global lattice.
    predict_patches
        ``(N, 1, z, y, x) float32 -> (N, C, z, y, x)`` softmax probabilities.
    batch_size
        Patches per call of ``predict_patches``.
    classes
        Output channels to keep (default all).
    patch_transform
        Applied to each batch of patches before ``predict_patches`` (per-patch
        normalisation); ``None`` when the region is already normalised.

    Returns
    -------
    np.ndarray
        float32 ``(len(classes), *block.shape_zyx)``.
    """
    read_shape = tuple(b - a for a, b in zip(plan.read_start_zyx, plan.read_stop_zyx))
    if region.shape != read_shape:
        raise ValueError(f"region has shape {region.shape}, the read plan needs {read_shape}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    patch = lattice.patch_size_zyx
    # nnU-Net uses no weighting when the whole image is a single patch.
    weight = (gaussian_importance_map(patch) if lattice.num_patches > 1
              else np.ones(patch, dtype=np.float32))
    positions = list(itertools.product(*plan.starts_zyx))
    num = None
    den = np.zeros(read_shape, dtype=np.float32)
    for first in range(0, len(positions), batch_size):
        batch_pos = positions[first:first + batch_size]
        local = [tuple(slice(s - r, s - r + p) for s, r, p in zip(pos, plan.read_start_zyx, patch))
                 for pos in batch_pos]
        x = np.stack([region[sl] for sl in local])[:, None]
        if patch_transform is not None:
            x = np.asarray(patch_transform(x), dtype=np.float32)
        y = np.asarray(predict_patches(x))
        if y.ndim != 5 or y.shape[0] != len(batch_pos) or y.shape[2:] != tuple(patch):
            raise ValueError(f"predict_patches returned shape {y.shape} for a batch of shape {x.shape}")
        if classes is not None:
            y = y[:, list(classes)]
        if num is None:
            num = np.zeros((y.shape[1],) + read_shape, dtype=np.float32)
        for sl, yi in zip(local, y):
            num[(slice(None),) + sl] += yi.astype(np.float32, copy=False) * weight
            den[sl] += weight
    out_sl = tuple(slice(w0 + pb - r, w1 + pb - r) for w0, w1, (pb, _), r in
                   zip(block.write_start_zyx, block.write_stop_zyx, lattice.pad_zyx, plan.read_start_zyx))
    return num[(slice(None),) + out_sl] / den[out_sl]
