"""nnU-Net v1's ``use_mask_for_norm`` (our ``mask_zero``): statistics over non-zero voxels only,
zero voxels stay 0 after normalisation; carried from the plans into the prediction."""
from __future__ import annotations

import pickle

import numpy as np
import pytest
import torch
import zarr

from axonseg.inference import PredictSettings, load_model, predict_whole_brain
from axonseg.inference.export import export_model
from axonseg.inference.normalization import NormalizationParams, with_image_statistics
from tests.inference.test_weights import make_result_folder


def _volume_with_zero_background(shape=(40, 40, 40), seed=0) -> np.ndarray:
    """Tissue (gamma-distributed intensities) in one part, exact zeros outside it (as after cropping)."""
    vol = np.random.default_rng(seed).gamma(2.0, 700.0, size=shape).round().astype(np.uint16) + 1
    vol[:, :, :14] = 0
    vol[:9] = 0
    return vol


def _hand_masked_zscore(vol: np.ndarray) -> np.ndarray:
    """nnU-Net v1 GenericPreprocessor, nonCT with use_nonzero_mask: z-score over the mask, 0 outside."""
    v = vol.astype(np.float64)
    inside = v != 0
    mean, std = v[inside].mean(), v[inside].std()
    return np.where(inside, (v - mean) / (std + 1e-8), 0.0).astype(np.float32)


def test_mask_zero_statistics_and_zeros_stay_zero():
    """Kills: the ``mask_zero`` normalisation dropped (statistics over all voxels, or zeros z-scored)."""
    vol = _volume_with_zero_background()
    params = with_image_statistics(vol, NormalizationParams("nonCT", mask_zero=True), max_sample_voxels=10 ** 6)
    inside = vol != 0
    assert params.mean == pytest.approx(float(vol[inside].mean(dtype=np.float64)), rel=1e-9)
    assert params.std == pytest.approx(float(vol[inside].std(dtype=np.float64)), rel=1e-9)
    out = params.apply(vol)
    assert (out[~inside] == 0).all()
    np.testing.assert_allclose(out, _hand_masked_zscore(vol), atol=1e-5)
    plain = with_image_statistics(vol, NormalizationParams("nonCT"), max_sample_voxels=10 ** 6)
    assert plain.mean < 0.8 * params.mean  # the oracle tells masked from unmasked statistics


@pytest.fixture(scope="module")
def masked_model(tmp_path_factory):
    """A Generic_UNet nnU-Net v1 result folder whose plans say use_mask_for_norm, and its network."""
    root = tmp_path_factory.mktemp("masked")
    folder, net = make_result_folder(root, architecture="generic_unet", seed=4)
    plans = pickle.loads((folder / "plans.pkl").read_bytes())  # written by the test helper above
    plans["use_mask_for_norm"][0] = True
    (folder / "plans.pkl").write_bytes(pickle.dumps(plans))
    return folder, net


def test_use_mask_for_norm_is_read_from_the_plans_and_kept_by_export(tmp_path, masked_model):
    """Kills: ``use_mask_for_norm`` dropped when a model is loaded or exported."""
    folder, _ = masked_model
    assert load_model(folder).normalization.mask_zero is True
    exported = export_model(folder, tmp_path / "m.pth")
    assert load_model(exported).normalization.mask_zero is True


def test_whole_brain_prediction_uses_the_masked_zscore(tmp_path, masked_model):
    """Kills: the predictor normalising without the mask (zeros z-scored to a negative value).

    Reference: nnU-Net v1's ``predict_3D`` on the volume normalised by hand."""
    folder, net = masked_model
    vol = _volume_with_zero_background()
    src = zarr.create_array(str(tmp_path / "in.zarr"), shape=vol.shape, chunks=(20, 20, 20), dtype=np.uint16)
    src[:] = vol
    settings = PredictSettings(chunk_shape_vox=(20, 20, 20), block_shape_vox=(20, 40, 40), num_threads=1,
                               preview=False)
    predict_whole_brain(tmp_path / "in.zarr", folder, tmp_path / "out", settings, progress=False)
    ours = zarr.open_array(str(tmp_path / "out" / "probability.ome.zarr" / "0"), mode="r")[:].astype(np.int16)
    net = net.eval()
    net.do_ds = False

    def nnunet_u8(normalised: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            _, prob = net.predict_3D(normalised[None], do_mirroring=False, use_sliding_window=True, step_size=0.5,
                                     patch_size=(32, 32, 32), use_gaussian=True, verbose=False)
        return np.round(np.clip(prob[1], 0, 1) * 255).astype(np.int16)

    ref = nnunet_u8(_hand_masked_zscore(vol))
    assert np.abs(ours - ref).max() <= 1
    v = vol.astype(np.float64)
    unmasked = nnunet_u8(((v - v.mean()) / (v.std() + 1e-8)).astype(np.float32))
    assert np.abs(unmasked - ref).max() >= 3  # the test can tell the two normalisations apart
