"""Random training crops: position, small affine, rot90 and flips; per-crop normalisation.

A crop is a ``patch_zyx`` window at a uniform random position inside the cube. With
probability ``affine_probability`` it is resampled through a small random rotation (each of
the three angles uniform in +-``max_angle_deg``, in physical space so anisotropic voxels stay
right) and isotropic scale (uniform in ``scale_range``) about its centre: image linear, label
nearest, both with the same mirrored border. Then rot90 (only in planes whose two voxel
spacings are equal) and a flip of each axis with probability 1/2.

Normalisation (:func:`normalise_crop`): clip each crop to its own ``low_pct``/``high_pct``
percentiles and scale to [0, 1], float32. create_data's default (0, 100) is a plain linear
rescale that nnU-Net's per-case z-score undoes, so training sees what inference sees.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi
from axonseg.settings import SettingsBase


@dataclass(frozen=True)
class CropAugmentSettings(SettingsBase):
    """Geometric augmentation of one crop. Angles in degrees, sizes in voxels."""

    patch_zyx: tuple[int, int, int]
    spacing_zyx: tuple[float, float, float] = (1.0, 1.0, 1.0)
    rotate90: bool = True
    flip: bool = True
    affine_probability: float = 0.5
    max_angle_deg: float = 10.0
    scale_range: tuple[float, float] = (0.9, 1.1)


def _rotation(angles_rad: np.ndarray) -> np.ndarray:
    a, b, c = angles_rad
    rz = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    ry = np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
    rx = np.array([[np.cos(c), -np.sin(c), 0], [np.sin(c), np.cos(c), 0], [0, 0, 1]])
    return rz @ ry @ rx


def rot90_planes(spacing_zyx) -> list[tuple[int, int]]:
    """Axis pairs in which a 90-degree rotation keeps the voxel grid (equal spacings)."""
    pairs = [(1, 2), (0, 1), (0, 2)]
    return [(i, j) for i, j in pairs if np.isclose(spacing_zyx[i], spacing_zyx[j])]


def random_crop(image: np.ndarray, label: np.ndarray, settings: CropAugmentSettings,
                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One augmented crop of ``image`` (float32) and ``label`` (uint8) of size ``patch_zyx``.

    Raises ValueError if the cube is smaller than the patch on any axis.
    """
    patch = np.asarray(settings.patch_zyx, dtype=np.int64)
    shape = np.asarray(image.shape, dtype=np.int64)
    if image.shape != label.shape:
        raise ValueError(f"image {image.shape} and label {label.shape} differ in shape")
    if np.any(shape < patch):
        raise ValueError(f"cube {tuple(shape)} is smaller than the patch {tuple(patch)}")
    start = np.array([rng.integers(0, s - p + 1) for s, p in zip(shape, patch)])
    if rng.random() < settings.affine_probability:
        angles = np.deg2rad(rng.uniform(-settings.max_angle_deg, settings.max_angle_deg, 3))
        scale = rng.uniform(*settings.scale_range)
        spacing = np.asarray(settings.spacing_zyx, dtype=np.float64)
        # output voxel offset o (from the patch centre) samples input at centre + M @ o
        matrix = np.diag(1 / spacing) @ _rotation(angles) @ np.diag(spacing) / scale
        centre_in = start + (patch - 1) / 2
        centre_out = (patch - 1) / 2
        offset = centre_in - matrix @ centre_out
        out_shape = tuple(int(p) for p in patch)
        img = ndi.affine_transform(np.asarray(image, dtype=np.float32), matrix, offset,
                                   output_shape=out_shape, order=1, mode="mirror")
        lab = ndi.affine_transform(np.asarray(label, dtype=np.uint8), matrix, offset,
                                   output_shape=out_shape, order=0, mode="mirror")
    else:
        window = tuple(slice(int(s), int(s + p)) for s, p in zip(start, patch))
        img = np.asarray(image[window], dtype=np.float32)
        lab = np.asarray(label[window], dtype=np.uint8)
    planes = rot90_planes(settings.spacing_zyx) if settings.rotate90 else []
    # a square plane only: rot90 of a non-square plane would change the patch shape
    planes = [(i, j) for i, j in planes if patch[i] == patch[j]]
    if planes:
        axes = planes[int(rng.integers(0, len(planes)))]
        k = int(rng.integers(0, 4))
        img, lab = np.rot90(img, k, axes), np.rot90(lab, k, axes)
    if settings.flip:
        flips = rng.random(3) < 0.5
        axes = tuple(int(a) for a in np.flatnonzero(flips))
        if axes:
            img, lab = np.flip(img, axes), np.flip(lab, axes)
    return np.ascontiguousarray(img, dtype=np.float32), np.ascontiguousarray(lab, dtype=np.uint8)


def normalise_crop(image: np.ndarray, low_pct: float = 0.5, high_pct: float = 99.5) -> np.ndarray:
    """Clip to the crop's ``low_pct``/``high_pct`` percentiles and scale to [0, 1] (float32).

    A constant crop becomes all zeros.
    """
    image = np.asarray(image, dtype=np.float32)
    lo, hi = np.percentile(image, [low_pct, high_pct])
    if hi <= lo:
        return np.zeros_like(image)
    return ((np.clip(image, lo, hi) - lo) / (hi - lo)).astype(np.float32)
