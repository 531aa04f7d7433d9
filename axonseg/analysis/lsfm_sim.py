"""LSFM-like volumes with known truth, for measuring segmentation quality.

A volume is rendered from a centreline mask (one-voxel curves): real centrelines (skeletons of
D-LMBmap's Fine labels) or random smooth curves. The truth is every voxel within
``tube_radius_vox`` of a centreline. The image is what a light-sheet microscope would record:

1. axon fluorescence: a Gaussian profile around each centreline, its brightness varying
   smoothly along the axons (log-normal, so some axons are dim);
2. autofluorescence: a smooth spatially varying background, times an illumination fall-off
   along x (the light sheet enters from one side);
3. bright artifact blobs (cell bodies, debris; not axons, so not in the truth), some saturating;
4. an anisotropic Gaussian PSF (larger sigma in z, as a light sheet's axial resolution);
5. Poisson (shot) noise with ``photons_per_count`` photons per grey value, plus Gaussian read
   noise; clipped to the camera's 16-bit range.

Everything is seeded by the ``numpy.random.Generator`` passed in: same seed, same volume.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from axonseg.settings import SettingsBase

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LsfmSettings(SettingsBase):
    """Rendering settings; intensities in 16-bit camera grey values, lengths in voxels."""

    tube_radius_vox: float = 1.3
    signal: float = 4000.0
    signal_log_sd: float = 0.5
    background: float = 2500.0
    autofluorescence_variation: float = 0.6
    autofluorescence_scale_vox: float = 12.0
    illumination_falloff: float = 0.5
    psf_sigma_zyx_vox: tuple[float, float, float] = (1.8, 0.7, 0.7)
    photons_per_count: float = 0.3
    read_noise: float = 60.0
    blobs_per_mvox: float = 3.0
    blob_radius_vox: tuple[float, float] = (2.0, 5.0)
    blob_brightness: tuple[float, float] = (1.0, 8.0)  # times ``signal``
    saturation: float = 65535.0


def _smooth_field(shape, rng: np.random.Generator, scale_vox: float) -> np.ndarray:
    """Smooth random field with zero mean and unit standard deviation."""
    field = ndimage.gaussian_filter(rng.standard_normal(shape).astype(np.float32), scale_vox)
    return (field - field.mean()) / (field.std() + 1e-12)


def centrelines_from_mask(mask_zyx: np.ndarray) -> np.ndarray:
    """Centrelines (boolean, one voxel wide) of a label mask: its 3-D skeleton."""
    from axonseg.analysis.metrics import skeleton

    return skeleton(np.asarray(mask_zyx) > 0)


def random_centrelines(shape_zyx: tuple[int, int, int], rng: np.random.Generator,
                       n_tubes: int = 8, turn_rate: float = 0.3) -> np.ndarray:
    """Centrelines of ``n_tubes`` random smooth curves (from ``axonseg.synthetic``'s tubes)."""
    from axonseg.synthetic import TubeSettings, make_tube_volume

    _, label = make_tube_volume(shape_zyx, rng, TubeSettings(n_tubes=n_tubes, radius_vox=1.0,
                                                             turn_rate=turn_rate))
    return centrelines_from_mask(label)


def _blobs(shape, rng: np.random.Generator, s: LsfmSettings) -> np.ndarray:
    n = rng.poisson(s.blobs_per_mvox * np.prod(shape) / 1e6)
    out = np.zeros(shape, np.float32)
    if n == 0:
        return out
    centres = rng.uniform(0, 1, (n, 3)) * np.array(shape)
    radii = rng.uniform(*s.blob_radius_vox, n)
    bright = rng.uniform(*s.blob_brightness, n) * s.signal
    grid = np.indices(shape, dtype=np.float32)
    for c, r, b in zip(centres, radii, bright):
        lo = np.maximum(np.floor(c - 3 * r).astype(int), 0)
        hi = np.minimum(np.ceil(c + 3 * r).astype(int) + 1, shape)
        sl = tuple(slice(a, e) for a, e in zip(lo, hi))
        d2 = sum((grid[i][sl] - c[i]) ** 2 for i in range(3))
        out[sl] += b / (1 + np.exp((np.sqrt(d2) - r) * 2.0))  # soft-edged sphere
    return out


def render_lsfm(centrelines_zyx: np.ndarray, rng: np.random.Generator,
                settings: LsfmSettings = LsfmSettings()) -> tuple[np.ndarray, np.ndarray]:
    """Image (uint16) and truth (uint8 {0, 1}) of tubes around ``centrelines_zyx``.

    Parameters
    ----------
    centrelines_zyx
        Boolean (z, y, x) mask of one-voxel-wide centrelines.
    rng
        Random generator (noise, background, blobs, brightness).
    """
    s = settings
    centre = np.asarray(centrelines_zyx, bool)
    shape = centre.shape
    dist = ndimage.distance_transform_edt(~centre) if centre.any() else np.full(shape, np.inf)
    truth = (dist <= s.tube_radius_vox).astype(np.uint8)
    brightness = np.exp(s.signal_log_sd * _smooth_field(shape, rng, 6.0))
    axons = s.signal * brightness * np.exp(-0.5 * (dist / s.tube_radius_vox) ** 2)
    auto = 1 + s.autofluorescence_variation * np.tanh(
        _smooth_field(shape, rng, s.autofluorescence_scale_vox))
    x = np.arange(shape[2], dtype=np.float32) / max(shape[2] - 1, 1)
    direction = x if rng.random() < 0.5 else x[::-1]
    illumination = (1 - s.illumination_falloff * direction)[None, None, :]
    emitted = (s.background * auto + axons) * illumination + _blobs(shape, rng, s)
    blurred = ndimage.gaussian_filter(emitted.astype(np.float32), s.psf_sigma_zyx_vox)
    photons = rng.poisson(np.clip(blurred, 0, None) * s.photons_per_count)
    image = photons / s.photons_per_count + rng.normal(0, s.read_noise, shape)
    image = np.clip(np.round(image), 0, s.saturation).astype(np.uint16)
    return image, truth


def render_into_background(background_zyx: np.ndarray, centrelines_zyx: np.ndarray, rng: np.random.Generator,
                           contrast: tuple[float, float] = (0.15, 1.5), tube_radius_vox: float = 1.3,
                           psf_sigma_zyx_vox: tuple[float, float, float] = (1.8, 0.7, 0.7),
                           photons_per_count: float = 0.3, saturation: float = 65535.0
                           ) -> tuple[np.ndarray, np.ndarray]:
    """Simulated axons rendered into a REAL light-sheet crop: its noise and artifacts stay real.

    Each axon's peak brightness is ``c`` times the local background (``c`` log-uniform in
    ``contrast``, varying smoothly along the axon), blurred by the PSF; its photons get
    Poisson noise and are added to the real grey values. Returns (image uint16, truth uint8
    {0, 1} of the simulated tubes only).
    """
    bg = np.asarray(background_zyx, dtype=np.float32)
    centre = np.asarray(centrelines_zyx, bool)
    dist = ndimage.distance_transform_edt(~centre) if centre.any() else np.full(bg.shape, np.inf)
    truth = (dist <= tube_radius_vox).astype(np.uint8)
    lo, hi = np.log(contrast[0]), np.log(contrast[1])
    level = np.exp(lo + (hi - lo) * (0.5 + 0.5 * np.tanh(_smooth_field(bg.shape, rng, 8.0))))
    local_bg = ndimage.gaussian_filter(ndimage.median_filter(bg, size=5), 6.0)
    axons = level * local_bg * np.exp(-0.5 * (dist / tube_radius_vox) ** 2)
    axons = ndimage.gaussian_filter(axons.astype(np.float32), psf_sigma_zyx_vox)
    added = rng.poisson(np.clip(axons, 0, None) * photons_per_count) / photons_per_count
    image = np.clip(np.round(bg + added), 0, saturation).astype(np.uint16)
    return image, truth
