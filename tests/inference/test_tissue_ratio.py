"""``tissue_ratio``: one number per volume, the same for every patch; what predict uses by default."""
import numpy as np
import pytest

from axonseg.inference.normalization import NormalizationParams, tissue_level, tissue_ratio_params
from axonseg.inference.tissue import automatic_threshold, low_resolution_view


def _level(volume):
    view = low_resolution_view(volume, 8)
    return tissue_level(view, automatic_threshold(view))


def test_the_level_is_the_median_tissue_cell_and_ignores_camera_background():
    rng = np.random.default_rng(0)
    vol = rng.normal(100, 5, (32, 64, 64)).astype(np.float32)  # camera background
    vol[:, :, 24:] = rng.normal(3000, 200, (32, 64, 40))        # tissue in 5/8 of the box
    vol[:, 30:34, 40:60] = 9000                                  # a bright fibre
    assert _level(vol) == pytest.approx(3000, rel=0.02)
    vol2 = vol.copy()
    vol2[:, :, :8] = rng.normal(3000, 200, (32, 64, 8))          # more tissue, same level
    assert _level(vol2) == pytest.approx(3000, rel=0.02)


def test_normalised_input_is_exactly_invariant_to_a_global_intensity_scale():
    rng = np.random.default_rng(1)
    vol = rng.gamma(4, 600, (24, 48, 48)).astype(np.float32)
    for gain in (0.25, 4.0):
        a = tissue_ratio_params(low_resolution_view(vol, 8), None).apply(vol)
        b = tissue_ratio_params(low_resolution_view(vol * gain, 8), None).apply(vol * gain)
        np.testing.assert_allclose(a, b, rtol=1e-5)


def test_featureless_volumes_normalise_to_constants():
    zero = np.zeros((16, 16, 16), np.float32)
    assert tissue_ratio_params(low_resolution_view(zero, 8), None).apply(zero).max() == 0
    const = np.full((16, 16, 16), 1234.0, np.float32)
    np.testing.assert_allclose(tissue_ratio_params(low_resolution_view(const, 8), None).apply(const), 1.0)


def test_signed_or_background_subtracted_input_is_refused_by_name():
    vol = np.full((16, 16, 16), -5.0, np.float32)
    vol[0, 0, 0] = 10
    with pytest.raises(ValueError, match="tissue level.*not positive.*raw, non-negative intensities"):
        tissue_ratio_params(low_resolution_view(vol, 8), None)


@pytest.mark.parametrize("trainer, recorded, expected", [
    ("DLMBmapTrainerV2Starter", None, "per_patch"),            # the v1 starter, as shipped
    ("DLMBmapTrainerV2StarterFinetune", None, "per_patch"),    # its fine-tunes
    ("AxonsegTrainerV2Starter", None, "global"),
    ("MyTrainerAxial", None, "global"),
    ("MyTrainerAxial", "per_patch", "per_patch"),              # recorded in the .pth wins
])
def test_predict_normalises_as_the_model_was_trained(trainer, recorded, expected):
    from axonseg.inference.weights import LoadedModel
    from axonseg.networks import UNetConfig

    cfg = UNetConfig("generic_unet", 1, 2, 4, [[2, 2, 2]], [[3, 3, 3]] * 2, (16, 16, 16))
    extra = {"predict_normalization": recorded} if recorded else {}
    model = LoadedModel(cfg, {}, NormalizationParams("nonCT"), None, trainer, "m.pth", "axonseg", extra)
    assert model.predict_normalization == expected
