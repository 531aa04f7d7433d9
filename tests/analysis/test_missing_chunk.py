"""Issue 18 item 8: a chunk missing from a complete prediction is an error naming it (zarr would read it as
0: density cells off, previews and scores wrong); chunks predict left out because they are all zero are not."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile

from axonseg.cli.main import main
from tests.inference.helpers import write_model
from tests.inference.test_pipeline import make_input

SHAPE = (16, 32, 96)
FLAGS = ["--chunk", "16", "16", "16", "--block", "16", "32", "32", "--threads", "1", "--no-preview", "--quiet",
         "--runtime", "eager", "--tissue-threshold", "100", "--tissue-margin", "0", "--mask-threshold", "0.5"]


@pytest.fixture(scope="module")
def prediction(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("pred")
    model = write_model(root / "m16.pth", patch=(16, 16, 16), pools=2)
    src = make_input(root / "in.zarr", SHAPE, seed=2)
    import zarr

    zarr.open_array(str(src), mode="r+")[:, :, :48] = 0  # background: the first 48 columns hold no tissue
    out = root / "out"
    assert main(["predict", str(src), str(model), str(out), *FLAGS]) == 0
    tifffile.imwrite(root / "truth.tif", np.zeros(SHAPE, np.uint8))
    tifffile.imwrite(root / "raw.tif", np.zeros(SHAPE, np.uint16))
    return out


def _commands(root: Path, target: Path, inputs: Path) -> dict:
    return {"density": ["density", str(target), "--out", str(root / "d")],
            "evaluate": ["evaluate", str(target), str(inputs / "truth.tif")],
            "preview": ["preview", str(inputs / "raw.tif"), "--prob", str(target), "--out", str(root / "p.png")]}


def test_predict_records_the_chunks_it_leaves_out_and_a_complete_prediction_passes(prediction, tmp_path):
    markers = [json.loads(p.read_text()) for p in sorted((prediction / "blocks").glob("*.done"))]
    unwritten = [tuple(c) for m in markers for c in m["unwritten_units"]["probability"]]
    assert (0, 0, 0) in unwritten  # the background block ran no patch: no chunk file
    assert not (prediction / "probability.ome.zarr" / "0" / "c" / "0" / "0" / "0").exists()
    for argv in _commands(tmp_path, prediction / "probability.ome.zarr", prediction.parent).values():
        assert main(argv) == 0


@pytest.mark.parametrize("command", ["density", "evaluate", "preview"])
@pytest.mark.parametrize("array", ["probability.ome.zarr", "probability.ome.zarr/labels/mask"])
def test_a_missing_chunk_of_a_complete_prediction_is_named(prediction, tmp_path, capsys, command, array):
    import shutil

    copy = tmp_path / "out"
    shutil.copytree(prediction, copy)
    chunk = copy / array / "0" / "c" / "0" / "1" / "5"
    assert chunk.is_file()
    chunk.unlink()
    (tmp_path / "work").mkdir()
    assert main(_commands(tmp_path / "work", copy / array, prediction.parent)[command]) == 1
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and "c/0/1/5" in err[0] and str(copy / array / "0") in err[0], err
    assert not any((tmp_path / "work").iterdir())
