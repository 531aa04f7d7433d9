"""End to end on the real D-LMBmap brain-example slices (100 x 600 x 600, uint16) with a tiny network."""
from __future__ import annotations

import json

import numpy as np
import zarr
from PIL import Image

from axonseg.cli.main import main as axonseg_main
from axonseg.io import open_volume
from tests.inference.helpers import write_model


def test_predict_brain_example_end_to_end(tmp_path, dlmbmap_data):
    model = write_model(tmp_path / "tiny.pth", patch=(64, 64, 64), base=2, pools=1)
    out = tmp_path / "pred"
    rc = axonseg_main(["predict", str(dlmbmap_data / "brain-example"), str(model), str(out), "--convert",
                       "--voxel-size-um", "4", "4", "4", "--step", "1.0", "--chunk", "64", "128", "128",
                       "--block", "128", "384", "384", "--mask-threshold", "0.5", "--tiff-slices", "--quiet"])
    assert rc == 0
    raw, info = open_volume(dlmbmap_data / "brain-example")
    prob, pinfo = open_volume(out / "probability.ome.zarr")
    assert pinfo.format == "ome-zarr" and pinfo.voxel_size_um == (4.0, 4.0, 4.0)
    assert prob.shape == raw.shape == (100, 600, 600) and prob.dtype == np.uint8
    group = zarr.open_group(str(out / "probability.ome.zarr"), mode="r")
    datasets = group.attrs["ome"]["multiscales"][0]["datasets"]
    assert len(datasets) >= 2 and datasets[1]["coordinateTransformations"][0]["scale"] == [8.0, 8.0, 8.0]
    assert group["1"].shape == (50, 300, 300)
    p = prob.compute()
    assert 0 < p.std()  # a random net still responds to the real intensities
    converted, _ = open_volume(out / "input.ome.zarr")
    assert np.array_equal(converted.compute(), raw.compute())  # on-the-fly conversion is lossless
    tiff = np.asarray(Image.open(out / "tiff" / "0042.tiff"))
    assert np.array_equal(tiff, p[42])
    assert Image.open(out / "preview.png").size[0] > 100
    meta = json.loads((out / "run.json").read_text())
    assert meta["input"]["shape_zyx"] == [100, 600, 600] and meta["status"] == "complete"
