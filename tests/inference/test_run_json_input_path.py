"""Issue 18 item 48: run.json records the input as an absolute path, whatever the working folder of
``axonseg predict``, so a viewer opening the output folder from elsewhere finds the raw."""
from __future__ import annotations

import json

from axonseg.cli.main import main
from tests.inference.helpers import write_model
from tests.inference.test_pipeline import make_input
from tests.inference.test_predict_defects import FLAGS


def test_run_json_records_the_input_absolute_when_predict_gets_relative_paths(tmp_path, monkeypatch):
    model = write_model(tmp_path / "m.pth", patch=(16, 16, 16), pools=2)
    make_input(tmp_path / "in.zarr", (16, 32, 32))
    monkeypatch.chdir(tmp_path)
    assert main(["predict", "in.zarr", str(model), "out", *FLAGS]) == 0
    recorded = json.loads((tmp_path / "out" / "run.json").read_text())["input"]
    assert recorded["path"] == str(tmp_path / "in.zarr") and recorded["read_from"] == str(tmp_path / "in.zarr")
