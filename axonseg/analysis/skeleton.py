"""Post-processing: threshold -> remove small components -> 3-D skeleton -> axon length in µm.

Length rule (hand-written rather than skan, which pulls in numba for one sum): the skeleton is
a graph whose nodes are skeleton voxels and whose edges join 26-neighbours, each edge weighted
by its physical length ``sqrt((dz*sz)^2 + (dy*sy)^2 + (dx*sx)^2)`` with the anisotropic voxel
size (sz, sy, sx) in µm. Digital skeletons contain small triangles at corners (a diagonal edge
beside two axial ones); counting every edge would count such corners twice. We therefore sum
the edges of the graph's minimum spanning forest (scipy), which keeps the two shorter sides of
each triangle and each edge exactly once. Straight and diagonal lines are exact; a true loop
in the axons loses one edge (at most a few µm).

Per-voxel length: each kept edge's length is split equally between its two end voxels, so the
length inside any region (a block, a density cell, an atlas region) is the sum over the
region's voxels, and regions add up to the total.
"""
from __future__ import annotations

import logging
from typing import Sequence

import numpy as np
from scipy import ndimage, sparse
from scipy.sparse import csgraph

from axonseg.analysis.metrics import binarize, skeleton

logger = logging.getLogger(__name__)

# the 13 "forward" neighbour offsets of the 26-neighbourhood: each edge is found once
OFFSETS = [(dz, dy, dx) for dz in (-1, 0, 1) for dy in (-1, 0, 1) for dx in (-1, 0, 1)
           if (dz, dy, dx) > (0, 0, 0)]


def remove_small_components(mask: np.ndarray, min_voxels: int) -> np.ndarray:
    """A new boolean 3-D mask without the 26-connected components of fewer than ``min_voxels`` voxels.

    The one such function (rough labels, fine labels and density's post-processing use it).
    """
    mask = np.asarray(mask, dtype=bool)
    if mask.ndim != 3:
        raise ValueError(f"mask must be 3-D, got shape {mask.shape}")
    if min_voxels <= 1 or not mask.any():
        return mask.copy()
    labels, n = ndimage.label(mask, structure=np.ones((3, 3, 3), dtype=bool))
    sizes = np.bincount(labels.ravel(), minlength=n + 1)
    keep = sizes >= min_voxels
    keep[0] = False
    logger.debug("removed %d of %d components", int(n - keep[1:].sum()), n)
    return keep[labels]


