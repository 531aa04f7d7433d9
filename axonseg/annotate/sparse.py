"""Sparse annotations: a few labelled slices of a cube, every other voxel "not annotated" (255).

Training with ``AxonsegTrainerV2*`` ignores label 255 (``axonseg.nnunet_v1.sparse_loss``), so a
user labels a few slices instead of every voxel. Label conventions read here:

==========  ===========================================================================
``paint``   napari Labels layer painted on a few slices, TrailMap's convention:
            0 not annotated, 1 background, 2 axon, 3 artifact (background), 4 edge band
            around an axon (not annotated: its voxels are neither clearly axon nor clearly
            background). ``trailmap`` is the same mapping.
``binary``  a fully annotated mask: 0 background, anything else axon (D-LMBmap's 0/255).
==========  ===========================================================================
"""
from __future__ import annotations

import numpy as np

from axonseg.nnunet_v1.sparse_loss import IGNORE_LABEL

_PAINT = {0: IGNORE_LABEL, 1: 0, 2: 1, 3: 0, 4: IGNORE_LABEL}
CONVENTIONS = ("paint", "trailmap", "binary")


def to_training_labels(labels: np.ndarray, convention: str, source: str = "labels") -> np.ndarray:
    """``labels`` in ``convention`` -> uint8 0 background / 1 axon / 255 not annotated."""
    a = np.asarray(labels)
    if convention == "binary":
        return (a != 0).astype(np.uint8)
    if convention not in CONVENTIONS:
        raise ValueError(f"unknown label convention {convention!r}; known: {', '.join(CONVENTIONS)}")
    values = np.unique(a)
    unknown = [v for v in values.tolist() if v not in _PAINT]
    if unknown:
        raise ValueError(f"{source}: label values {unknown[:8]} are not in the {convention} convention "
                         "(0 not annotated, 1 background, 2 axon, 3 artifact, 4 edge band)")
    lut = np.full(int(values.max()) + 1, IGNORE_LABEL, np.uint8)
    for k, v in _PAINT.items():
        if k < lut.size:
            lut[k] = v
    return lut[a.astype(np.int64)]


def keep_slices(labels01: np.ndarray, every: int, offset: int | None = None, axis: int = 0) -> np.ndarray:
    """Only every ``every``-th slice along ``axis`` stays annotated (from ``offset``, default
    ``every // 2``); all other voxels become 255. Simulates a user who labelled a few slices."""
    if every < 1:
        raise ValueError(f"slices every must be >= 1, got {every}")
    out = np.full(labels01.shape, IGNORE_LABEL, np.uint8)
    idx = [slice(None)] * labels01.ndim
    idx[axis] = slice(every // 2 if offset is None else offset, None, every)
    out[tuple(idx)] = np.asarray(labels01, np.uint8)[tuple(idx)]
    return out


def annotated_fraction(labels: np.ndarray) -> float:
    """Fraction of voxels that are annotated (not 255)."""
    return float(np.mean(np.asarray(labels) != IGNORE_LABEL))


def paint_slices_from_labels(labels01: np.ndarray, every: int) -> np.ndarray:
    """What a user paints in napari on every ``every``-th z-slice of a cube, from a dense 0/1 mask:
    2 (axon) and 1 (background) on those slices, 0 (not annotated) elsewhere (``paint`` convention)."""
    sparse = keep_slices(np.asarray(labels01) > 0, every)
    return np.where(sparse == IGNORE_LABEL, 0, np.where(sparse == 1, 2, 1)).astype(np.uint8)
