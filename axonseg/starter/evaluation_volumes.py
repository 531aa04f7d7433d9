"""Evaluation volumes: axons rendered into real crops of the D-LMBmap excerpt, real fibres masked
out, and the same volumes under shifts. ``TEST_BG`` crops lie in the HELD-OUT rows (y >= 300:
``benchmarks/bench_robustness.py`` only); ``VALIDATION_BG`` crops in the training rows (the v2
mask threshold is chosen on them, ``axonseg.starter.calibrate``).

Every volume is ``(image uint16, truth bool, ignore bool)``; ``ignore`` = within 2 voxels of the
crop's own automatic (tubular) labels: real axons that are in no truth, left out of every score
for every method alike. Seeded: the same volumes on every run.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

from axonseg.analysis.lsfm_sim import random_centrelines, render_into_background
from axonseg.starter.v2_cases import centrelines

S = 96
HELD_OUT = 300
# (z, y, x) corners of 96^3 crops: dense bright fibres | dim right half with stripes and puncta |
# dim lower right | the tangle in the middle
TEST_BG = [(2, 300, 0), (2, 330, 440), (2, 480, 480), (2, 420, 200)]
# the same kind of volumes from the TRAINING rows (threshold choice only; never scored as results)
VALIDATION_BG = [(2, 0, 200), (2, 100, 420), (2, 150, 100), (2, 200, 300), (2, 30, 480)]
# real artifact regions of the held-out rows (z0, z1, y0, y1, x0, x1)
TEST_ART = {"bright tissue edge": (2, 98, 300, 350, 0, 48),
            "puncta field": (2, 98, 340, 436, 470, 566),
            "blob": (2, 98, 425, 465, 415, 475),
            "light-sheet stripes (dim right half)": (2, 98, 480, 576, 500, 596)}
SHIFTS = ("base", "intensity x0.25", "intensity x4", "gamma 0.7", "gamma 1.4", "z-spacing 2x",
          "extra noise", "axons in-plane only", "axons along z only")


def real_fibres(raw: np.ndarray) -> np.ndarray:
    from axonseg.annotate import rough_mask

    real, _ = rough_mask(raw)
    return ndimage.binary_dilation(real, iterations=2) if real.any() else np.zeros(raw.shape, bool)


def crop(vol, corner) -> np.ndarray:
    z, y, x = corner
    return np.asarray(vol[z:z + S, y:y + S, x:x + S])


def _gamma(image: np.ndarray, g: float) -> np.ndarray:
    return np.round(65535.0 * (image.astype(np.float64) / 65535.0) ** g).astype(np.uint16)


def shifted(raw: np.ndarray, ignore: np.ndarray, shift: str, seed: int):
    """(image, truth, ignore) of one crop under ``shift``."""
    rng = np.random.default_rng(seed)
    orientation = {"axons in-plane only": "inplane", "axons along z only": "z"}.get(shift)
    lines = (centrelines(raw.shape, rng, 6, orientation) if orientation
             else random_centrelines(raw.shape, rng, n_tubes=6))
    image, truth = render_into_background(raw, lines, rng)
    truth = truth > 0
    if shift == "intensity x0.25":
        image = np.round(image * 0.25).astype(np.uint16)
    elif shift == "intensity x4":
        image = np.clip(image.astype(np.float64) * 4, 0, 65535).astype(np.uint16)
    elif shift == "gamma 0.7":
        image = _gamma(image, 0.7)
    elif shift == "gamma 1.4":
        image = _gamma(image, 1.4)
    elif shift == "z-spacing 2x":
        image = np.round(ndimage.zoom(image.astype(np.float32), (0.5, 1, 1), order=1)).astype(np.uint16)
        truth = ndimage.zoom(truth.astype(np.uint8), (0.5, 1, 1), order=0) > 0
        ignore = ndimage.zoom(ignore.astype(np.uint8), (0.5, 1, 1), order=0) > 0
    elif shift == "extra noise":
        level = float(np.median(raw))
        image = np.clip(image + rng.normal(0, 0.15 * level, image.shape), 0, 65535).astype(np.uint16)
    elif shift not in SHIFTS:
        raise ValueError(f"unknown shift {shift!r}")
    return image, truth, ignore


def volumes(vol, corners, shifts=SHIFTS, seed: int = 200) -> dict[str, list[tuple]]:
    """{shift: [(image, truth, ignore) per corner]}; the real-fibre mask computed once per crop."""
    raws = [crop(vol, c) for c in corners]
    ignores = [real_fibres(r) for r in raws]
    return {s: [shifted(r, ig, s, seed + i) for i, (r, ig) in enumerate(zip(raws, ignores))] for s in shifts}
