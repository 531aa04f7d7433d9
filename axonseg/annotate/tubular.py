"""Artifact-aware rough axon masks: local noise units, ridge evidence, blob and saturation exclusion.

D-LMBmap's method (``cube - blur``, one threshold) labels whatever is locally bright: on real
light-sheet data the bright tissue edge, saturated blobs and fields of autofluorescent puncta
become label. Here a voxel is axon only if it is

1. **bright for its neighbourhood, in units of the local noise**: ``v = sqrt(cube)`` (Poisson
   noise becomes roughly uniform), ``d = v - gaussian(v, sigma_bg)``, and
   ``z = d / noise`` where ``noise`` is 1.4826 x the median of ``|d|`` in 16³ tiles (a robust
   local standard deviation, smoothly interpolated). Bright textured tissue has a large local
   noise, so its texture does not stand out; a dim axon in a quiet region does;
2. **on a ridge (a line, not a blob or a sheet)**: at scales ``scales_vox`` the Hessian of ``z``
   has eigenvalues l1 >= l2 >= l3; a bright line has l2, l3 << 0 and l1 ~ 0. The ridge strength
   is ``sigma^2 * max(-l2, 0)`` (scale-normalised), zero where ``-l1 > blob_ratio * -l2``
   (all three curvatures alike: a punctum or blob). A sheet (tissue edge) has l2 ~ 0;
3. **not saturated**: voxels at or above ``saturation`` and ``saturation_dilate_vox`` around
   them are excluded (saturated blobs have no shape information);

and the mask is a hysteresis threshold of ``z`` among ridge voxels (seeds ``z > k_high``, grown
through ``z > k_low``), keeping only 26-connected components of at least
``min_component_voxels`` voxels whose bounding box is at least ``min_length_vox`` long (axons
are long; puncta are compact).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi
from axonseg.settings import SettingsBase

NOISE_TILE_VOX = 16


@dataclass(frozen=True)
class TubularSettings(SettingsBase):
    """Parameters of :func:`tubular_mask`; lengths in voxels, thresholds in local-noise units."""

    sigma_bg_vox: float = 8.0
    scales_vox: tuple[float, ...] = (1.0, 1.5, 2.0)
    k_high: float = 5.0
    k_low: float = 1.5
    ridge_min: float = 0.6
    blob_ratio: float = 0.3
    saturation: float | None = 65000.0
    saturation_dilate_vox: int = 3
    min_component_voxels: int = 20
    min_length_vox: int = 20

    def __post_init__(self):
        if self.sigma_bg_vox <= 0 or not self.scales_vox or min(self.scales_vox) <= 0:
            raise ValueError("sigma_bg_vox and every scale must be positive")
        if self.k_low > self.k_high:
            raise ValueError(f"k_low ({self.k_low}) must not exceed k_high ({self.k_high})")
        if self.min_component_voxels < 0 or self.min_length_vox < 0 or self.saturation_dilate_vox < 0:
            raise ValueError("min_component_voxels, min_length_vox and saturation_dilate_vox must be >= 0")


def local_noise_units(cube: np.ndarray, sigma_bg_vox: float) -> np.ndarray:
    """``z``: square-root intensities minus their local background, over the local robust noise."""
    v = np.sqrt(np.clip(np.asarray(cube, dtype=np.float32), 0, None))
    d = v - ndi.gaussian_filter(v, sigma_bg_vox, mode="reflect")
    t = NOISE_TILE_VOX
    tiles = [-(-n // t) for n in d.shape]
    padded = np.pad(np.abs(d), [(0, k * t - n) for k, n in zip(tiles, d.shape)], mode="reflect")
    blocks = padded.reshape(tiles[0], t, tiles[1], t, tiles[2], t).transpose(0, 2, 4, 1, 3, 5)
    med = np.median(blocks.reshape(*tiles, -1), axis=-1)
    # tile centres -> voxels: linear interpolation, edges held
    coords = np.meshgrid(*[(np.arange(n) + 0.5) / t - 0.5 for n in d.shape], indexing="ij", sparse=True)
    full = ndi.map_coordinates(med, np.broadcast_arrays(*coords), order=1, mode="nearest")
    return (d / (1.4826 * full + 1e-6)).astype(np.float32)


def ridge_strength(z: np.ndarray, scales_vox, blob_ratio: float) -> np.ndarray:
    """Scale-normalised line strength ``max_s s^2 max(-l2, 0)``, zero on blob-like voxels."""
    from skimage.feature import hessian_matrix, hessian_matrix_eigvals

    best = np.zeros(z.shape, np.float32)
    for s in scales_vox:
        l1, l2, _ = hessian_matrix_eigvals(hessian_matrix(z, sigma=s, mode="reflect",
                                                          use_gaussian_derivatives=False))
        r = (s * s) * np.clip(-l2, 0, None)
        r[-l1 > blob_ratio * -l2] = 0
        np.maximum(best, r, out=best)
    return best


def _keep_long_components(mask: np.ndarray, min_voxels: int, min_length: int) -> np.ndarray:
    labels, n = ndi.label(mask, structure=np.ones((3, 3, 3), bool))
    if n == 0:
        return mask
    sizes = np.bincount(labels.ravel(), minlength=n + 1)
    keep = np.zeros(n + 1, bool)
    for i, box in enumerate(ndi.find_objects(labels), 1):
        keep[i] = sizes[i] >= min_voxels and max(b.stop - b.start for b in box) >= min_length
    return keep[labels]


def tubular_mask(cube: np.ndarray, s: TubularSettings = TubularSettings()) -> np.ndarray:
    """Boolean rough axon mask of one intensity cube (see the module docstring)."""
    cube = np.asarray(cube)
    if cube.ndim != 3:
        raise ValueError(f"cube must be 3-D (z, y, x), got shape {cube.shape}")
    z = local_noise_units(cube, s.sigma_bg_vox)
    ridge = ridge_strength(z, s.scales_vox, s.blob_ratio) > s.ridge_min
    if s.saturation is not None:
        saturated = cube >= s.saturation
        if s.saturation_dilate_vox and saturated.any():
            saturated = ndi.binary_dilation(saturated, iterations=s.saturation_dilate_vox)
        ridge &= ~saturated
    low = ridge & (z > s.k_low)
    labels, n = ndi.label(low, structure=np.ones((3, 3, 3), bool))
    seeded = np.zeros(n + 1, bool)
    seeded[np.unique(labels[low & (z > s.k_high)])] = True
    seeded[0] = False
    return _keep_long_components(seeded[labels], s.min_component_voxels, s.min_length_vox)
