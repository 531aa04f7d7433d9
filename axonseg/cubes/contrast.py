"""Local contrast augmentation near labelled axons ("weaken" or "enhance").

Within ``radius_vox`` voxels (Euclidean) of any labelled voxel, intensities are pulled
towards (``factor`` < 1, "weaken": dim axons, as D-LMBmap intended) or pushed away from
(``factor`` > 1, "enhance") the patch's background level ``b`` (the median of the voxels
outside that neighbourhood):

    out = b + factor * (image - b)    near axons;    out = image    elsewhere.

D-LMBmap's version never ran: it looked for label 255 after labels had become {0, 1}, and a
bare ``except`` hid the error.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

CONTRAST_MODES = ("weaken", "enhance")


def axon_neighbourhood(label: np.ndarray, radius_vox: float) -> np.ndarray:
    """Voxels within ``radius_vox`` (Euclidean, voxels) of a labelled voxel."""
    fg = np.asarray(label) != 0
    if radius_vox <= 0 or not fg.any():
        return fg
    r = int(np.floor(radius_vox))
    zz, yy, xx = np.mgrid[-r:r + 1, -r:r + 1, -r:r + 1]
    ball = zz ** 2 + yy ** 2 + xx ** 2 <= radius_vox ** 2
    return ndi.binary_dilation(fg, structure=ball)


def local_contrast(image: np.ndarray, label: np.ndarray, mode: str = "weaken",
                   factor: float = 0.5, radius_vox: float = 2.0) -> np.ndarray:
    """Change the contrast of ``image`` near labelled axons only.

    Parameters
    ----------
    image, label
        3-D arrays of the same shape (label: non-zero = axon).
    mode
        ``"weaken"`` needs ``0 <= factor < 1``; ``"enhance"`` needs ``factor > 1``.
    factor
        Contrast factor relative to the background level (see the module docstring).
    radius_vox
        Neighbourhood radius around labelled voxels, in voxels.

    Returns
    -------
    np.ndarray
        float32 copy of ``image``; unchanged outside the neighbourhood.
    """
    if mode not in CONTRAST_MODES:
        raise ValueError(f"mode must be one of {CONTRAST_MODES}, got {mode!r}")
    if mode == "weaken" and not 0 <= factor < 1:
        raise ValueError(f"'weaken' needs 0 <= factor < 1, got {factor}")
    if mode == "enhance" and not factor > 1:
        raise ValueError(f"'enhance' needs factor > 1, got {factor}")
    image = np.asarray(image, dtype=np.float32)
    if image.shape != np.shape(label):
        raise ValueError(f"image {image.shape} and label {np.shape(label)} differ in shape")
    near = axon_neighbourhood(label, radius_vox)
    out = image.copy()
    if not near.any() or near.all():
        return out
    background = np.float32(np.median(image[~near]))
    out[near] = background + np.float32(factor) * (image[near] - background)
    return out
