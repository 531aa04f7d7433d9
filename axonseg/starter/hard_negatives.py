"""Things that are not axons, drawn into real light-sheet crops (labels stay 0 there).

- **light-sheet stripes**: streaks in the xy plane along one direction (near y in the D-LMBmap
  excerpt, tilted up to ``max_tilt_deg``), 1-3 voxels wide, but extended in z over tens of
  slices (a shadow or a bright streak of the sheet, not a fibre: a fibre is narrow in z too);
- **puncta**: small isotropic bright spots (autofluorescent cells, debris);
- **camera background**: the dark counts outside the tissue (offset + read noise + few photons);
- **constant volumes** (featureless input).

Intensities are in the crop's own grey values; each function returns a new float32 array.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage


def add_stripes(image: np.ndarray, rng: np.random.Generator, n: tuple[int, int] = (2, 12),
                max_tilt_deg: float = 25.0, along: str | None = None) -> np.ndarray:
    """``image`` with ``n`` light-sheet stripes multiplied in (bright or dark, 10-80 % of the local level)."""
    img = np.asarray(image, np.float32)
    shape = img.shape
    z, y, x = np.indices(shape, dtype=np.float32)
    along = along or ("y" if rng.random() < 0.75 else "x")
    factor = np.ones(shape, np.float32)
    for _ in range(int(rng.integers(n[0], n[1] + 1))):
        tilt = np.tan(np.deg2rad(rng.uniform(-max_tilt_deg, max_tilt_deg)))
        width = rng.uniform(0.8, 3.0)
        if along == "y":
            across = x - (rng.uniform(0, shape[2]) + tilt * (y - shape[1] / 2))
        else:
            across = y - (rng.uniform(0, shape[1]) + tilt * (x - shape[2] / 2))
        z0, zs = rng.uniform(0, shape[0]), rng.uniform(8, 40)
        envelope = np.exp(-0.5 * ((z - z0) / zs) ** 2)
        amp = rng.uniform(0.1, 0.8) * (1 if rng.random() < 0.8 else -0.6)
        factor += amp * envelope * np.exp(-0.5 * (across / width) ** 2)
    return img * np.clip(factor, 0.05, None)


def add_puncta(image: np.ndarray, rng: np.random.Generator, per_mvox: tuple[float, float] = (50, 800)
               ) -> np.ndarray:
    """``image`` plus bright spots (sigma 0.7-1.6 voxels, 0.5-8x the local level)."""
    img = np.asarray(image, np.float32)
    n = int(rng.uniform(*per_mvox) * img.size / 1e6)
    spots = np.zeros(img.shape, np.float32)
    idx = tuple(rng.integers(0, s, n) for s in img.shape)
    np.add.at(spots, idx, rng.uniform(0.5, 8.0, n).astype(np.float32))
    sigma = rng.uniform(0.7, 1.6)
    spots = ndimage.gaussian_filter(spots, sigma) * (2 * np.pi * sigma ** 2) ** 1.5 / 3
    level = ndimage.uniform_filter(img, 9)
    return img + spots * level


def camera_background(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Dark camera counts: an offset (50-800) with read noise and a few photons, float32."""
    offset = rng.uniform(50, 800)
    photons = rng.poisson(rng.uniform(0.5, 20), shape).astype(np.float32)
    return offset + photons + rng.normal(0, rng.uniform(1, 15), shape).astype(np.float32)


def constant_volume(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """A featureless volume (one grey value)."""
    return np.full(shape, rng.uniform(1, 5000), np.float32)
