"""LSFM-like simulation: seeded, truth = tubes around centrelines, anisotropic PSF, real noise."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from axonseg.analysis.lsfm_sim import LsfmSettings, centrelines_from_mask, random_centrelines, render_lsfm


def _line(shape=(32, 32, 32)):
    c = np.zeros(shape, bool)
    c[16, 16, 4:28] = True
    return c


def test_same_seed_same_volume_and_truth_is_tube():
    a = render_lsfm(_line(), np.random.default_rng(1))
    b = render_lsfm(_line(), np.random.default_rng(1))
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    image, truth = a
    assert image.dtype == np.uint16 and truth.dtype == np.uint8
    # radius 1.3: centre voxel + 4 face neighbours per cross-section, plus one cap voxel per end
    assert truth.sum() == 24 * 5 + 2
    assert image[truth > 0].mean() > image[truth == 0].mean() + 1000


def test_psf_is_wider_in_z():
    quiet = LsfmSettings(photons_per_count=1e6, read_noise=0.0, blobs_per_mvox=0.0,
                         autofluorescence_variation=0.0, illumination_falloff=0.0, signal_log_sd=0.0)
    image, _ = render_lsfm(_line(), np.random.default_rng(0), quiet)
    profile = image[:, :, 16].astype(float) - quiet.background
    along_z, along_y = profile[16 + 3, 16], profile[16, 16 + 3]
    assert along_z > 2 * along_y > 0     # 3 voxels off the axon: brighter in z than in y


def test_noise_is_poisson_gaussian():
    s = LsfmSettings(blobs_per_mvox=0.0, autofluorescence_variation=0.0, illumination_falloff=0.0)
    image, _ = render_lsfm(np.zeros((16, 64, 64), bool), np.random.default_rng(0), s)
    expected_var = s.background / s.photons_per_count + s.read_noise ** 2
    assert image.var() == pytest.approx(expected_var, rel=0.05)
    assert image.mean() == pytest.approx(s.background, rel=0.01)


def test_blobs_are_bright_but_not_truth():
    s = replace(LsfmSettings(), blobs_per_mvox=200.0)
    image, truth = render_lsfm(np.zeros((48, 48, 48), bool), np.random.default_rng(2), s)
    assert truth.sum() == 0
    assert image.max() > s.background + 3 * s.signal


def test_random_centrelines_are_thin_curves():
    c = random_centrelines((40, 40, 40), np.random.default_rng(0), n_tubes=3)
    assert c.sum() > 40
    assert np.array_equal(centrelines_from_mask(c), c)   # already one voxel wide


def test_real_centrelines_from_fine_label(dlmbmap_data):
    from axonseg.io import read_tiff

    fine = read_tiff(dlmbmap_data / "Fine-label" / "label-1000.tiff")
    c = centrelines_from_mask(fine[:64, :64, :64])
    assert 0 < c.sum() < (fine[:64, :64, :64] > 0).sum()
    assert (fine[:64, :64, :64][c] > 0).all()
