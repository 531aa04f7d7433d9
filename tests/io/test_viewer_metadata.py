"""What generic viewers need besides placement (issue 18 items 26, 28), read with independent readers:
``omero`` channel colour and contrast window (ome-zarr-models validates it, ome-zarr-py turns it
into napari's contrast limits) and the strict-NGFF ``type``/``metadata`` of every image."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
import zarr
from ome_zarr.io import parse_url
from ome_zarr.reader import Reader
from ome_zarr_models import open_ome_zarr
from ome_zarr_models.common.omero import Omero

from axonseg.inference import PredictSettings, predict_whole_brain
from axonseg.io.convert import convert_to_ome_zarr
from axonseg.io.ome_zarr import ZarrFormat, create_ome_zarr
from tests.inference.helpers import write_model

FAST = dict(chunk_shape_vox=(16, 16, 16), block_shape_vox=(16, 32, 32), num_threads=1, preview=False)


def _multiscale(path: Path) -> dict:
    attrs = dict(zarr.open_group(str(path), mode="r").attrs)
    return (attrs["ome"] if "ome" in attrs else attrs)["multiscales"][0]


def _napari_metadata(path: Path) -> dict:
    """The layer metadata ome-zarr-py (napari-ome-zarr's reader) builds for the image."""
    nodes = list(Reader(parse_url(str(path)))())
    return nodes[0].metadata


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_input_and_probability_carry_colour_and_contrast_window(tmp_path, version):
    vol = np.full((64, 32, 32), 1000, np.uint16)
    vol[:, 8:24, 8:24] = 3000
    tifffile.imwrite(tmp_path / "stack.tif", vol)
    out = tmp_path / "pred"
    model = write_model(tmp_path / "m16.pth", patch=(16, 16, 16), pools=2)
    predict_whole_brain(tmp_path / "stack.tif", model, out,
                        PredictSettings(**FAST, convert_input=True, voxel_size_um=(4.0, 2.0, 2.0),
                                        ngff_version=version, pyramid_max_levels=2), progress=False)
    conv, prob = out / "input.ome.zarr", out / "probability.ome.zarr"
    for path in (conv, prob):
        open_ome_zarr(zarr.open_group(str(path), mode="r"), version=version)  # a valid image
        attrs = dict(zarr.open_group(str(path), mode="r").attrs)
        omero = Omero.model_validate((attrs["ome"] if version == "0.5" else attrs)["omero"])
        assert len(omero.channels) == 1, path
    # the input: grey, displayed over its own range (1000..3000 here), within uint16
    meta = _napari_metadata(conv)
    assert meta["contrast_limits"] == [[pytest.approx(1000.0), pytest.approx(3000.0)]]
    assert meta["colormap"][0][-1] == [1.0, 1.0, 1.0]
    # the probability: uint8 0..255, green
    meta = _napari_metadata(prob)
    assert meta["contrast_limits"] == [[0.0, 255.0]]
    assert meta["colormap"][0][-1] == [0.0, 1.0, 0.0]


@pytest.mark.parametrize("version", ["0.4", "0.5"])
def test_every_image_has_multiscales_type_and_metadata(tmp_path, version):
    """The strict NGFF schemas ask for ``type`` and ``metadata`` in every multiscales entry."""
    tifffile.imwrite(tmp_path / "stack.tif", np.ones((8, 8, 8), np.uint16))  # too small for a pyramid
    conv = convert_to_ome_zarr(tmp_path / "stack.tif", tmp_path / "in.ome.zarr", (1.0, 1.0, 1.0), (8, 8, 8),
                               progress=False, fmt=ZarrFormat(version))
    one = tmp_path / "one.ome.zarr"
    create_ome_zarr(one, (8, 8, 8), (8, 8, 8), np.uint8, (1.0, 1.0, 1.0), 1, "one", fmt=ZarrFormat(version))
    for path in (conv, one):
        ms = _multiscale(path)
        assert len(ms["datasets"]) == 1
        assert ms["type"] == "none" and isinstance(ms["metadata"], dict) and ms["metadata"], path
