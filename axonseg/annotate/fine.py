"""Fine (skeleton) labels: the 3-D skeleton of a cleaned rough mask, dilated by one voxel.

This is how D-LMBmap made its shipped Fine labels: remove 26-connected components under 10
voxels from the Rough mask, skeletonize in 3-D (``skimage.morphology.skeletonize``), dilate
once with the 6-neighbourhood. Recomputed this way from the shipped Rough labels it gives the
shipped Fine labels voxel for voxel.
"""
from __future__ import annotations

import logging

import numpy as np
from scipy import ndimage as ndi
from skimage.morphology import skeletonize

from axonseg.annotate.rough import remove_small_components

logger = logging.getLogger(__name__)


def fine_labels(rough: np.ndarray, min_component_voxels: int = 10) -> np.ndarray:
    """Skeleton labels from a rough mask.

    Parameters
    ----------
    rough
        3-D mask (z, y, x); any non-zero voxel is foreground (so {0, 1} and {0, 255} both work).
    min_component_voxels
        26-connected components of ``rough`` smaller than this are removed first.

    Returns
    -------
    np.ndarray
        Boolean mask: the 6-neighbour dilation of the 3-D skeleton.
    """
    rough = np.asarray(rough)
    if rough.ndim != 3:
        raise ValueError(f"rough mask must be 3-D (z, y, x), got shape {rough.shape}")
    cleaned = remove_small_components(rough != 0, min_component_voxels)
    skeleton = skeletonize(cleaned) > 0
    six = ndi.generate_binary_structure(3, 1)
    return ndi.binary_dilation(skeleton, structure=six)
