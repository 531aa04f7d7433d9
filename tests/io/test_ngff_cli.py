"""The --ngff / --shard flags of convert, predict and density reach the files they write."""
from __future__ import annotations

import numpy as np
import tifffile
import zarr

from axonseg.cli.main import main as axonseg_main
from tests.inference.helpers import write_model


def test_cli_flags_write_ngff04_and_shards(tmp_path):
    vol = np.random.default_rng(0).integers(500, 3000, size=(32, 64, 64), dtype=np.uint16)
    tifffile.imwrite(tmp_path / "stack.tif", vol)
    assert axonseg_main(["convert", str(tmp_path / "stack.tif"), str(tmp_path / "v4.ome.zarr"), "--ngff", "0.4",
                         "--voxel-size-um", "4", "2", "2", "--chunk", "16", "32", "32", "--quiet"]) == 0
    g = zarr.open_group(str(tmp_path / "v4.ome.zarr"), mode="r")
    assert g.attrs["multiscales"][0]["version"] == "0.4" and (tmp_path / "v4.ome.zarr" / ".zgroup").exists()
    assert axonseg_main(["convert", str(tmp_path / "stack.tif"), str(tmp_path / "sh.ome.zarr"), "--shard", "32",
                         "64", "64", "--voxel-size-um", "4", "2", "2", "--chunk", "16", "32", "32", "--quiet"]) == 0
    assert zarr.open_array(str(tmp_path / "sh.ome.zarr" / "0")).shards == (32, 64, 64)
    assert axonseg_main(["convert", str(tmp_path / "stack.tif"), str(tmp_path / "bad.ome.zarr"), "--shard", "20",
                         "64", "64", "--voxel-size-um", "4", "2", "2", "--chunk", "16", "32", "32", "--quiet"]) != 0
    assert not (tmp_path / "bad.ome.zarr").exists()

    model = write_model(tmp_path / "m.pth", patch=(16, 16, 16), pools=2)
    out = tmp_path / "pred"
    assert axonseg_main(["predict", str(tmp_path / "v4.ome.zarr"), str(out), "--model", str(model), "--ngff", "0.4",
                         "--mask-threshold", "0.5", "--chunk", "16", "16", "16", "--block", "16", "32", "32",
                         "--threads", "1", "--no-preview", "--quiet", "--normalization", "per_patch"]) == 0
    mask = zarr.open_group(str(out / "probability.ome.zarr" / "labels" / "mask"), mode="r")
    assert mask.attrs["image-label"]["colors"][0] == {"label-value": 0, "rgba": [0, 0, 0, 0]}
    assert axonseg_main(["density", str(out / "probability.ome.zarr"), "--out", str(tmp_path / "d"),
                         "--cell-size-um", "8", "--ngff", "0.4"]) == 0
    d = zarr.open_group(str(tmp_path / "d" / "axon_fraction.ome.zarr"), mode="r")
    ts = d.attrs["multiscales"][0]["datasets"][0]["coordinateTransformations"]
    assert ts == [{"type": "scale", "scale": [8.0, 8.0, 8.0]},
                  {"type": "translation", "translation": [2.0, 3.0, 3.0]}]  # (c - 1) / 2 * voxel: c = 2, 4, 4
