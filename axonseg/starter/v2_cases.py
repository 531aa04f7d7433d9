"""Training cases of starter model v2, from the real excerpt's training rows (y < 300) only.

Every case is a real light-sheet crop (or camera background, or a constant volume) with exact
truth: simulated axons rendered into it (``lsfm_sim.render_into_background``; in-plane, along
z or any direction; radius 0.7-2 voxels; peak contrast 0.3-4x the local level; anisotropic PSFs),
hard negatives drawn in with label 0 (light-sheet stripes, puncta; see ``hard_negatives``),
saturation, z-spacing 1.5-3x by resampling, gamma and noise. REAL fibres of the crop are in no
truth: voxels within 2 voxels of the crop's automatic (tubular) labels get the ignore label
255, so they are taught neither as axon nor as background.

Images are written normalised as predict normalises a volume (``tissue_ratio``: divided by the
tissue level of the volume they come from, times a random factor 0.6-1.6 so that a crop's or a
whole brain's level both work), so the nnU-Net task's modality is ``noNorm``.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage

from axonseg.analysis.lsfm_sim import LsfmSettings, render_into_background, render_lsfm
from axonseg.inference.normalization import tissue_level
from axonseg.inference.tissue import automatic_threshold, low_resolution_view
from axonseg.nnunet_v1.sparse_loss import IGNORE_LABEL
from axonseg.starter import hard_negatives as neg
from axonseg.starter.cubes import HELD_OUT_FROM_ROW

CASE_ZYX = (96, 80, 80)
TISSUE_CELL = 8
# real artifact regions of the training rows (z0, y0, x0 corners of CASE_ZYX boxes): the bright
# saturated tissue edge, a blob beside dense fibres, the puncta/stripe field of the dim half
ARTIFACT_CORNERS = [(2, 0, 0), (2, 0, 60), (2, 100, 40), (2, 0, 480), (2, 150, 500), (2, 60, 380)]
KINDS = {"axons": 0.50, "artifact+axons": 0.12, "negatives": 0.12, "saturated+axons": 0.07,
         "camera": 0.08, "constant": 0.04, "simulation": 0.07}


def volume_level(image: np.ndarray) -> float:
    """The tissue level predict would use for ``image`` (``tissue_ratio``)."""
    view = low_resolution_view(image, TISSUE_CELL, chunked=True)
    return tissue_level(view, automatic_threshold(view))


def centrelines(shape: tuple[int, ...], rng: np.random.Generator, n: int, orientation: str) -> np.ndarray:
    """One-voxel centrelines of ``n`` smooth random curves; ``orientation``: ``inplane`` (mostly in
    xy), ``z`` (mostly along z) or ``any``."""
    out = np.zeros(shape, bool)
    size = np.asarray(shape, float)
    for _ in range(n):
        d = rng.normal(size=3)
        if orientation == "inplane":
            d[0] *= 0.15
        elif orientation == "z":
            d[1:] *= 0.25
            d[0] = abs(d[0]) + 1.0
        d /= np.linalg.norm(d)
        turn = rng.uniform(0.05, 0.35)
        start = rng.uniform(0.1, 0.9, 3) * (size - 1)
        for sign in (1.0, -1.0):
            p, v = start.copy(), sign * d
            while np.all(p >= 0) and np.all(p <= size - 1):
                i = np.round(p).astype(int)
                out[i[0], i[1], i[2]] = True
                v = v + turn * 0.5 * rng.normal(size=3)
                if orientation == "inplane":
                    v[0] *= 0.7
                v /= np.linalg.norm(v)
                p = p + 0.5 * v
    return out


def real_fibre_ignore(raw: np.ndarray) -> np.ndarray:
    """Voxels within 2 voxels of the crop's automatic tubular labels (real fibres: no truth)."""
    from axonseg.annotate import rough_mask

    real, _ = rough_mask(raw)
    return ndimage.binary_dilation(real, iterations=2) if real.any() else np.zeros(raw.shape, bool)


class TrainingRows:
    """The excerpt's training rows (y < ``HELD_OUT_FROM_ROW``), their real-fibre ignore zone and
    tissue level, computed once for the whole slab (no crop-border effects, one tubular pass)."""

    def __init__(self, volume: np.ndarray):
        self.raw = np.asarray(volume[:, :HELD_OUT_FROM_ROW], np.float32)
        self.ignore = real_fibre_ignore(self.raw)
        self.level = volume_level(self.raw)

    def crop(self, rng: np.random.Generator, corner=None) -> tuple[np.ndarray, np.ndarray]:
        if corner is None:
            corner = [int(rng.integers(0, s - c + 1)) for s, c in zip(self.raw.shape, CASE_ZYX)]
        z, y, x = corner
        if y + CASE_ZYX[1] > HELD_OUT_FROM_ROW:
            raise ValueError(f"crop at {corner} reaches the held-out rows y >= {HELD_OUT_FROM_ROW}")
        sl = (slice(z, z + CASE_ZYX[0]), slice(y, y + CASE_ZYX[1]), slice(x, x + CASE_ZYX[2]))
        return self.raw[sl].copy(), self.ignore[sl]


