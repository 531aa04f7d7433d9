"""Issue 18 item 33: units, TIFF calibration and NGFF transformations against hand-known values.

The files here are written with tifffile / zarr directly (not with axonseg's writers), or the
metadata axonseg writes is read as plain JSON: the expected values never come from axonseg.
"""
from __future__ import annotations

import json

import numpy as np
import tifffile
import zarr

from axonseg.io.ngff_levels import read_ngff_image
from axonseg.io.ome_zarr import multiscales_metadata
from axonseg.io.tiff import tiff_voxel_size_um


def test_ngff_axes_unit_is_the_udunits_name_micrometer(tmp_path):
    """NGFF requires a UDUNITS-2 name: 'micrometer' (not 'micron', 'um' or 'µm')."""
    for version in ("0.4", "0.5"):
        meta = json.loads(json.dumps(multiscales_metadata("x", (4.0, 2.0, 1.0), 2, ngff_version=version)))
        ms = meta["multiscales"][0] if version == "0.4" else meta["ome"]["multiscales"][0]
        assert [a["unit"] for a in ms["axes"]] == ["micrometer"] * 3
        assert [a["name"] for a in ms["axes"]] == ["z", "y", "x"]


def test_tiff_y_and_x_resolution_are_not_swapped(tmp_path):
    path = tmp_path / "aniso.tif"
    # y 0.5 µm, x 0.25 µm: tifffile's resolution is (x, y) in pixels per unit
    tifffile.imwrite(str(path), np.zeros((3, 4, 6), np.uint8), imagej=True, resolution=(1 / 0.25, 1 / 0.5),
                     metadata={"axes": "ZYX", "spacing": 3.0, "unit": "um"})
    assert tiff_voxel_size_um(path) == (3.0, 0.5, 0.25)


def _hand_ngff(path, ms_transforms, ds_transforms, version="0.5"):
    """An OME-Zarr group written with zarr and a hand-made attribute dict."""
    ms = {"axes": [{"name": a, "type": "space", "unit": "micrometer"} for a in "zyx"],
          "datasets": [{"path": "0", "coordinateTransformations": ds_transforms}],
          "coordinateTransformations": ms_transforms}
    attrs = {"ome": {"version": "0.5", "multiscales": [ms]}}
    group = zarr.open_group(str(path), mode="w", attributes=attrs)
    group.create_array("0", shape=(2, 2, 2), dtype=np.uint8)
    return path


def test_multiscales_scale_applies_to_the_dataset_translation(tmp_path):
    """x_world = s_ms * (s_ds * j + t_ds) + t_ms: scale (2, 4, 6) and translation
    (2*3 + 10, 4*5 + 20, 6*7 + 30) = (16, 40, 72) µm, worked out by hand."""
    path = _hand_ngff(tmp_path / "a.ome.zarr",
                      [{"type": "scale", "scale": [2.0, 4.0, 6.0]},
                       {"type": "translation", "translation": [10.0, 20.0, 30.0]}],
                      [{"type": "scale", "scale": [1.0, 1.0, 1.0]},
                       {"type": "translation", "translation": [3.0, 5.0, 7.0]}])
    level = read_ngff_image(path).levels[0]
    assert tuple(level.scale_um) == (2.0, 4.0, 6.0)
    assert tuple(level.translation_um) == (16.0, 40.0, 72.0)


def test_dataset_translation_is_not_scaled_by_its_own_scale(tmp_path):
    """Within one dataset, scale then translation: x = 0.5 j + 3 (translation not multiplied)."""
    path = _hand_ngff(tmp_path / "b.ome.zarr", [],
                      [{"type": "scale", "scale": [0.5, 0.5, 0.5]},
                       {"type": "translation", "translation": [3.0, 3.0, 3.0]}])
    level = read_ngff_image(path).levels[0]
    assert tuple(level.scale_um) == (0.5, 0.5, 0.5) and tuple(level.translation_um) == (3.0, 3.0, 3.0)
