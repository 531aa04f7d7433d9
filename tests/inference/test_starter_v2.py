"""The shipped default model (starter v2): its answer depends on the neighbourhood, not on where the
patches or tiles fall, and featureless input gives no axon."""
import numpy as np
import pytest

from axonseg.inference import PredictSettings, predict_whole_brain
from axonseg.io import open_volume, write_tiff
from axonseg.starter import starter_model_path


def _predict(tmp_path, image, name, **settings):
    src = tmp_path / f"{name}.tiff"
    write_tiff(src, image)
    out = tmp_path / f"out_{name}"
    predict_whole_brain(src, starter_model_path(), out, PredictSettings(
        preview=False, voxel_size_um=(1.0, 1.0, 1.0), **settings), progress=False)
    prob, _ = open_volume(out / "probability.ome.zarr")
    mask, _ = open_volume(out / "probability.ome.zarr" / "labels" / "mask")
    return np.asarray(prob[:]), np.asarray(mask[:]) > 0


def test_the_default_model_is_position_independent_and_records_how_to_run():
    from axonseg.inference.weights import load_model

    model = load_model(starter_model_path())
    assert model.config.norm == "batch" and model.config.position_independent
    assert model.normalization.scheme == "tissue_ratio"
    assert model.extra["halo_vox"] > 0 and 0 < model.extra["mask_threshold"] < 1


def test_crops_at_offset_lattices_agree_on_their_common_interior(tmp_path, dlmbmap_data):
    """Two crops of the real excerpt whose origins differ by (3, 5, 7) voxels (not a multiple of the
    pooling factor 8: the network's lattice and the tiles fall elsewhere), each predicted on its own
    (its own tissue level): the masks agree on the common interior (Dice >= 0.99)."""
    vol, _ = open_volume(dlmbmap_data / "brain-example")
    a0, b0 = np.array([0, 300, 380]), np.array([3, 305, 387])
    size = np.array([64, 160, 160])
    _, ma = _predict(tmp_path, np.asarray(vol[a0[0]:a0[0] + 64, a0[1]:a0[1] + 160, a0[2]:a0[2] + 160]), "a")
    _, mb = _predict(tmp_path, np.asarray(vol[b0[0]:b0[0] + 64, b0[1]:b0[1] + 160, b0[2]:b0[2] + 160]), "b")
    margin = 16  # away from both crops' borders (zero padding differs there)
    lo, hi = b0 + margin, a0 + size - margin
    ia = tuple(slice(l - a0[i], h - a0[i]) for i, (l, h) in enumerate(zip(lo, hi)))
    ib = tuple(slice(l - b0[i], h - b0[i]) for i, (l, h) in enumerate(zip(lo, hi)))
    x, y = ma[ia], mb[ib]
    assert x.sum() > 500, "too few axon voxels to compare"
    dice = 2 * np.sum(x & y) / (x.sum() + y.sum())
    assert dice >= 0.99, dice


@pytest.mark.parametrize("image", [np.zeros((40, 48, 48), np.uint16), np.full((40, 48, 48), 1000, np.uint16),
                                   np.full((1, 1, 1), 1000, np.uint16)], ids=["zeros", "constant", "1x1x1"])
def test_featureless_input_gives_no_axon_voxel(tmp_path, image):
    _, mask = _predict(tmp_path, image, "featureless")
    assert mask.sum() == 0
