"""Bright curvilinear tubes in noisy background, with their exact label.

Each tube follows a smooth random curve (a random walk whose direction turns slowly)
through the volume; voxels within ``radius_vox`` of its centreline are labelled 1.
Intensity is a Gaussian profile around the centreline over a smooth background, plus
Gaussian noise: the smallest honest stand-in for axons in light-sheet data.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from axonseg.settings import SettingsBase


@dataclass(frozen=True)
class TubeSettings(SettingsBase):
    n_tubes: int = 6
    radius_vox: float = 1.5
    background: float = 100.0
    signal: float = 120.0
    noise_sigma: float = 25.0
    turn_rate: float = 0.25


def _centreline(shape_zyx: tuple[int, ...], rng: np.random.Generator, turn_rate: float) -> np.ndarray:
    """Points (n, 3) of a smooth random curve, sampled every half voxel, inside the volume."""
    shape = np.asarray(shape_zyx, float)
    pos = rng.uniform(0.2, 0.8, 3) * shape
    direction = rng.normal(size=3)
    direction /= np.linalg.norm(direction)
    points = []
    for sign in (1.0, -1.0):  # grow both ways from the seed until the curve leaves the volume
        p, d = pos.copy(), sign * direction
        while np.all(p >= 0) and np.all(p <= shape - 1):
            points.append(p.copy())
            d = d + turn_rate * rng.normal(size=3) * 0.5
            d /= np.linalg.norm(d)
            p = p + 0.5 * d
    return np.array(points)


def make_tube_volume(shape_zyx: tuple[int, int, int], rng: np.random.Generator,
                     settings: TubeSettings = TubeSettings()) -> tuple[np.ndarray, np.ndarray]:
    """Image (float32) and label (uint8 {0, 1}) of ``settings.n_tubes`` random tubes.

    Parameters
    ----------
    shape_zyx
        Volume shape (z, y, x).
    rng
        Random generator: the same seed gives the same volume.
    """
    centre = np.zeros(shape_zyx, bool)
    for _ in range(settings.n_tubes):
        pts = np.round(_centreline(shape_zyx, rng, settings.turn_rate)).astype(int)
        centre[pts[:, 0], pts[:, 1], pts[:, 2]] = True
    dist = ndimage.distance_transform_edt(~centre)
    label = (dist <= settings.radius_vox).astype(np.uint8)
    profile = np.exp(-0.5 * (dist / settings.radius_vox) ** 2)
    smooth_bg = ndimage.gaussian_filter(rng.normal(size=shape_zyx), 8)
    smooth_bg *= 0.3 * settings.background / (np.abs(smooth_bg).max() + 1e-9)
    image = settings.background + smooth_bg + settings.signal * profile
    image += rng.normal(0, settings.noise_sigma, shape_zyx)
    return image.astype(np.float32), label
