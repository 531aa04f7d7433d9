"""Every TIFF axonseg writes is an ImageJ hyperstack (ZYX stack / YX slice) with its voxel size in µm,
read back from the tags with tifffile (ImageJ description, X/YResolution, series axes)."""
from __future__ import annotations

import numpy as np
import pytest
import tifffile

from axonseg.analysis.density import DensitySettings
from axonseg.analysis.density_run import run_density
from axonseg.annotate.crop import crop_cubes_to_folder
from axonseg.annotate.folders import fine_labels_for_folder, rough_labels_for_folder
from axonseg.inference import PredictSettings, predict_whole_brain
from axonseg.io import open_volume, write_tiff
from axonseg.io.ome_zarr import ZarrFormat, create_ome_zarr, write_region
from axonseg.io.tiff import tiff_voxel_size_um
from tests.inference.helpers import write_model


def tags(path):
    """(ImageJ metadata, series axes, dtype, x µm, y µm) straight from the file."""
    with tifffile.TiffFile(path) as tf:
        page = tf.pages.first
        xr, yr = page.tags["XResolution"].value, page.tags["YResolution"].value
        # TIFF ResolutionUnit 3 = centimetre (1e4 µm); 1 = none (ImageJ's unit from its description)
        um = 1e4 if page.tags["ResolutionUnit"].value == 3 else 1.0
        return tf.imagej_metadata, tf.series[0].axes, tf.series[0].dtype, um * xr[1] / xr[0], um * yr[1] / yr[0]


def assert_calibrated(path, voxel_zyx, axes="ZYX"):
    ij, series_axes, _, x, y = tags(path)
    assert ij is not None and ij["unit"] == "um", path
    assert series_axes == axes, (path, series_axes)
    assert ij["spacing"] == pytest.approx(voxel_zyx[0], rel=1e-6)
    assert (y, x) == pytest.approx(tuple(voxel_zyx[1:]), rel=1e-6)
    if axes == "ZYX":
        assert ij["slices"] == tifffile.imread(path).shape[0]


def test_stack_and_slice_calibration_round_trip(tmp_path):
    vol = np.random.default_rng(0).integers(0, 4000, size=(7, 20, 30), dtype=np.uint16)
    write_tiff(tmp_path / "stack.tif", vol, (5.0, 0.65, 0.65))
    assert_calibrated(tmp_path / "stack.tif", (5.0, 0.65, 0.65))
    assert np.array_equal(tifffile.imread(tmp_path / "stack.tif"), vol)
    # convert/predict read the calibration back
    arr, info = open_volume(tmp_path / "stack.tif")
    assert info.voxel_size_um == pytest.approx((5.0, 0.65, 0.65), rel=1e-6)
    write_tiff(tmp_path / "slice.tif", vol[0].astype(np.uint8), (5.0, 2.0, 1.0))
    assert_calibrated(tmp_path / "slice.tif", (5.0, 2.0, 1.0), axes="YX")
    # without a voxel size: still a z-stack, no unit claimed
    write_tiff(tmp_path / "plain.tif", vol)
    ij, axes, _, _, _ = tags(tmp_path / "plain.tif")
    assert axes == "ZYX" and "unit" not in ij and tiff_voxel_size_um(tmp_path / "plain.tif") is None


def test_dtypes_imagej_cannot_hold_are_converted_losslessly_or_refused(tmp_path):
    a = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    write_tiff(tmp_path / "i64.tif", a * 1000)  # 0..23000: uint16 holds it
    assert tags(tmp_path / "i64.tif")[2] == np.uint16
    assert np.array_equal(tifffile.imread(tmp_path / "i64.tif"), a * 1000)
    write_tiff(tmp_path / "neg.tif", (a - 5).astype(np.int16))
    assert tags(tmp_path / "neg.tif")[2] == np.float32 and np.array_equal(tifffile.imread(tmp_path / "neg.tif"), a - 5)
    write_tiff(tmp_path / "bool.tif", a > 3)
    assert tags(tmp_path / "bool.tif")[2] == np.uint8
    with pytest.raises(ValueError, match="f64.tif.*float64"):
        write_tiff(tmp_path / "f64.tif", np.full((2, 3, 4), 0.1, np.float64))
    with pytest.raises(ValueError, match="voxel size"):
        write_tiff(tmp_path / "z.tif", a.astype(np.uint8), (0, 1, 1))
    assert not list(tmp_path.glob(".*tmp"))


def test_density_tiffs_are_zyx_with_the_cell_size(tmp_path):
    prob = tmp_path / "prob.ome.zarr"
    create_ome_zarr(prob, (16, 24, 32), (8, 12, 16), np.uint8, (4.0, 2.0, 1.0), 1, "p", fmt=ZarrFormat("0.5"))
    data = np.zeros((16, 24, 32), np.uint8)
    data[2:10, 5, 3:30] = 255
    write_region(prob, (slice(0, 16), slice(0, 24), slice(0, 32)), data)
    run_density(prob, tmp_path / "d", DensitySettings(cell_size_um=8.0, halo_vox=2))
    for name in ("axon_fraction", "axon_length_um"):
        path = tmp_path / "d" / f"{name}.tif"
        assert_calibrated(path, (8.0, 8.0, 8.0))  # cells of 2 x 4 x 8 voxels = 8 um
        grid, _ = open_volume(tmp_path / "d" / f"{name}.ome.zarr")
        assert np.array_equal(tifffile.imread(path), grid.compute())
        assert tifffile.imread(path).shape == (8, 6, 4)


def test_prediction_slices_cubes_and_labels_are_calibrated(tmp_path):
    rng = np.random.default_rng(0)
    brain = tmp_path / "brain.ome.zarr"
    vol = rng.integers(500, 3000, size=(40, 48, 48)).astype(np.uint16)
    vol[:, 20:23, 10:40] = 20000  # a bright bar for the rough labels
    create_ome_zarr(brain, vol.shape, (16, 16, 16), np.uint16, (4.0, 1.5, 1.5), 1, "brain")
    write_region(brain, (slice(0, 40), slice(0, 48), slice(0, 48)), vol)

    model = write_model(tmp_path / "m.pth", patch=(16, 16, 16), pools=2)
    s = PredictSettings(chunk_shape_vox=(16, 16, 16), block_shape_vox=(16, 32, 32), num_threads=1,
                        preview=False, write_tiff_slices=True, normalization="per_patch")
    predict_whole_brain(brain, model, tmp_path / "pred", s, progress=False)
    slices = sorted((tmp_path / "pred" / "tiff").glob("*.tiff"))
    assert len(slices) == 40
    assert_calibrated(slices[7], (4.0, 1.5, 1.5), axes="YX")

    points = tmp_path / "points.csv"
    points.write_text("z,y,x\n20,21,24\n")
    cubes = tmp_path / "cubes"
    crop_cubes_to_folder(brain, points, cubes, (16, 16, 16))
    cube = next((cubes / "volumes").glob("volume-*.tiff"))
    assert_calibrated(cube, (4.0, 1.5, 1.5))
    rough_labels_for_folder(cubes / "volumes", cubes / "rough")
    fine_labels_for_folder(cubes / "rough", cubes / "fine")
    for sub in ("rough", "fine"):
        assert_calibrated(next((cubes / sub).glob("label-*.tiff")), (4.0, 1.5, 1.5))