def _render(bg: np.ndarray, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    orientation = rng.choice(["inplane", "z", "any"], p=[0.4, 0.2, 0.4])
    centre = centrelines(bg.shape, rng, n, orientation)
    # peak contrast 0.3-4x the local level before the PSF (which dims thin tubes further): every
    # labelled axon is visible; fainter ones would teach the network to guess
    c = float(np.exp(rng.uniform(np.log(0.3), np.log(4.0))))
    psf = (rng.uniform(0.8, 2.5), *(rng.uniform(0.5, 1.0),) * 2)
    image, truth = render_into_background(bg, centre, rng, contrast=(0.6 * c, 1.6 * c),
                                          tube_radius_vox=rng.uniform(0.7, 2.0), psf_sigma_zyx_vox=psf)
    return image.astype(np.float32), truth


def make_case(rows: TrainingRows, rng: np.random.Generator, kind: str) -> tuple[np.ndarray, np.ndarray, str]:
    """One case: (image normalised by tissue_ratio, label uint8 0/1/255, kind)."""
    label = None
    if kind in ("axons", "artifact+axons", "negatives", "saturated+axons"):
        corner = ARTIFACT_CORNERS[int(rng.integers(len(ARTIFACT_CORNERS)))] if kind == "artifact+axons" else None
        raw, ignore = rows.crop(rng, corner)
        level = volume_level(raw) if rng.random() < 0.5 else rows.level
        image = raw
        if rng.random() < (0.9 if kind == "negatives" else 0.3):
            image = neg.add_stripes(image, rng)
        if rng.random() < (0.6 if kind == "negatives" else 0.25):
            image = neg.add_puncta(image, rng)
        truth = np.zeros(raw.shape, np.uint8)
        if kind != "negatives":
            image, truth = _render(image, rng, int(rng.integers(1, 11)))
        if kind == "saturated+axons":
            gain = rng.uniform(2, 12)
            image, level = np.clip(image * gain, 0, 65535), level * gain
        label = np.where(ignore & (truth == 0), IGNORE_LABEL, truth).astype(np.uint8)
    elif kind == "camera":
        image = neg.camera_background(CASE_ZYX, rng)
        level = volume_level(image) if rng.random() < 0.5 else rows.level
        if rng.random() < 0.5:
            image = neg.add_puncta(image, rng, per_mvox=(10, 200))
    elif kind == "constant":
        image = neg.constant_volume(CASE_ZYX, rng)
        level = float(image.flat[0]) * rng.uniform(0.3, 3.0)
    elif kind == "simulation":
        s = LsfmSettings(tube_radius_vox=rng.uniform(0.6, 1.8), signal=rng.uniform(800, 6000))
        image, truth = render_lsfm(centrelines(CASE_ZYX, rng, int(rng.integers(2, 10)), "any"), rng, s)
        image, label = image.astype(np.float32), truth.astype(np.uint8)
        level = volume_level(image)
    else:
        raise ValueError(f"unknown case kind {kind!r}; known: {sorted(KINDS)}")
    if label is None:
        label = np.zeros(image.shape, np.uint8)
    x = (image / np.float32(level * np.exp(rng.uniform(np.log(0.6), np.log(1.6))))).astype(np.float32)
    return (*_augment(x, label, rng), kind)


def _augment(x: np.ndarray, label: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    if rng.random() < 0.3:  # coarser z sampling: the volume resampled to 1.5-3x the z spacing
        f = rng.uniform(1.5, 3.0)
        x = ndimage.zoom(x, (1 / f, 1, 1), order=1)
        label = ndimage.zoom(label, (1 / f, 1, 1), order=0)
    if rng.random() < 0.3:
        x = np.power(np.clip(x, 0, None), rng.uniform(0.6, 1.6)).astype(np.float32)
    if rng.random() < 0.2:
        x = x + rng.normal(0, rng.uniform(0.02, 0.15), x.shape).astype(np.float32)
    return x.astype(np.float32), label


def draw_kinds(n: int, rng: np.random.Generator) -> list[str]:
    """``n`` case kinds in the proportions of ``KINDS`` (shuffled, seeded)."""
    names = list(KINDS)
    counts = np.floor(np.array([KINDS[k] for k in names]) * n).astype(int)
    counts[0] += n - counts.sum()
    kinds = [k for k, c in zip(names, counts) for _ in range(c)]
    rng.shuffle(kinds)
    return kinds
