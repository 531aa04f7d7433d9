"""Cutmix: paste a random box of an artifact cube into an axon patch, label 0 inside the box.

Teaches the network that bright artifacts (tissue edges, blood vessels, debris) are not axons.
D-LMBmap always pasted at the corner and indexed one past the end of its artifact list; here
the box size, the source position in the artifact cube and the target position in the patch
are all uniform random, with every index inside its array.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Box:
    """A box: ``size_zyx`` voxels starting at ``src_zyx`` (artifact) pasted at ``dst_zyx`` (patch)."""

    size_zyx: tuple[int, int, int]
    src_zyx: tuple[int, int, int]
    dst_zyx: tuple[int, int, int]

    def src(self) -> tuple[slice, ...]:
        return tuple(slice(s, s + n) for s, n in zip(self.src_zyx, self.size_zyx))

    def dst(self) -> tuple[slice, ...]:
        return tuple(slice(d, d + n) for d, n in zip(self.dst_zyx, self.size_zyx))


def random_box(patch_shape_zyx, artifact_shape_zyx, rng: np.random.Generator,
               min_fraction: float = 0.2, max_fraction: float = 0.5) -> Box:
    """Draw a box whose edges are ``min_fraction``..``max_fraction`` of the patch edges.

    Every edge is at least 1 and at most the smaller of the patch and artifact edges, and both
    positions are drawn so the box lies wholly inside the artifact cube and the patch.
    """
    if not 0 < min_fraction <= max_fraction <= 1:
        raise ValueError(f"need 0 < min_fraction <= max_fraction <= 1, got {min_fraction}, {max_fraction}")
    size, src, dst = [], [], []
    for p, a in zip(patch_shape_zyx, artifact_shape_zyx):
        hi_edge = min(max(1, int(round(max_fraction * p))), p, a)
        lo_edge = min(max(1, int(round(min_fraction * p))), hi_edge)
        n = int(rng.integers(lo_edge, hi_edge + 1))
        size.append(n)
        src.append(int(rng.integers(0, a - n + 1)))
        dst.append(int(rng.integers(0, p - n + 1)))
    return Box(tuple(size), tuple(src), tuple(dst))


def cutmix(image: np.ndarray, label: np.ndarray, artifact: np.ndarray, box: Box
           ) -> tuple[np.ndarray, np.ndarray]:
    """Paste ``artifact[box.src()]`` into a copy of ``image`` at ``box.dst()``; label 0 there."""
    if image.shape != label.shape:
        raise ValueError(f"image {image.shape} and label {label.shape} differ in shape")
    image = np.array(image, copy=True)
    label = np.array(label, copy=True)
    image[box.dst()] = artifact[box.src()]
    label[box.dst()] = 0
    return image, label


def choose_artifact(n_artifacts: int, rng: np.random.Generator) -> int:
    """Index of a random artifact cube in ``range(n_artifacts)`` (never past the end)."""
    if n_artifacts < 1:
        raise ValueError("cutmix needs at least one artifact cube")
    return int(rng.integers(0, n_artifacts))
