"""The shipped starter model v2 (opt-in, ``--model axonseg/models/axonseg-starter-v2.pth``): its answer
depends on the neighbourhood, not on where the tiles fall, and featureless input gives no axon."""
import numpy as np
import pytest

from axonseg.inference import PredictSettings, predict_whole_brain
from axonseg.io import open_volume, write_tiff
from axonseg.starter.model import MODELS_DIR, STARTER_MODEL_V2

V2 = MODELS_DIR / STARTER_MODEL_V2


def _predict(tmp_path, image, name, **settings):
    if min(image.shape) > 1:
        src = tmp_path / f"{name}.tiff"
        write_tiff(src, image)
    else:  # a one-slice TIFF is 2-D: a one-voxel volume goes as zarr
        import zarr

        src = tmp_path / f"{name}.zarr"
        zarr.save_array(str(src), image, zarr_format=2)
    out = tmp_path / f"out_{name}"
    predict_whole_brain(src, V2, out, PredictSettings(
        preview=False, voxel_size_um=(1.0, 1.0, 1.0), **settings), progress=False)
    prob, _ = open_volume(out / "probability.ome.zarr")
    mask, _ = open_volume(out / "probability.ome.zarr" / "labels" / "mask")
    return np.asarray(prob[:]), np.asarray(mask[:]) > 0


def test_v2_is_position_independent_and_records_how_to_run():
    from axonseg.inference.weights import load_model

    model = load_model(V2)
    assert model.config.norm == "batch" and model.config.position_independent
    assert model.normalization.scheme == "tissue_ratio"
    assert model.extra["halo_vox"] > 0 and 0 < model.extra["mask_threshold"] < 1


def test_where_the_tiles_fall_does_not_change_the_answer(tmp_path, dlmbmap_data):
    """The same real volume predicted with tiles of 128³ and of 64³ (the tile borders fall
    elsewhere; the lattice models' answer changes there): the same probability to within one
    grey level, the same mask (Dice >= 0.99). Crops of a volume at other offsets get their own
    tissue level and another pooling grid and agree less: bench_robustness.py measures that."""
    vol, _ = open_volume(dlmbmap_data / "brain-example")
    image = np.asarray(vol[0:72, 100:276, 150:326])  # training rows, dense fibres
    pa, ma = _predict(tmp_path, image, "a", block_shape_vox=(128, 128, 128))
    pb, mb = _predict(tmp_path, image, "b", block_shape_vox=(64, 64, 64), chunk_shape_vox=(64, 64, 64))
    assert ma.sum() > 200, "too few axon voxels to compare"
    assert np.abs(pa.astype(int) - pb.astype(int)).max() <= 1
    assert 2 * np.sum(ma & mb) / (ma.sum() + mb.sum()) >= 0.99


@pytest.mark.parametrize("image", [np.zeros((40, 48, 48), np.uint16), np.full((40, 48, 48), 1000, np.uint16),
                                   np.full((1, 1, 1), 1000, np.uint16)], ids=["zeros", "constant", "1x1x1"])
def test_featureless_input_gives_no_axon_voxel(tmp_path, image):
    _, mask = _predict(tmp_path, image, "featureless")
    assert mask.sum() == 0
