"""Issue 18 item 50: one voxel-size rule for predict and convert. A file that records no voxel size
(and no --voxel-size-um) is written at 1 µm per axis by both, each with the same one warning naming
the file and the option; a given or recorded size wins."""
from __future__ import annotations

import logging

import numpy as np
import tifffile

from axonseg.cli.main import main
from axonseg.inference import PredictSettings
from axonseg.inference.pipeline import _voxel
from axonseg.io import open_volume
from axonseg.io.ngff_levels import read_ngff_image

WARNING = "records no voxel size and --voxel-size-um was not given: writing 1 µm per axis"


def _bare_stack(tmp_path):
    path = tmp_path / "bare.tiff"
    tifffile.imwrite(path, np.arange(4 * 16 * 16, dtype=np.uint16).reshape(4, 16, 16))
    return path


def test_convert_writes_1um_with_the_warning_predict_gives(tmp_path, caplog):
    src = _bare_stack(tmp_path)
    assert open_volume(src)[1].voxel_size_um is None  # the file records none
    with caplog.at_level(logging.WARNING, logger="axonseg"):
        assert main(["convert", str(src), str(tmp_path / "out.ome.zarr"), "--quiet"]) == 0
    convert_says = [r.getMessage() for r in caplog.records if WARNING in r.getMessage()]
    assert convert_says == [f"{src} {WARNING} (lengths and densities are then per voxel, not per µm)"]
    assert tuple(read_ngff_image(tmp_path / "out.ome.zarr").levels[0].scale_um) == (1.0, 1.0, 1.0)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="axonseg"):
        assert _voxel(PredictSettings(), open_volume(src)[1], src) == (1.0, 1.0, 1.0)
    assert [r.getMessage() for r in caplog.records] == convert_says


def test_a_given_voxel_size_wins_silently_in_both(tmp_path, caplog):
    src = _bare_stack(tmp_path)
    with caplog.at_level(logging.WARNING, logger="axonseg"):
        assert main(["convert", str(src), str(tmp_path / "out.ome.zarr"), "--quiet",
                     "--voxel-size-um", "4", "2", "2"]) == 0
        assert _voxel(PredictSettings(voxel_size_um=(4.0, 2.0, 2.0)), open_volume(src)[1], src) == (4.0, 2.0, 2.0)
    assert WARNING not in caplog.text
    assert tuple(read_ngff_image(tmp_path / "out.ome.zarr").levels[0].scale_um) == (4.0, 2.0, 2.0)
