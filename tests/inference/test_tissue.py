"""Tissue masking: a low-resolution view, a documented threshold (automatic or given), patches entirely
outside tissue skipped (probability 0 there), everything else unchanged; the mask saved with the output."""
from __future__ import annotations

import json

import numpy as np
import pytest
import zarr

from axonseg.inference import PredictSettings, predict_whole_brain
from axonseg.inference.tissue import automatic_threshold, low_resolution_view, tissue_mask
from tests.inference.helpers import write_model


@pytest.fixture(scope="module")
def model16(tmp_path_factory):
    return write_model(tmp_path_factory.mktemp("m") / "m16.pth", patch=(16, 16, 16), pools=2)


def brain(shape=(32, 64, 72), seed=0) -> np.ndarray:
    """An ellipsoid of textured tissue (~1000-3000) filling ~half the box in dark background (~100)."""
    rng = np.random.default_rng(seed)
    z, y, x = np.indices(shape, dtype=np.float32)
    c = [(s - 1) / 2 for s in shape]
    r = [0.5 * s for s in shape]
    inside = ((z - c[0]) / r[0]) ** 2 + ((y - c[1]) / r[1]) ** 2 + ((x - c[2]) / r[2]) ** 2 <= 1
    out = rng.normal(100, 10, shape)
    out[inside] = rng.integers(1000, 3000, size=int(inside.sum()))
    return np.clip(out, 0, 65535).astype(np.uint16)


def test_low_resolution_view_is_the_cell_mean():
    a = np.arange(10 * 11 * 13, dtype=np.float32).reshape(10, 11, 13)
    v = low_resolution_view(a, 4)
    assert v.shape == (3, 3, 4)
    assert v[0, 0, 0] == pytest.approx(a[:4, :4, :4].mean())
    assert v[2, 2, 3] == pytest.approx(a[8:, 8:, 12:].mean())  # partial cell: mean of what is there


def test_automatic_threshold_needs_two_populations():
    view = low_resolution_view(brain(), 8)
    t = automatic_threshold(view)
    assert t is not None and 100 < t < 1000
    flat = np.random.default_rng(0).integers(500, 3000, size=(8, 8, 8)).astype(np.float32)
    assert automatic_threshold(flat) is None  # a crop inside the brain: everything is tissue
    assert tissue_mask(flat, 8).mask.all()


def test_dim_tissue_beside_a_dark_corner_is_all_tissue():
    """The real excerpt: a dark corner (~1000) beside dim tissue with faint axons (~1600-2700) and bright
    tissue: no background class (the old Otsu rule skipped 40 % of its patches, faint axons included)."""
    import tifffile

    from tests.conftest import require_dlmbmap_data

    excerpt = require_dlmbmap_data("brain-example")

    vol = np.stack([tifffile.imread(f) for f in sorted(excerpt.glob("*.tif*"))])
    view = low_resolution_view(vol, 8)
    assert automatic_threshold(view) is None
    assert automatic_threshold(low_resolution_view(vol[:, :, 300:], 8)) is None  # all dim tissue
    # the same texture inside a camera-dark box: background found, only the dark box skipped
    boxed = np.full((100, 700, 700), 110, np.uint16)
    boxed[:, 50:650, 50:650] = vol
    t = automatic_threshold(low_resolution_view(boxed, 8))
    assert t is not None and 110 < t < 400


def test_patches_outside_tissue_are_skipped_and_the_rest_is_unchanged(tmp_path, model16):
    src = tmp_path / "brain.zarr"
    zarr.create_array(str(src), data=brain((48, 96, 96)), chunks=(16, 32, 32))
    base = dict(chunk_shape_vox=(16, 16, 16), block_shape_vox=(16, 32, 32), num_threads=1, preview=False)
    full = predict_whole_brain(src, model16, tmp_path / "full", PredictSettings(**base, tissue_mask=False),
                               progress=False)
    skip = predict_whole_brain(src, model16, tmp_path / "skip", PredictSettings(**base, tissue_margin_vox=0),
                               progress=False)
    assert skip.patches_skipped > 0 and skip.patches_run + skip.patches_skipped == full.patches_run
    meta = json.loads((tmp_path / "skip" / "run.json").read_text())
    assert meta["tissue"]["threshold"] > 100 and meta["patches"]["skipped"] == skip.patches_skipped
    saved = zarr.open_array(str(tmp_path / "skip" / "tissue.ome.zarr" / "0"))[:]
    assert saved.shape == (6, 12, 12) and set(np.unique(saved)) == {0, 255}
    a = zarr.open_array(str(tmp_path / "full" / "probability.ome.zarr" / "0"))[:]
    b = zarr.open_array(str(tmp_path / "skip" / "probability.ome.zarr" / "0"))[:]
    # voxels of which no covering patch was skipped are unchanged; voxels outside every run patch are 0
    from axonseg.inference.blockjob import PredictJob
    from axonseg.inference.normalization import NormalizationParams
    from axonseg.inference.settings import PredictSettings as PS
    job = PredictJob(str(src), None, str(model16), str(tmp_path / "skip"), PS(**base, tissue_margin_vox=0),
                     NormalizationParams("nonCT"), a.shape, (16, 16, 16), 1, use_tissue=True)
    from axonseg.inference.blockjob import _tissue_table
    table = _tissue_table(job)
    covered_by_run = np.zeros(a.shape, int)
    covered_by_skipped = np.zeros(a.shape, int)
    for iz, z in enumerate(job.lattice.starts_zyx[0]):
        for iy, y in enumerate(job.lattice.starts_zyx[1]):
            for ix, x in enumerate(job.lattice.starts_zyx[2]):
                sl = tuple(slice(*job.ownership.patch_extent(ax, s)) for ax, s in enumerate((z, y, x)))
                (covered_by_run if table[iz, iy, ix] else covered_by_skipped)[sl] += 1
    assert (covered_by_skipped > 0).any() and (covered_by_run == 0).any()
    np.testing.assert_array_equal(b[covered_by_skipped == 0], a[covered_by_skipped == 0])
    assert b[covered_by_run == 0].max() == 0


def test_threshold_is_overridable_from_the_command_line(tmp_path, model16):
    from axonseg.cli.main import main

    src = tmp_path / "brain.zarr"
    zarr.create_array(str(src), data=brain((16, 32, 32)), chunks=(16, 32, 32))
    out = tmp_path / "out"
    rc = main(["predict", str(src), str(model16), str(out), "--tissue-threshold", "70000", "--chunk", "16", "16",
               "16", "--block", "16", "32", "32", "--threads", "1", "--no-preview", "--quiet"])
    assert rc == 0
    meta = json.loads((out / "run.json").read_text())
    assert meta["tissue"]["threshold"] == 70000 and meta["patches"]["run"] == 0
    assert zarr.open_array(str(out / "probability.ome.zarr" / "0"))[:].max() == 0


def test_signed_input_with_negative_background_keeps_every_cell():
    """Issue 18 item 5: background ~-200, tissue ~+100 with noise (many tissue cells below 0): the old
    rule clipped at 0, chose threshold 0.0 and dropped every tissue cell with a negative mean."""
    rng = np.random.default_rng(3)
    view = rng.normal(-200, 5, (8, 8, 8)).astype(np.float32)
    view[:, :, 4:] = rng.normal(100, 150, (8, 8, 4))
    assert (view[:, :, 4:] < 0).any()
    assert automatic_threshold(view) is None
    assert tissue_mask(view, 8).mask.all()