def postprocess(volume: np.ndarray, threshold: float | None = 0.5,
                min_component_vox: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Mask and skeleton of a probability map (uint8 0-255, float) or mask.

    Returns
    -------
    mask, skeleton
        Booleans of ``volume``'s shape: thresholded (``p >= threshold``) with small
        components removed, and its 3-D skeleton (scikit-image).
    """
    mask = remove_small_components(binarize(volume, threshold), min_component_vox)
    return mask, skeleton(mask)


def skeleton_graph(skel: np.ndarray, voxel_size_um: Sequence[float]) -> sparse.csr_matrix:
    """Minimum spanning forest of the 26-neighbour graph of ``skel`` (nodes: ``argwhere`` order)."""
    skel = np.asarray(skel, bool)
    coords = np.argwhere(skel)
    n = len(coords)
    if n == 0:
        return sparse.csr_matrix((0, 0))
    index = np.full(np.array(skel.shape) + 2, -1, np.int64)  # padded: no wrap-around at edges
    index[tuple((coords + 1).T)] = np.arange(n)
    spacing = np.asarray(voxel_size_um, float)
    rows, cols, weights = [], [], []
    for off in OFFSETS:
        nb = index[tuple((coords + 1 + np.array(off)).T)]
        has = nb >= 0
        rows.append(np.nonzero(has)[0])
        cols.append(nb[has])
        weights.append(np.full(int(has.sum()), np.linalg.norm(np.array(off) * spacing)))
    graph = sparse.coo_matrix((np.concatenate(weights), (np.concatenate(rows), np.concatenate(cols))),
                              shape=(n, n)).tocsr()
    return csgraph.minimum_spanning_tree(graph).tocsr()


def voxel_lengths_um(skel: np.ndarray, voxel_size_um: Sequence[float]) -> np.ndarray:
    """Skeleton length (µm) attributed to each voxel: half of each incident spanning-forest edge."""
    skel = np.asarray(skel, bool)
    out = np.zeros(skel.shape, np.float64)
    tree = skeleton_graph(skel, voxel_size_um).tocoo()
    if tree.nnz == 0:
        return out
    per_node = np.bincount(tree.row, tree.data / 2, len(np.argwhere(skel)))
    per_node += np.bincount(tree.col, tree.data / 2, len(per_node))
    out[skel] = per_node  # boolean indexing follows argwhere's (C) order
    return out


def skeleton_length_um(skel: np.ndarray, voxel_size_um: Sequence[float]) -> float:
    """Total length (µm) of a skeleton with anisotropic voxel size (z, y, x) in µm."""
    return float(skeleton_graph(skel, voxel_size_um).sum())


def length_by_label(skel: np.ndarray, labels: np.ndarray,
                    voxel_size_um: Sequence[float]) -> dict[int, float]:
    """Skeleton length (µm) per label id of ``labels`` (same shape, e.g. atlas regions or blocks)."""
    if np.shape(labels) != np.shape(skel):
        raise ValueError(f"labels shape {np.shape(labels)} differs from skeleton shape {np.shape(skel)}")
    per_voxel = voxel_lengths_um(skel, voxel_size_um)
    ids, inverse = np.unique(np.asarray(labels), return_inverse=True)
    sums = np.bincount(inverse.ravel(), per_voxel.ravel(), len(ids))
    return {int(i): float(s) for i, s in zip(ids, sums) if s > 0}


def length_per_block(skel: np.ndarray, block_zyx: Sequence[int],
                     voxel_size_um: Sequence[float]) -> np.ndarray:
    """Skeleton length (µm) per block of ``block_zyx`` voxels (grid shape ``ceil(shape / block)``)."""
    per_voxel = voxel_lengths_um(skel, voxel_size_um)
    return sum_per_cell(per_voxel, block_zyx)


def sum_per_cell(values: np.ndarray, cell_zyx: Sequence[int]) -> np.ndarray:
    """Sum of ``values`` over cells of ``cell_zyx`` voxels; partial cells at the far edges kept."""
    values = np.asarray(values)
    cell = tuple(int(c) for c in cell_zyx)
    grid = tuple(-(-s // c) for s, c in zip(values.shape, cell))
    padded = np.zeros(tuple(g * c for g, c in zip(grid, cell)), np.float64)
    padded[tuple(slice(0, s) for s in values.shape)] = values
    return padded.reshape(grid[0], cell[0], grid[1], cell[1], grid[2], cell[2]).sum(axis=(1, 3, 5))


def to_swc(skel: np.ndarray, voxel_size_um: Sequence[float],
           origin_um: Sequence[float] = (0.0, 0.0, 0.0)) -> str:
    """SWC text of the skeleton's spanning forest: one tree per connected component.

    Columns ``id type x y z radius parent`` with coordinates in µm (x, y, z as SWC expects),
    type 0 (undefined), radius = the smallest voxel side / 2, parent -1 at each tree's root.
    """
    coords = np.argwhere(np.asarray(skel, bool))
    tree = skeleton_graph(skel, voxel_size_um)
    sym = tree + tree.T
    spacing = np.asarray(voxel_size_um, float)
    pos_um = coords * spacing + np.asarray(origin_um, float)
    radius = float(spacing.min()) / 2
    lines = ["# SWC written by axonseg (minimum spanning forest of the 26-neighbour skeleton)",
             "# id type x y z radius parent  (µm)"]
    seen = np.zeros(len(coords), bool)
    swc_id = np.zeros(len(coords), np.int64)
    next_id = 1
    for root in range(len(coords)):
        if seen[root]:
            continue
        order, pred = csgraph.breadth_first_order(sym, root, directed=False)
        for node in order:
            seen[node] = True
            swc_id[node] = next_id
            next_id += 1
            parent = -1 if pred[node] < 0 else int(swc_id[pred[node]])
            z, y, x = pos_um[node]
            lines.append(f"{swc_id[node]} 0 {x:.3f} {y:.3f} {z:.3f} {radius:.3f} {parent}")
    return "\n".join(lines) + "\n"
