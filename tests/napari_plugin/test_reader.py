"""The napari reader: an axonseg output folder opens as the right layer types at the right place.

Folders are written with axonseg's own OME-Zarr writers (both NGFF versions) and, for the
layout before the mask became an NGFF label, by hand. Expected scales and translations are
hand-computed from the voxel size: level 0 of a (4, 2, 2) µm image starts at 0; a density
cell of (5, 10, 10) voxels is (20, 20, 20) µm and its centre sits (c - 1) / 2 voxels in,
i.e. at (8, 9, 9) µm.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile
import zarr

from axonseg.napari._reader import napari_get_reader, prediction_layers

VOXEL = (4.0, 2.0, 2.0)
SHAPE = (16, 40, 40)


def _probability() -> np.ndarray:
    z, y, x = np.indices(SHAPE)
    prob = np.zeros(SHAPE, np.uint8)
    prob[(y == 20) & (x > 4)] = 255          # a straight "axon" along x
    prob[(z == 8) & (x == 30)] = 200
    prob[0, 0, :] = 100                      # below the 0.5 mask threshold
    return prob


def write_prediction(folder: Path, ngff: str = "0.5", status: str = "complete") -> np.ndarray:
    from axonseg.io.ome_zarr import ZarrFormat, create_label, create_ome_zarr, open_level
    from axonseg.io.pyramid import build_pyramid

    folder.mkdir(parents=True)
    prob = _probability()
    fmt = ZarrFormat(ngff)
    create_ome_zarr(folder / "probability.ome.zarr", SHAPE, (8, 16, 16), np.uint8, VOXEL, 2, "probability", fmt=fmt)
    open_level(folder / "probability.ome.zarr", 0, "r+")[...] = prob
    build_pyramid(folder / "probability.ome.zarr", "mean")
    mask = create_label(folder / "probability.ome.zarr", "mask")
    open_level(mask, 0, "r+")[...] = np.where(prob >= 128, 255, 0).astype(np.uint8)
    build_pyramid(mask, "max")
    raw = (1000 + prob.astype(np.uint16) * 8).astype(np.uint16)
    tifffile.imwrite(folder.parent / f"{folder.name}_input.tif", raw)
    (folder / "run.json").write_text(json.dumps({
        "status": status, "input": {"path": str(folder.parent / f"{folder.name}_input.tif"),
                                    "read_from": str(folder.parent / f"{folder.name}_input.tif"),
                                    "shape_zyx": list(SHAPE), "voxel_size_um": list(VOXEL)}}))
    return prob


def _by_kind(layers):
    return {kw["metadata"]["axonseg"]: (data, kw, kind) for data, kw, kind in layers}


@pytest.mark.parametrize("ngff", ["0.5", "0.4"])
def test_prediction_folder_layers_types_scale_translate(tmp_path, ngff):
    folder = tmp_path / "pred"
    prob = write_prediction(folder, ngff)
    reader = napari_get_reader(str(folder))
    assert reader is not None
    layers = _by_kind(reader(str(folder)))
    assert set(layers) == {"input", "probability", "mask"}

    data, kw, kind = layers["probability"]
    assert kind == "image" and kw["colormap"] == "magma" and kw["contrast_limits"] == (0.0, 1.0)
    assert kw["multiscale"] and [a.shape for a in data] == [SHAPE, (8, 20, 20)]
    assert kw["scale"] == VOXEL and kw["translate"] == (0.0, 0.0, 0.0)
    np.testing.assert_allclose(np.asarray(data[0]), prob / 255.0, atol=1e-6)   # p in [0, 1]

    data, kw, kind = layers["mask"]
    assert kind == "labels" and kw["scale"] == VOXEL and kw["translate"] == (0.0, 0.0, 0.0)
    level0 = np.asarray(data[0])
    assert set(np.unique(level0)) == {0, 255} and (level0 == 255).sum() == (prob >= 128).sum()
    assert kw["colormap"][255] == (1.0, 0.0, 1.0, 1.0) and kw["colormap"][None][3] == 0.0

    data, kw, kind = layers["input"]
    assert kind == "image" and data.shape == SHAPE and kw["scale"] == VOXEL
    assert kw["contrast_limits"][0] >= 1000 and kw["contrast_limits"][1] <= 1000 + 255 * 8


def test_pyramid_level_translation_is_read(tmp_path):
    """The level-1 transformation written by axonseg: scale 2 x voxel, translation (2 - 1)/2 x voxel."""
    from axonseg.io.ngff_levels import read_ngff_image

    folder = tmp_path / "pred"
    write_prediction(folder)
    image = read_ngff_image(folder / "probability.ome.zarr")
    assert image.levels[1].scale_um == (8.0, 4.0, 4.0)
    assert image.levels[1].translation_um == (2.0, 1.0, 1.0)
    assert image.label_names == ("mask",)


def test_converted_input_opens_as_a_pyramid_in_the_same_frame(tmp_path):
    """With ``predict --convert`` the input is ``input.ome.zarr`` (written by axonseg convert)."""
    from axonseg.io.convert import convert_to_ome_zarr

    folder = tmp_path / "pred"
    write_prediction(folder)
    convert_to_ome_zarr(tmp_path / "pred_input.tif", folder / "input.ome.zarr", VOXEL, chunk_shape_zyx=(8, 16, 16),
                        progress=False)
    raw = tifffile.imread(tmp_path / "pred_input.tif")
    (tmp_path / "pred_input.tif").unlink()          # the original may be gone: the copy is used
    data, kw, kind = _by_kind(prediction_layers(folder))["input"]
    assert kind == "image" and not kw["multiscale"]   # 16 x 40 x 40 is too small for a second level
    np.testing.assert_array_equal(np.asarray(data), raw)
    assert kw["scale"] == VOXEL and kw["translate"] == (0.0, 0.0, 0.0)
    assert kw["colormap"] == "gray" and 1000 <= kw["contrast_limits"][0] < kw["contrast_limits"][1] <= 1000 + 255 * 8


def test_density_maps_overlay_in_the_brain_frame(tmp_path):
    from axonseg.analysis.density import DensitySettings
    from axonseg.analysis.density_run import run_density

    folder = tmp_path / "pred"
    write_prediction(folder)
    run_density(folder / "probability.ome.zarr", folder / "density", DensitySettings(cell_size_um=20.0))
    layers = _by_kind(prediction_layers(folder))
    assert {"axon_fraction", "axon_length_um"} <= set(layers)
    data, kw, kind = layers["axon_fraction"]
    assert kind == "image" and data.shape == (4, 4, 4) and not kw["multiscale"]
    assert kw["scale"] == (20.0, 20.0, 20.0) and kw["translate"] == (8.0, 9.0, 9.0)
    assert float(np.asarray(data).max()) > 0
    # every additively blended layer's colormap is black at 0: empty cells and p = 0 tint nothing
    from napari.utils.colormaps import AVAILABLE_COLORMAPS

    for _, kw, kind in layers.values():
        if kw.get("blending") == "additive":
            assert AVAILABLE_COLORMAPS[kw["colormap"]].map([0.0])[0][:3].max() < 0.02, kw["name"]
    # a density folder opens on its own too
    alone = napari_get_reader(str(folder / "density"))(str(folder / "density"))
    assert [kw["metadata"]["axonseg"] for _, kw, _ in alone] == ["axon_fraction", "axon_length_um"]


def test_legacy_layout_mask_beside_and_scale_only(tmp_path):
    """Before the NGFF label: ``mask.ome.zarr`` beside the probability, levels with a scale only."""
    folder = tmp_path / "old"
    folder.mkdir()
    for name, value in (("probability", 200), ("mask", 255)):
        g = zarr.open_group(str(folder / f"{name}.ome.zarr"), mode="w", zarr_format=3)
        g.attrs["ome"] = {"version": "0.5", "multiscales": [{"axes": ["z", "y", "x"], "datasets": [
            {"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [3.0, 1.5, 1.5]}]}]}]}
        g.create_array("0", shape=(4, 6, 6), dtype=np.uint8, fill_value=0)[...] = value
    (folder / "run.json").write_text(json.dumps({"status": "running", "input": {"path": "/nonexistent.tif"}}))
    layers = prediction_layers(folder)
    kinds = [(kw["metadata"]["axonseg"], kind, kw["scale"], kw["translate"]) for _, kw, kind in layers]
    assert kinds == [("probability", "image", (3.0, 1.5, 1.5), (0.0, 0.0, 0.0)),
                     ("mask", "labels", (3.0, 1.5, 1.5), (0.0, 0.0, 0.0))]
    assert all("[incomplete]" in kw["name"] for _, kw, _ in layers)


def test_other_folders_are_not_claimed(tmp_path):
    (tmp_path / "some.ome.zarr").mkdir()
    assert napari_get_reader(str(tmp_path)) is None
    assert napari_get_reader(str(tmp_path / "some.ome.zarr")) is None
    assert napari_get_reader([str(tmp_path), str(tmp_path)]) is None


def test_napari_opens_the_folder_through_the_installed_plugin(tmp_path):
    """npe2 finds the manifest through the ``napari.manifest`` entry point; layers land in the viewer."""
    import npe2
    from napari.components import ViewerModel
    from napari.plugins import _initialize_plugins

    _initialize_plugins()  # what napari.Viewer() does: discover installed plugins
    assert npe2.PluginManager.instance().get_manifest("axonseg").name == "axonseg"
    folder = tmp_path / "pred"
    write_prediction(folder)
    viewer = ViewerModel()
    viewer.open(str(folder), plugin="axonseg")
    kinds = {layer.metadata["axonseg"]: layer for layer in viewer.layers}
    assert type(kinds["probability"]).__name__ == "Image" and type(kinds["mask"]).__name__ == "Labels"
    np.testing.assert_allclose(kinds["mask"].scale, VOXEL)
    np.testing.assert_allclose(kinds["probability"].translate, (0, 0, 0))


def test_an_input_recorded_relative_to_where_predict_ran_opens_from_elsewhere(tmp_path, monkeypatch, caplog):
    """Issue 18 item 48: a run.json written before inputs were recorded absolute (``axonseg predict
    pred_input.tif pred`` run in ``runs/``) still gets its input layer when napari runs elsewhere."""
    folder = tmp_path / "runs" / "pred"
    write_prediction(folder)
    meta = json.loads((folder / "run.json").read_text())
    meta["input"].update(path="pred_input.tif", read_from="pred_input.tif")
    (folder / "run.json").write_text(json.dumps(meta))
    monkeypatch.chdir(tmp_path)  # not where predict ran, and no pred_input.tif here
    kinds = _by_kind(prediction_layers(folder))
    assert "input" in kinds and kinds["input"][0].shape == SHAPE
    (tmp_path / "runs" / "pred_input.tif").unlink()
    assert "input" not in _by_kind(prediction_layers(folder))
    assert f"input pred_input.tif not found (tried {tmp_path / 'runs' / 'pred_input.tif'}" in caplog.text


def test_napari_without_a_plugin_name_offers_axonseg_by_name(tmp_path):
    """Opening a prediction folder with no plugin named (napari's File > Open Folder, ``napari OUT``)
    finds two readers and asks, naming ``axonseg``; napari's built-in reader alone cannot read it
    (it stacks every file, ``blocks.log`` first), so the README says ``--plugin axonseg``."""
    from napari.components import ViewerModel
    from napari.errors import MultipleReaderError
    from napari.plugins import _initialize_plugins

    _initialize_plugins()
    folder = tmp_path / "pred"
    write_prediction(folder)
    (folder / "blocks.log").write_text("block 0 done\n")
    viewer = ViewerModel()
    with pytest.raises(MultipleReaderError) as info:
        viewer.open(str(folder), plugin=None)
    assert "axonseg" in info.value.available_plugins
    viewer.open(str(folder), plugin="axonseg")
    assert "probability" in {layer.metadata["axonseg"] for layer in viewer.layers}
