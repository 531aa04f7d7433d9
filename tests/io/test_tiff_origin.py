"""TIFF outputs keep a non-zero origin (ImageJ calibration origin) and name their resolution unit
(TIFF ResolutionUnit CENTIMETER), read back with tifffile (issue 18 item 27)."""
from __future__ import annotations

import numpy as np
import pytest
import tifffile

from axonseg.analysis.density import DensitySettings
from axonseg.analysis.density_run import run_density
from axonseg.io import write_tiff
from axonseg.io.ome_zarr import create_ome_zarr, write_region


def test_tiff_keeps_a_non_zero_origin_and_names_its_resolution_unit(tmp_path):
    path = tmp_path / "stack.tif"
    write_tiff(path, np.zeros((3, 4, 6), np.uint8), (5.0, 0.5, 0.25), origin_um=(100.0, 50.0, -20.0))
    with tifffile.TiffFile(path) as tf:
        page, ij = tf.pages.first, tf.imagej_metadata
        assert page.tags["ResolutionUnit"].value == 3  # CENTIMETER
        assert page.tags["XResolution"].value[0] / page.tags["XResolution"].value[1] == pytest.approx(4e4)
        assert page.tags["YResolution"].value[0] / page.tags["YResolution"].value[1] == pytest.approx(2e4)
        # ImageJ: calibrated x = (pixel - xorigin) * pixel width, so voxel 0 lies at -xorigin * width
        assert (ij["zorigin"], ij["yorigin"], ij["xorigin"]) == pytest.approx((-20.0, -100.0, 80.0))
    with pytest.raises(ValueError, match="origin needs a voxel size"):
        write_tiff(tmp_path / "o.tif", np.zeros((3, 4, 6), np.uint8), origin_um=(1.0, 0.0, 0.0))


def test_density_tiffs_keep_the_brains_origin(tmp_path):
    src = tmp_path / "in.ome.zarr"
    create_ome_zarr(src, (16, 32, 32), (16, 32, 32), np.uint8, (4.0, 2.0, 2.0), 1, "in",
                    origin_um=(100.0, 50.0, -20.0))
    write_region(src, (slice(0, 16), slice(0, 32), slice(0, 32)), np.zeros((16, 32, 32), np.uint8))
    run_density(src, tmp_path / "dens", DensitySettings(cell_size_um=16.0, halo_vox=2))
    with tifffile.TiffFile(tmp_path / "dens" / "axon_fraction.tif") as tf:
        ij = tf.imagej_metadata
    # cells of 4 x 8 x 8 voxels (16 µm): cell 0's centre at origin + (c - 1) / 2 * voxel
    centre = (100.0 + 1.5 * 4, 50.0 + 3.5 * 2, -20.0 + 3.5 * 2)
    assert [-ij[k] * 16.0 for k in ("zorigin", "yorigin", "xorigin")] == pytest.approx(list(centre))
