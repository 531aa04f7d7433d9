"""Rough axon masks: ``method="tubular"`` (default) or D-LMBmap's background subtraction.

``tubular`` (``axonseg.annotate.tubular``) follows axons, not brightness: local noise units,
ridge evidence, puncta/blob and saturation exclusion. ``mad`` and ``triangle`` are D-LMBmap's
simple method, kept as options:

D-LMBmap subtracted a Gaussian blur (sigma about 10 px) from each cube and thresholded the
result by hand in ImageJ. We pick the threshold automatically with a robust noise estimate:

    threshold = median(d) + k * 1.4826 * MAD(d),    d = cube - gaussian_blur(cube, sigma)

i.e. ``k`` robust standard deviations of the background-subtracted intensities above their
median (axons fill ~1 % of a cube, so median and MAD describe the background). ``k`` defaults
to 5. ``method="triangle"`` uses scikit-image's triangle threshold instead; an explicit
``threshold`` overrides both. Connected components (26-connectivity) smaller than
``min_component_voxels`` are removed.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi

logger = logging.getLogger(__name__)

from axonseg.analysis.skeleton import remove_small_components
from axonseg.annotate.tubular import TubularSettings, tubular_mask
from axonseg.settings import SettingsBase

THRESHOLD_METHODS = ("tubular", "mad", "triangle")


@dataclass(frozen=True)
class RoughLabelSettings(SettingsBase):
    """How rough masks are made. Units are voxels."""

    threshold_method: str = "tubular"
    tubular: TubularSettings = TubularSettings()
    sigma_vox: float = 10.0
    mad_k: float = 5.0
    threshold: float | None = None
    min_component_voxels: int = 10

    def __post_init__(self):
        if self.threshold_method not in THRESHOLD_METHODS:
            raise ValueError(f"threshold_method must be one of {THRESHOLD_METHODS}, got {self.threshold_method!r}")
        if self.sigma_vox <= 0:
            raise ValueError(f"sigma_vox must be positive, got {self.sigma_vox}")
        if self.min_component_voxels < 0:
            raise ValueError(f"min_component_voxels must be >= 0, got {self.min_component_voxels}")


def background_subtract(cube: np.ndarray, sigma_vox: float = 10.0) -> np.ndarray:
    """``cube - gaussian_filter(cube, sigma_vox)`` in float32 (borders mirrored)."""
    cube = np.asarray(cube, dtype=np.float32)
    return cube - ndi.gaussian_filter(cube, sigma_vox, mode="reflect")


def auto_threshold(values: np.ndarray, method: str = "mad", mad_k: float = 5.0) -> float:
    """Automatic threshold of background-subtracted intensities (see the module docstring)."""
    values = np.asarray(values, dtype=np.float32)
    if method == "mad":
        med = float(np.median(values))
        mad = float(np.median(np.abs(values - med))) * 1.4826
        return med + mad_k * mad
    if method == "triangle":
        from skimage.filters import threshold_triangle

        return float(threshold_triangle(values))
    raise ValueError(f"unknown threshold method {method!r}; known: {THRESHOLD_METHODS}")


def rough_mask(cube: np.ndarray, settings: RoughLabelSettings = RoughLabelSettings()
               ) -> tuple[np.ndarray, float]:
    """Rough axon mask of one intensity cube.

    Parameters
    ----------
    cube
        3-D intensity array (z, y, x).
    settings
        Blur sigma, threshold (or how to pick it) and minimum component size.

    Returns
    -------
    mask : np.ndarray
        Boolean mask, same shape as ``cube``.
    threshold : float
        The threshold used on the background-subtracted intensities (``tubular``: the seed
        threshold ``k_high`` in local-noise units).
    """
    cube = np.asarray(cube)
    if cube.ndim != 3:
        raise ValueError(f"cube must be 3-D (z, y, x), got shape {cube.shape}")
    if settings.threshold_method == "tubular" and settings.threshold is None:
        mask = tubular_mask(cube, settings.tubular)
        logger.info("rough mask (tubular): %.3f %% foreground", 100 * mask.mean())
        return mask, settings.tubular.k_high
    diff = background_subtract(cube, settings.sigma_vox)
    if settings.threshold is not None:
        threshold = float(settings.threshold)
    else:
        threshold = auto_threshold(diff, settings.threshold_method, settings.mad_k)
    mask = remove_small_components(diff > threshold, settings.min_component_voxels)
    logger.info("rough mask: threshold %.4g, %.3f %% foreground", threshold, 100 * mask.mean())
    return mask, threshold
