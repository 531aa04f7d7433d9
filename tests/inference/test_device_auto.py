"""Issue 18 item 45: predict's device defaults to ``auto`` (cuda when torch sees a GPU, else cpu),
resolved once per run, and the run says which device runs. CI has no GPU: ``torch.cuda`` is
monkeypatched, so these tests check the resolution, not a GPU run."""
from __future__ import annotations

import logging

import pytest
import torch
import yaml

from axonseg.cli.main import main
from axonseg.inference import PredictSettings
from axonseg.inference.predictor import resolve_auto_device
from tests.inference.helpers import write_model
from tests.inference.test_pipeline import make_input
from tests.inference.test_predict_defects import FLAGS

CONFIG = __import__("pathlib").Path(__file__).resolve().parents[2] / "configs" / "predict.yaml"


def _gpu(monkeypatch, present: bool) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: present)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda index=0: "Fake GPU 80GB")


def test_the_default_device_is_auto_in_the_settings_and_the_shipped_config():
    assert PredictSettings().device == "auto"
    assert yaml.safe_load(CONFIG.read_text())["device"] == "auto"


@pytest.mark.parametrize("present, expected", [(True, "cuda"), (False, "cpu")])
def test_auto_resolves_to_cuda_only_when_torch_sees_a_gpu(monkeypatch, caplog, present, expected):
    _gpu(monkeypatch, present)
    with caplog.at_level(logging.INFO, logger="axonseg"):
        assert resolve_auto_device("auto") == expected
    assert f"device {expected}" in caplog.text and "--device auto" in caplog.text
    assert ("Fake GPU 80GB" in caplog.text) is present


@pytest.mark.parametrize("given", ["cpu", "cuda", "cuda:1"])
def test_an_explicit_device_is_kept_whatever_torch_sees(monkeypatch, given):
    _gpu(monkeypatch, not given.startswith("cuda"))
    assert resolve_auto_device(given, log=False) == given


def test_predict_resolves_auto_before_checking_the_runtime(tmp_path, monkeypatch, capsys):
    """With a (fake) GPU, the default device becomes cuda before the settings are checked: a CPU-only
    runtime is refused for cuda, naming it, and nothing is written."""
    _gpu(monkeypatch, True)
    model = write_model(tmp_path / "m.pth", patch=(16, 16, 16), pools=2)
    src = make_input(tmp_path / "in.zarr", (16, 32, 32))
    out = tmp_path / "out"
    assert main(["predict", str(src), str(model), str(out), "--runtime", "onnxruntime", *FLAGS]) != 0
    assert "device cuda" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a CUDA GPU")
def test_predict_without_gpu_runs_on_cpu_and_records_it(tmp_path, caplog):
    model = write_model(tmp_path / "m.pth", patch=(16, 16, 16), pools=2)
    src = make_input(tmp_path / "in.zarr", (16, 32, 32))
    out = tmp_path / "out"
    with caplog.at_level(logging.INFO, logger="axonseg"):
        assert main(["predict", str(src), str(model), str(out), *FLAGS]) == 0
    assert "device cpu (--device auto: torch sees no CUDA GPU)" in caplog.text
    assert '"device": "cpu"' in (out / "run.json").read_text()
